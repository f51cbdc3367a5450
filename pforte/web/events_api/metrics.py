"""The Metric API (DESIGN.md §7): ``GET /tenants/{tenant}/daily`` — ``events:read``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pforte.domain.clock import utcnow
from pforte.domain.event_log import check_client_filter
from pforte.domain.metrics import DEFAULT_DAYS, RANGE_MAX_DAYS, DayRange, parse_day
from pforte.services import event_log as service
from pforte.web.deps import ContextDep, PrincipalDep, TenantRef
from pforte.web.events_api.events import ClientIdFilter
from pforte.web.events_api.schemas import DailyCountsPublic, DailyPage, DailyTotalPublic

router = APIRouter(prefix="/tenants/{tenant}/daily", tags=["metrics"])


@router.get("", response_model=DailyPage)
async def daily(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    first: Annotated[
        str | None,
        Query(
            alias="from",
            description=f"first UTC day, inclusive; default: {DEFAULT_DAYS} days up to `to`",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    last: Annotated[
        str | None,
        Query(
            alias="to",
            description=f"last UTC day, inclusive; default: today; at most {RANGE_MAX_DAYS} days",
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    client_id: ClientIdFilter = None,
) -> DailyPage:
    """Per UTC day and client: tokens issued, failed client authentications, sign-ins, failed
    sign-ins and active users; and the tenant's totals per day. Counted as it happens and
    written about once a second."""
    days = DayRange.of(parse_day(first, "from"), parse_day(last, "to"), utcnow().date())
    items, totals = await service.daily(
        ctx, principal, tenant, days, client_id=check_client_filter(client_id)
    )
    return DailyPage(
        items=[DailyCountsPublic.model_validate(i) for i in items],
        totals=[DailyTotalPublic.model_validate(t) for t in totals],
    )
