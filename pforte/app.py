"""create_app(settings): the ASGI application — routes, middleware, lifespan."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from pforte.domain.apis import ADMIN, CONSOLE_PATH, EVENTS, METRICS, USERS
from pforte.domain.oauth.errors import MethodNotAllowed
from pforte.domain.oauth.errors import NotFound as OAuthNotFound
from pforte.observability import RequestLogMiddleware, configure_logging, flush_logs
from pforte.services import feed
from pforte.services.context import Context
from pforte.services.event_retention import run_event_retention
from pforte.services.expiry_warnings import run_expiry_warnings
from pforte.services.key_rotation import run_key_rotation
from pforte.settings import Settings, load_settings
from pforte.web import apis
from pforte.web.admin.app import create_admin_app
from pforte.web.consoles import account, client_tabs, people
from pforte.web.consoles import admin as admin_console
from pforte.web.events_api.app import create_events_app, create_metrics_app
from pforte.web.health import healthz, live, ready
from pforte.web.metrics import MetricsEndpoint, RequestMetrics
from pforte.web.problems import problem
from pforte.web.protocol import authorize
from pforte.web.protocol.cors import CorsMiddleware
from pforte.web.protocol.discovery import discovery
from pforte.web.protocol.form_dispatch import ENDPOINTS, FormDispatch, route
from pforte.web.protocol.jwks import jwks
from pforte.web.protocol.responses import protocol_error
from pforte.web.protocol.userinfo import userinfo
from pforte.web.users_api.app import create_users_app


def _protocol_path(request: Request) -> bool:
    """Below a tenant's issuer, the protocol family of errors answers (CONVENTIONS §2.4)."""
    return request.url.path.startswith("/t/")


async def not_found(request: Request, _exc: Exception) -> Response:
    if _protocol_path(request):
        return protocol_error(OAuthNotFound("no such endpoint"))
    return problem("not-found", "no such resource")


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    allow = (exc.headers or {}).get("Allow", "") if isinstance(exc, HTTPException) else ""
    allow = ", ".join(sorted(m.strip() for m in allow.split(",") if m.strip()))  # Starlette's is a set
    if _protocol_path(request):
        return protocol_error(MethodNotAllowed(allow))
    return PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": allow})


