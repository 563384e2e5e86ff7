"""``contango serve``: the API (and its embedded job runner) on this machine.

On the embedded defaults it needs nothing: the metadata database is a SQLite file in the data
folder, migrated on start, and the first start creates an admin account and prints its password
once. Production settings come from ``CONTANGO_*`` environment variables (see the README).
"""

from __future__ import annotations

import asyncio
from multiprocessing.process import BaseProcess

from contango.cli.console import fail, out
from contango.settings import Settings, get_settings


async def _prepare(settings: Settings) -> tuple[str, str | None]:
    """Migrate the database and make sure an admin exists; (admin email, new password|None)."""
    from contango.services.accounts import ensure_admin
    from contango.services.context import open_context

    context = await open_context(settings)
    try:
        return await ensure_admin(context)
    finally:
        await context.close()


def start_warm_up(settings: Settings) -> BaseProcess:
    """Compile the engine's kernels in a background process (see ``contango.services.warmup``);
    a daemon, so it ends with the server. The process reads the store of ``CONTANGO_DATA_DIR``
    (spawned, it reads its settings from the environment, as this process did)."""
    import multiprocessing

    from contango.services.warmup import warm_in_background

    process = multiprocessing.get_context("spawn").Process(
        target=warm_in_background,
        args=(settings.log_level, settings.log_format),
        name="contango-warm-up",
        daemon=True,
    )
    process.start()
    return process


def serve(host: str | None, port: int | None, forwarded_allow_ips: str) -> None:
    """Start the API server with its job runner; the first start creates an admin account.

    ``forwarded_allow_ips`` names the proxies trusted to report the client address, which login
    throttling keys on: behind an untrusted proxy every user would share one address.
    """
    import uvicorn

    from contango.api.app import create_app
    from contango.observability.logs import configure_logging

    settings = get_settings()
    try:
        email, password = asyncio.run(_prepare(settings))
    except (OSError, ValueError) as error:
        raise fail(
            f"cannot open the metadata database {settings.metadata_url}: {error}", 2
        ) from None
    address = f"http://{host or settings.host}:{port or settings.port}"
    out.print(f"Contango API on {address}  (documentation: {address}/api/docs)")
    if password is not None:
        out.print(
            f"First start: an admin account was created. Log in as [bold]{email}[/bold] with "
            f"password [bold]{password}[/bold] (shown only now; change it in the web app "
            f"at {address}/account/security, or with POST /api/v1/auth/password)."
        )
    else:
        out.print(f"Admin account: {email}")
    configure_logging(settings.log_level, settings.log_format)
    if settings.warm_up and settings.job_backend == "local":  # Celery workers run elsewhere
        start_warm_up(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=None,
        server_header=False,
    )
