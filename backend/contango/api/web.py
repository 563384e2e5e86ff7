"""The analysts' web app, served by the API process from its production build.

``frontend/dist`` (built by ``npm run build``) is served at ``/``: its hashed assets under
``/assets``, and ``index.html`` for ``/`` and for any other browser navigation (a GET for an
HTML page outside the API that matches nothing), so that the app's own routes
(``/backtests/<id>``) survive a reload. Everything else not found stays a problem-details 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

API_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/docs/")
NO_BUILD = """<!doctype html><title>Contango</title>
<h1>Contango API</h1><p>The web app is not built: run <code>make web</code>.
The API documentation is at <a href="/api/docs">/api/docs</a>.</p>"""


class WebApp:
    """The built app in ``dist`` (or a note saying how to build it)."""

    def __init__(self, dist: Path | None) -> None:
        index = dist / "index.html" if dist is not None else None
        self.index = index if index is not None and index.is_file() else None

    def page(self) -> Response:
        """The app's page (the note without a build); never cached, its assets are."""
        if self.index is None:
            return HTMLResponse(NO_BUILD)
        return FileResponse(self.index, headers={"Cache-Control": "no-cache"})

    def serves(self, request: Request) -> bool:
        """Whether a request that found nothing is a browser navigation of the app: a GET
        outside the API that asks for a page (dotted app routes such as a dataset's name
        reload too, while a missing file, asked for as anything but HTML, stays a 404)."""
        path = request.url.path
        wants_page = "text/html" in request.headers.get("accept", "")
        return request.method == "GET" and wants_page and not path.startswith(API_PATHS)


def mount_web_app(app: FastAPI, dist: Path | None) -> WebApp:
    """Serve the build at ``/`` and its assets; the 404 handler asks :meth:`WebApp.serves`."""
    web = WebApp(dist)
    if web.index is not None and (web.index.parent / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=web.index.parent / "assets"), name="assets")

    @app.get("/", include_in_schema=False)
    async def web_root() -> Response:
        return web.page()

    app.state.web = web
    return web
