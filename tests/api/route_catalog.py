"""Every route of the API and who may call it, written out by hand from reading the routers.

The RBAC, audit and fuzz tests check the running application against this one table: a route
that is not listed here fails them, so a new endpoint cannot slip in without someone deciding
who may call it. The table says what the route *should* require; :func:`declared_access` reads
what the route *does* require from its FastAPI dependencies, and the matrix test compares both
with ``rbac.PERMISSIONS`` and with the answers of the running app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from contango.auth.rbac import PERMISSIONS, Permission, Role

PUBLIC: Literal["public"] = "public"  # no authentication at all (login, probes, the schema)
AUTHENTICATED: Literal["authenticated"] = "authenticated"  # any signed-in role (own account)
Access = Permission | Literal["public", "authenticated"]
RouteKey = tuple[str, str]  # (method, path template)

V1 = "/api/v1"
P = Permission

ROUTES: dict[RouteKey, Access] = {
    # documentation, probes and metrics: outside /api/v1, no authentication
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    # signing in is what a caller without a token does
    ("POST", f"{V1}/auth/login"): PUBLIC,
    ("POST", f"{V1}/auth/mfa/verify"): PUBLIC,
    ("POST", f"{V1}/auth/refresh"): PUBLIC,
    ("GET", f"{V1}/auth/oidc/config"): PUBLIC,
    ("GET", f"{V1}/auth/oidc/login"): PUBLIC,
    ("GET", f"{V1}/auth/oidc/callback"): PUBLIC,
    # the caller's own account: every role
    ("POST", f"{V1}/auth/logout"): AUTHENTICATED,
    ("GET", f"{V1}/auth/me"): AUTHENTICATED,
    ("POST", f"{V1}/auth/reauth"): AUTHENTICATED,
    ("POST", f"{V1}/auth/mfa/enroll"): AUTHENTICATED,
    ("POST", f"{V1}/auth/mfa/confirm"): AUTHENTICATED,
    ("POST", f"{V1}/auth/mfa/disable"): AUTHENTICATED,
    ("POST", f"{V1}/auth/password"): AUTHENTICATED,
    # administration
    ("GET", f"{V1}/users/teams"): P.USERS_READ,
    ("POST", f"{V1}/users/teams"): P.USERS_MANAGE,
    ("GET", f"{V1}/users"): P.USERS_READ,
    ("POST", f"{V1}/users"): P.USERS_MANAGE,
    ("GET", f"{V1}/users/{{user_id}}"): P.USERS_READ,
    ("PATCH", f"{V1}/users/{{user_id}}"): P.USERS_MANAGE,
    ("POST", f"{V1}/users/{{user_id}}/reset-mfa"): P.USERS_MANAGE,
    # reference data
    ("GET", f"{V1}/contracts"): P.CONTRACTS_READ,
    ("GET", f"{V1}/contracts/{{root}}"): P.CONTRACTS_READ,
    ("GET", f"{V1}/contracts/{{root}}/chain"): P.CONTRACTS_READ,
    ("GET", f"{V1}/contracts/{{root}}/contracts/{{symbol}}"): P.CONTRACTS_READ,
    # market data
    ("GET", f"{V1}/datasets"): P.DATASETS_READ,
    ("GET", f"{V1}/datasets/{{name}}"): P.DATASETS_READ,
    ("GET", f"{V1}/datasets/{{name}}/versions/{{version}}"): P.DATASETS_READ,
    ("GET", f"{V1}/datasets/{{name}}/bars"): P.DATASETS_READ,
    ("POST", f"{V1}/datasets"): P.DATASETS_UPLOAD,
    ("POST", f"{V1}/datasets/validate"): P.DATASETS_UPLOAD,
    ("POST", f"{V1}/continuous"): P.CONTINUOUS_BUILD,
    ("GET", f"{V1}/continuous"): P.CONTINUOUS_READ,
    ("GET", f"{V1}/continuous/{{series_id}}"): P.CONTINUOUS_READ,
    # strategies
    ("GET", f"{V1}/strategies/templates"): P.STRATEGIES_READ,
    ("GET", f"{V1}/strategies/templates/{{name}}"): P.STRATEGIES_READ,
    ("GET", f"{V1}/strategies/custom"): P.STRATEGIES_READ,
    ("POST", f"{V1}/strategies/custom"): P.STRATEGIES_CODE,
    ("GET", f"{V1}/strategies/custom/{{strategy_id}}"): P.STRATEGIES_READ,
    ("PATCH", f"{V1}/strategies/custom/{{strategy_id}}"): P.STRATEGIES_CODE,
    ("DELETE", f"{V1}/strategies/custom/{{strategy_id}}"): P.STRATEGIES_CODE,
    # backtests
    ("POST", f"{V1}/backtests"): P.BACKTESTS_RUN,
    ("GET", f"{V1}/backtests"): P.BACKTESTS_READ,
    ("GET", f"{V1}/backtests/{{job_id}}"): P.BACKTESTS_READ,
    ("POST", f"{V1}/backtests/{{job_id}}/cancel"): P.BACKTESTS_CANCEL,
    ("GET", f"{V1}/backtests/{{job_id}}/metrics"): P.BACKTESTS_READ,
    ("GET", f"{V1}/backtests/{{job_id}}/equity"): P.BACKTESTS_READ,
    ("GET", f"{V1}/backtests/{{job_id}}/monthly-returns"): P.BACKTESTS_READ,
    ("GET", f"{V1}/backtests/{{job_id}}/tables/{{table}}.csv"): P.BACKTESTS_READ,
    ("GET", f"{V1}/backtests/{{job_id}}/tables/{{table}}"): P.BACKTESTS_READ,
    # sweeps and walk-forward: run with research.run, read like backtests, cancel like them
    ("POST", f"{V1}/sweeps"): P.RESEARCH_RUN,
    ("GET", f"{V1}/sweeps"): P.BACKTESTS_READ,
    ("GET", f"{V1}/sweeps/{{job_id}}"): P.BACKTESTS_READ,
    ("POST", f"{V1}/sweeps/{{job_id}}/cancel"): P.BACKTESTS_CANCEL,
    ("GET", f"{V1}/sweeps/{{job_id}}/ranked.csv"): P.BACKTESTS_READ,
    ("GET", f"{V1}/sweeps/{{job_id}}/ranked"): P.BACKTESTS_READ,
    ("GET", f"{V1}/sweeps/{{job_id}}/diagnostics"): P.BACKTESTS_READ,
    ("POST", f"{V1}/walkforward"): P.RESEARCH_RUN,
    ("GET", f"{V1}/walkforward"): P.BACKTESTS_READ,
    ("GET", f"{V1}/walkforward/{{job_id}}"): P.BACKTESTS_READ,
    ("POST", f"{V1}/walkforward/{{job_id}}/cancel"): P.BACKTESTS_CANCEL,
    ("GET", f"{V1}/walkforward/{{job_id}}/summary"): P.BACKTESTS_READ,
    ("GET", f"{V1}/walkforward/{{job_id}}/windows"): P.BACKTESTS_READ,
    ("GET", f"{V1}/walkforward/{{job_id}}/oos-equity"): P.BACKTESTS_READ,
    # the audit log: one permission per action
    ("GET", f"{V1}/audit/entries"): P.AUDIT_READ,
    ("GET", f"{V1}/audit/verify"): P.AUDIT_VERIFY,
    ("GET", f"{V1}/audit/export"): P.AUDIT_EXPORT,
    # job progress over WebSocket: the handler checks the token (query or cookie) and the
    # permission itself, since browsers cannot send headers on a WebSocket
    ("WS", f"{V1}/ws/jobs/{{job_id}}"): P.BACKTESTS_READ,
}

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def app_routes(app: FastAPI) -> dict[RouteKey, Any]:
    """Every (method, path) the app answers (HEAD aside: Starlette adds it to each GET)."""
    found: dict[RouteKey, Any] = {}
    for route in iter_route_contexts(app.routes):
        # a WebSocket route has no HTTP methods: it is listed as "WS", so it cannot hide
        for method in sorted(route.methods or {"WS"}):
            if method == "HEAD":
                continue
            key = (method, str(route.path))
            assert key not in found, f"two routes answer {method} {route.path}"
            found[key] = route
    return found


def _dependency_names(dependant: Any) -> Iterator[str]:
    for dependency in dependant.dependencies:
        yield getattr(dependency.call, "__name__", "")
        yield from _dependency_names(dependency)


def declared_access(route: Any) -> Access:
    """What the route's dependencies demand: a permission, any login, or nothing."""
    dependant = getattr(route, "dependant", None)
    names = list(_dependency_names(dependant)) if dependant is not None else []
    required = {
        Permission[n.removeprefix("require_").upper()] for n in names if n.startswith("require_")
    }
    assert len(required) <= 1, f"{route.path} requires several permissions: {sorted(required)}"
    if required:
        return required.pop()
    return AUTHENTICATED if "current_principal" in names else PUBLIC


def allowed_roles(access: Access) -> frozenset[Role]:
    """The roles the matrix lets through ``access``."""
    if access in (PUBLIC, AUTHENTICATED):
        return frozenset(Role)
    return frozenset(role for role in Role if access in PERMISSIONS[role])


def fill(path: str, **values: str) -> str:
    """``path`` with its ``{name}`` placeholders replaced."""
    return path.format(**values)
