"""The platform's APIs as ASGI apps, and their one console (DESIGN.md §7).

Each API (``domain.apis``) is a FastAPI app of its own, with its own OpenAPI document at
``{prefix}/openapi.json``, RFC 9457 errors and the admin API's guard (trailing slashes, JSON
bodies, body limits). ``/api/docs`` serves Swagger UI from the package with every API in its
selector; ``{prefix}/docs`` leads there with that API selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import orjson
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from pforte import __version__
from pforte.domain.apis import APIS, CONSOLE_PATH, Api
from pforte.services.context import Context
from pforte.web import problems
from pforte.web.admin import openapi
from pforte.web.admin.guard import AdminGuard

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/static/swagger-ui"

# No script but our own file; Swagger UI sets inline styles, and shows data: images.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_api_app(
    ctx: Context, api: Api, *, description: str, routers: Sequence[APIRouter], versioned: frozenset[str]
) -> ASGIApp:
    """One API: its routes, its document (``admin.openapi``) and the guard in front."""
    app = FastAPI(
        title=f"Pforte {api.title}",
        version=__version__,
        description=description,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,
    )
    app.state.ctx = ctx
    problems.install(app)
    for router in routers:
        app.include_router(router)
    openapi.install(app, page_size_max=ctx.settings.page_size_max, versioned=versioned)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs(_request: Request) -> Response:
        return RedirectResponse(f"{CONSOLE_PATH}?urls.primaryName={quote(api.name, safe='/')}")

    return AdminGuard(app, max_body_bytes=ctx.settings.max_body_bytes, body_timeout=ctx.settings.body_timeout)


def console_page(request: Request, apis: Sequence[Api]) -> Response:
    """Swagger UI with every API in its selector. ``?urls.primaryName=`` picks one; the hash
    ``#clientId=…&tokenUrl=…`` pre-fills the client-credentials sign-in (``pforte-console.js``,
    which accepts only this origin's token endpoints: a link cannot send a secret elsewhere)."""
    root = request.scope.get("root_path", "")
    urls = [{"name": api.name, "url": f"{root}{api.openapi_url}"} for api in apis]
    config = orjson.dumps({"urls": urls}).decode()
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pforte API console</title>
<link rel="icon" href="{root}{ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="{root}{ASSETS}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-config='{config.replace("'", "&#39;")}'></main>
<script src="{root}{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{root}{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="{root}{ASSETS}/pforte-console.js"></script>
</body>
</html>
"""
    headers = {"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-cache"}
    return HTMLResponse(html, headers=headers)


def routes(mounts: Sequence[tuple[Api, ASGIApp]]) -> list[Route | Mount]:
    """The console page and a mount per API, in the selector's order (``domain.apis.APIS``)."""
    mounts = sorted(mounts, key=lambda mount: APIS.index(mount[0]))
    served = [api for api, _app in mounts]

    async def console(request: Request) -> Response:
        return console_page(request, served)

    return [
        Route(CONSOLE_PATH, console, methods=["GET"]),
        *(Mount(api.prefix, app=app) for api, app in mounts),
    ]
