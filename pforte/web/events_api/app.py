"""The Event API (``/api/events/v1``) and the Metric API (``/api/metrics/v1``), DESIGN.md §7."""

from __future__ import annotations

from starlette.types import ASGIApp

from pforte.domain.apis import EVENTS, METRICS
from pforte.services.context import Context
from pforte.web.apis import create_api_app
from pforte.web.events_api import events, metrics

AUTHENTICATION = """
Authenticate with **Authorize**: an API key (`pfk_…`) or an access token as `Authorization: Bearer …`,
or the client credentials sign-in with a client of your tenant holding `events:read`.
Errors are RFC 9457 `application/problem+json`.
"""

EVENTS_DESCRIPTION = f"""
The events of a tenant (`events:read`), newest first: every admin change, sign-ins and failed
sign-ins, each access token issued at `/token` (`token.issued`), each failed client
authentication (`client.authentication_failed`) and expiry warnings of secrets and API keys.
Filter by `type` (names, or prefixes ending in `.`), `clientId`, `userId` and `from`/`to`;
pages with `?limit=&cursor=` (keyset: a late page costs what the first does).
`token.issued` and `client.authentication_failed` are written in batches about once a second.
{AUTHENTICATION}"""

METRICS_DESCRIPTION = f"""
Daily counts of a tenant (`events:read`), per UTC day and client: tokens issued, failed client
authentications, sign-ins, failed sign-ins and active users; and the tenant's totals per day.
They are counted as things happen (not computed from events) and written about once a second.
{AUTHENTICATION}"""


def create_events_app(ctx: Context) -> ASGIApp:
    return create_api_app(
        ctx, EVENTS, description=EVENTS_DESCRIPTION, routers=[events.router], versioned=frozenset()
    )


def create_metrics_app(ctx: Context) -> ASGIApp:
    return create_api_app(
        ctx, METRICS, description=METRICS_DESCRIPTION, routers=[metrics.router], versioned=frozenset()
    )
