"""What the change feed (``services.feed``) says about itself: whether it is listening, and
when it last knew this process's caches to be up to date — for the readiness probe and the
``pforte_feed_*`` metrics.

*Heard* is the moment the feed last confirmed that nothing committed before it is still on its
way: on SQLite each completed poll of the feed table (every ``POLL_INTERVAL``), on PostgreSQL
each notification and each keep-alive round trip on the LISTEN connection (a notification
committed before the round trip arrives before its answer). ``lag()`` — the time since — is
therefore how stale this process's caches may at most be, beyond the delivery itself: ~0.25 s
(SQLite) or ~0.5 s (PostgreSQL) when all is well, growing without bound when the feed is stuck.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

STALE_AFTER = 10.0  # seconds without hearing from the feed before readiness fails


@dataclass(slots=True)
class FeedState:
    listening: bool = False
    heard_at: float = field(default_factory=time.monotonic)  # the process's start until first heard

    def heard(self) -> None:
        self.listening = True
        self.heard_at = time.monotonic()

    def lost(self) -> None:
        self.listening = False

    def lag(self) -> float:
        return time.monotonic() - self.heard_at

    def problem(self) -> str | None:
        """Why the feed cannot be trusted now, or None."""
        if not self.listening:
            return "not listening"
        lag = self.lag()
        if lag > STALE_AFTER:
            return f"stale: last heard {lag:.1f} s ago"
        return None
