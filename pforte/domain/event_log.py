"""What the Event API reads (DESIGN.md §7): a tenant's recorded events, filtered by type,
client, user and time, newest first.

A ``type`` entry is an event name (``user.signed_in``) or, ending in a dot, every name that
starts with it (``user.``). ``from`` is inclusive, ``to`` exclusive; both carry a time zone.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pforte.domain.errors import Invalid
from pforte.domain.ids import is_client_id
from pforte.domain.text import has_control

TYPE_RE = re.compile(r"[a-z][a-z_]{0,40}\.(?:[a-z][a-z_]{0,40})?")
TYPE_PATTERN = f"^{TYPE_RE.pattern}(?:,{TYPE_RE.pattern})*$"
TYPES_MAX = 20
# What a failed client authentication keeps of the client id it was sent (``sent_client_id``).
SENT_CLIENT_ID_MAX = 128


def check_client_filter(client_id: str | None) -> str | None:
    """A ``clientId`` filter: text no client id can be is 422, not an empty answer."""
    if client_id is not None and (has_control(client_id) or not is_client_id(client_id)):
        raise Invalid("clientId", "must match [A-Za-z0-9._~-]{1,128}")
    return client_id


@dataclass(frozen=True, slots=True)
class EventFilter:
    types: tuple[str, ...] = ()
    client_id: str | None = None
    user_id: str | None = None
    since: datetime | None = None  # ``from``: inclusive
    until: datetime | None = None  # ``to``: exclusive

    def checked(self) -> EventFilter:
        """The filter with ``types`` split at commas; ``Invalid`` (422) for a value no event can
        match — before any query sees it (PostgreSQL refuses NUL)."""
        types = tuple(part.strip() for entry in self.types for part in entry.split(","))
        if len(types) > TYPES_MAX:
            raise Invalid("type", f"at most {TYPES_MAX} types")
        for name in types:
            if TYPE_RE.fullmatch(name) is None:
                raise Invalid("type", "an event name (user.signed_in) or a prefix ending in '.' (user.)")
        check_client_filter(self.client_id)
        user_id = self.user_id
        if user_id is not None:
            try:
                user_id = str(uuid.UUID(user_id)) if len(user_id) <= 36 else ""
            except ValueError:
                user_id = ""
            if not user_id:
                raise Invalid("userId", "must be a user id (a UUID)")
        for field, moment in (("from", self.since), ("to", self.until)):
            if moment is not None and moment.tzinfo is None:
                raise Invalid(field, "must be a date-time with a time zone, e.g. 2026-12-06T10:00:00Z")
        return EventFilter(types, self.client_id, user_id, self.since, self.until)

    @property
    def names(self) -> list[str]:
        return [t for t in self.types if not t.endswith(".")]

    @property
    def prefixes(self) -> list[str]:
        return [t for t in self.types if t.endswith(".")]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    id: uuid.UUID
    type: str
    created_at: datetime
    actor: str
    actor_client_id: str | None
    target_type: str
    target_id: str
    client_id: str | None
    user_id: uuid.UUID | None
    changes: dict[str, Any]
    request_id: str | None


def sent_client_id(value: str) -> str:
    """A client id as a failed authentication sent it, fit to record: control characters
    stripped, at most ``SENT_CLIENT_ID_MAX`` characters."""
    return "".join(c for c in value[: SENT_CLIENT_ID_MAX * 2] if not has_control(c))[:SENT_CLIENT_ID_MAX]
