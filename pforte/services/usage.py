"""``lastUsedAt`` of client secrets without a database write per token request.

The token endpoint notes each use in memory; ``flush`` writes what was noted since the last
flush in one transaction. The change feed's loop flushes every 30 seconds and at shutdown, so
``lastUsedAt`` is at most a minute late.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pforte.store.engine import Database
from pforte.store.repos.credentials import SecretRepo

FLUSH_INTERVAL = 30.0


class SecretUsage:
    def __init__(self) -> None:
        self._pending: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}

    def note(self, tenant_id: uuid.UUID, secret_id: uuid.UUID, at: datetime) -> None:
        self._pending[(tenant_id, secret_id)] = at

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self, db: Database) -> int:
        """Write the noted uses; a secret deleted meanwhile is simply not found. Returns how many."""
        pending, self._pending = self._pending, {}
        if pending:
            uses = [(tenant_id, secret_id, at) for (tenant_id, secret_id), at in pending.items()]
            try:
                async with db.transaction() as session:
                    await SecretRepo(session).touch_many(uses)
            except BaseException:
                for key, at in pending.items():  # keep them for the next flush
                    self._pending.setdefault(key, at)
                raise
        return len(pending)
