"""The Event API (DESIGN.md §7): ``GET /tenants/{tenant}/events`` — ``events:read``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from pforte.domain.event_log import TYPE_PATTERN, EventFilter
from pforte.domain.ids import CLIENT_ID_PATTERN, UUID_PATTERN
from pforte.services import event_log as service
from pforte.web.deps import ContextDep, Cursor, Limit, PrincipalDep, TenantRef
from pforte.web.events_api.schemas import EventPage, EventPublic

router = APIRouter(prefix="/tenants/{tenant}/events", tags=["events"])

# Declared as a pattern, checked by the domain (``event_log.check_client_filter``: 422).
ClientIdFilter = Annotated[
    str | None,
    Query(
        alias="clientId", description="this client's only", json_schema_extra={"pattern": CLIENT_ID_PATTERN}
    ),
]


@router.get("", response_model=EventPage)
async def list_events(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    type_: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="event names (`user.signed_in`) or prefixes ending in a dot (`user.`); "
            "repeat the parameter or separate with commas: any of them",
            json_schema_extra={"pattern": TYPE_PATTERN},
        ),
    ] = None,
    client_id: ClientIdFilter = None,
    user_id: Annotated[
        str | None,
        Query(
            alias="userId",
            description="events of this user (their id)",
            json_schema_extra={"pattern": f"^{UUID_PATTERN}$"},
        ),
    ] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="inclusive; RFC 3339 with a time zone")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="exclusive; RFC 3339 with a time zone")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> EventPage:
    """The tenant's events, newest first: admin changes, sign-ins, tokens issued at `/token`,
    failed client authentications and expiry warnings (docs/events.md)."""
    wanted = EventFilter(tuple(type_ or ()), client_id, user_id, since, until)
    page = await service.list_events(ctx, principal, tenant, wanted, cursor=cursor, limit=limit)
    return EventPage(items=[EventPublic.model_validate(e) for e in page.items], next=page.next)
