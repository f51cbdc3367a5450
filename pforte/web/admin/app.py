"""The admin API (``/api/admin/v1``): a FastAPI app for its OpenAPI document and console.

Its errors are RFC 9457 problem+json; the protocol endpoints (RFC 6749 errors) live elsewhere.
The console's Swagger UI assets are served from the package: no CDN.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from pforte import __version__
from pforte.services.context import Context
from pforte.web import problems
from pforte.web.admin import api_keys, clients, guide, keys, openapi, secrets, tenants
from pforte.web.admin.guard import AdminGuard

PREFIX = "/api/admin/v1"
STATIC = Path(__file__).resolve().parent.parent / "static"

DESCRIPTION = """
Manage tenants (and their signing keys), API clients and their credentials.

Authenticate with **Authorize** → an API key (`pfk_…`) sent as `Authorization: Bearer <key>`.
Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`.
Lists page with `?limit=&cursor=`; the response's `next` is the cursor of the next page.
"""


def create_admin_app(ctx: Context) -> ASGIApp:
    app = FastAPI(
        title="Pforte admin API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,
    )
    app.state.ctx = ctx
    problems.install(app)
    for module in (tenants, keys, clients, secrets, api_keys, guide):
        app.include_router(module.router)
    openapi.install(app, page_size_max=ctx.settings.page_size_max)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def console(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="Pforte admin API — console",
            swagger_js_url=f"{root}/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    return AdminGuard(app, max_body_bytes=ctx.settings.max_body_bytes, body_timeout=ctx.settings.body_timeout)
