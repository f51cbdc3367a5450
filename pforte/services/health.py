"""Liveness and readiness of this process, for ``/health/live``, ``/health/ready`` and
``/healthz``.

Ready means three checks pass, each named in the answer:

- ``database``: a connection is made and answers within ``TIMEOUT`` seconds;
- ``migrations``: the database's Alembic revision is the code's head (``store.revision``);
- ``feed``: the change feed is listening and was heard from lately (``services.feed_state``) —
  without it, changes made through other processes would not reach this one's caches.

A failed check says what failed in words fit for an operator (``behind: db 0005, code 0007``),
never the database's URL, host or error text.
"""

from __future__ import annotations

import asyncio

from pforte.observability import log
from pforte.services.context import Context
from pforte.store.revision import code_revisions, database_revision

OK = "ok"
TIMEOUT = 3.0  # seconds for the database checks (a probe must answer before its own timeout)


async def database_reachable(ctx: Context) -> bool:
    """One round trip (``/healthz``, which says no more than that)."""
    try:
        async with asyncio.timeout(TIMEOUT), ctx.db.transaction() as session:
            await session.connection()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        log.warning("health_database_unreachable", error=type(exc).__name__)
        return False
    return True


def migration_state(revision: str | None) -> str:
    code = code_revisions()
    if revision == code.head:
        return OK
    if revision is None:
        return f"not migrated: db has no revision, code {code.head}"
    if revision in code.known:
        return f"behind: db {revision}, code {code.head}"
    return f"ahead: db {revision} is unknown to this code (head {code.head})"


async def readiness(ctx: Context) -> dict[str, str]:
    """Each check's verdict: ``ok`` or why not."""
    checks = {"database": OK, "migrations": OK, "feed": OK}
    try:
        async with asyncio.timeout(TIMEOUT), ctx.db.transaction() as session:
            revision = await database_revision(session)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        log.warning("health_database_unreachable", error=type(exc).__name__)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown: the database is unreachable"
    else:
        checks["migrations"] = migration_state(revision)
    checks["feed"] = ctx.feed.problem() or OK
    return checks
