"""Event API and Metric API models (DESIGN.md §7): camelCase on the wire, outgoing only."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import Field

from pforte.web.admin.schemas import Outgoing


class EventPublic(Outgoing):
    id: uuid.UUID = Field(description="a UUIDv7: ordered by time")
    type: str = Field(description="the event's name, `noun.past_verb` (docs/events.md)")
    created_at: datetime
    actor: str = Field(description="who: `api_key:<id>`, `client:<clientId>`, `user:<id>`, `system:pforte`…")
    actor_client_id: str | None
    target_type: str
    target_id: str
    client_id: str | None = Field(description="the client the event concerns, if any")
    user_id: uuid.UUID | None = Field(description="the user the event concerns, if any")
    changes: dict[str, Any] = Field(description="what changed; never a secret, key or password")
    request_id: str | None = Field(description="the X-Request-ID of the request that caused it")


class EventPage(Outgoing):
    items: list[EventPublic]
    next: str | None = Field(description="cursor of the next (older) page; null on the last page")


class DailyCountsPublic(Outgoing):
    day: date = Field(description="a UTC day")
    client_id: str | None = Field(description="null: failed sign-ins whose request named no client")
    tokens_issued: int
    failed_client_authentications: int
    sign_ins: int
    sign_in_failures: int
    active_users: int = Field(description="distinct users who signed in or got a user's token")


class DailyTotalPublic(Outgoing):
    day: date
    tokens_issued: int
    failed_client_authentications: int
    sign_ins: int
    sign_in_failures: int
    active_users: int = Field(
        description="distinct users of the tenant: one active at two clients counts once"
    )


class DailyPage(Outgoing):
    items: list[DailyCountsPublic] = Field(description="per day and client, where anything was counted")
    totals: list[DailyTotalPublic] = Field(description="the tenant's, for every day of the range")
