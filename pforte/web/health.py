"""``/health/live``, ``/health/ready`` (and the older ``/healthz``): probes for operators and
orchestrators, unauthenticated, never cached, and never naming more than a check's verdict
(``services.health``)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pforte.services import health
from pforte.services.context import Context

NO_STORE = {"Cache-Control": "no-store"}


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=NO_STORE)


async def live(_request: Request) -> Response:
    """The process serves: nothing else is asked."""
    return _json({"status": "ok"})


async def ready(request: Request) -> Response:
    """200 when every check passes; 503 naming each check's verdict otherwise."""
    ctx: Context = request.app.state.ctx
    checks = await health.readiness(ctx)
    if all(verdict == health.OK for verdict in checks.values()):
        return _json({"status": "ok", "checks": checks})
    return _json({"status": "unavailable", "checks": checks}, 503)


async def healthz(request: Request) -> Response:
    """The first probe: the database answers (no migration or feed check)."""
    ctx: Context = request.app.state.ctx
    if await health.database_reachable(ctx):
        return _json({"status": "ok"})
    return _json({"status": "unavailable"}, 503)