async def favicon(_request: Request) -> Response:
    """No icon, said without an error (a browser asks every page's origin for one)."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


async def home(_request: Request) -> Response:
    return RedirectResponse(CONSOLE_PATH)


def create_app(settings: Settings, ctx: Context | None = None) -> ASGIApp:
    """Build the app; the database schema must already be migrated (``pforte serve`` does it)."""
    context = ctx or Context.create(settings)
    operators = [
        Route("/health/live", live, methods=["GET"]),
        Route("/health/ready", ready, methods=["GET"]),
        Route("/healthz", healthz),
    ]
    metrics = None
    if context.counts is not None and settings.metrics_token is not None:
        metrics = MetricsEndpoint(context, context.counts, settings.metrics_token.get_secret_value())
        operators.append(Route("/metrics", metrics.endpoint, methods=["GET"]))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # What exists now lives as long as the process: keep it out of every future collection.
        gc.collect()
        gc.freeze()
        publishing = contextlib.nullcontext() if metrics is None else metrics.publishing()
        async with (
            feed.running(context, run_key_rotation, run_event_retention, run_expiry_warnings),
            publishing,
        ):
            yield
        await context.backchannel.close()
        for throttle in (context.throttle, context.sign_in_throttle, context.address_throttle):
            await throttle.close()
        flush_logs()
        if ctx is None:  # we made it, we close it
            await context.db.dispose()

    app = Starlette(
        routes=[
            Route("/", home),
            *operators,
            Route("/favicon.ico", favicon, methods=["GET"]),
            Route("/t/{slug}/jwks", jwks, methods=["GET"]),
            Route("/t/{slug}/authorize", authorize.authorize, methods=["GET", "POST"]),
            Route("/t/{slug}/sign-in", authorize.sign_in, methods=["POST"]),
            Route("/t/{slug}/password", authorize.password, methods=["POST"]),
            Route("/t/{slug}/consent", authorize.consent, methods=["POST"]),
            Route("/t/{slug}/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/t/{slug}/logout", authorize.logout, methods=["GET", "POST"]),
            Route("/t/{slug}/account", account.home, methods=["GET"]),
            Route("/t/{slug}/account/", account.home, methods=["GET"]),
            Route("/t/{slug}/account/callback", account.callback, methods=["GET"]),
            Route("/t/{slug}/account/withdraw", account.withdraw, methods=["POST"]),
            Route("/t/{slug}/account/sign-out", account.sign_out, methods=["POST"]),
            Route("/admin", admin_console.root, methods=["GET"]),
            Route("/admin/", admin_console.root, methods=["GET"]),
            Route("/t/{slug}/admin", admin_console.home, methods=["GET"]),
            Route("/t/{slug}/admin/", admin_console.home, methods=["GET"]),
            Route("/t/{slug}/admin/callback", admin_console.callback, methods=["GET"]),
            Route("/t/{slug}/admin/tenants", people.tenants, methods=["GET", "POST"]),
            Route("/t/{slug}/admin/sign-out", admin_console.sign_out, methods=["POST"]),
            Route("/t/{slug}/admin/{tenant}/applications", admin_console.applications, methods=["GET"]),
            Route("/t/{slug}/admin/{tenant}/applications/bulk", admin_console.bulk, methods=["POST"]),
            Route("/t/{slug}/admin/{tenant}/applications/new", admin_console.catalogue, methods=["GET"]),
            Route("/t/{slug}/admin/{tenant}/users", people.users, methods=["GET", "POST"]),
            Route("/t/{slug}/admin/{tenant}/users/{user_id}", people.user, methods=["GET", "POST"]),
            Route("/t/{slug}/admin/{tenant}/roles", people.roles, methods=["GET", "POST"]),
            Route("/t/{slug}/admin/{tenant}/events", people.events, methods=["GET"]),
            Route(
                "/t/{slug}/admin/{tenant}/applications/new/{kind}",
                admin_console.new_application,
                methods=["GET", "POST"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}",
                admin_console.application,
                methods=["GET", "POST"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}/guide",
                client_tabs.guide,
                methods=["GET"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}/roles",
                client_tabs.client_roles,
                methods=["GET", "POST"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}/activity",
                client_tabs.activity,
                methods=["GET"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}/{kind}",
                client_tabs.page,
                methods=["GET", "POST"],
            ),
            Route(
                "/t/{slug}/admin/{tenant}/applications/{client_id}/{kind}/revoke",
                client_tabs.revoke,
                methods=["POST"],
            ),
            Mount("/static", app=StaticFiles(directory=apis.STATIC), name="static"),
            Route("/t/{slug}/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/.well-known/oauth-authorization-server/t/{slug}", discovery, methods=["GET"]),
            *(Route(f"/t/{{slug}}/{name}", route(e), methods=["POST"]) for name, e in ENDPOINTS.items()),
            *apis.routes(
                [
                    (ADMIN, create_admin_app(context)),
                    (USERS, create_users_app(context)),
                    (EVENTS, create_events_app(context)),
                    (METRICS, create_metrics_app(context)),
                ]
            ),
        ],
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: method_not_allowed},
    )
    app.router.redirect_slashes = False
    app.state.ctx = context
    # The form endpoints (the hot path) are answered, logged and counted by the dispatcher in front.
    counted = app if context.counts is None else RequestMetrics(app, context.counts)
    logged = RequestLogMiddleware(counted, enabled=settings.access_log)
    return CorsMiddleware(FormDispatch(logged, context, access_log=settings.access_log), context)


def create_app_from_env() -> ASGIApp:
    """Factory for ``uvicorn --factory`` worker processes: settings from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, buffered=True)  # the serving process: lines off the loop
    return create_app(settings)
