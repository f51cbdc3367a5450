"""A tenant as the services hand it out (DESIGN.md §2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Tenant:
    id: uuid.UUID
    slug: str  # the issuer path: {PFORTE_PUBLIC_URL}/t/{slug}
    display_name: str
    signing_alg: str
    created_at: datetime
    updated_at: datetime
    version: int  # raised by every change; the ETag (If-Match detects lost updates)
