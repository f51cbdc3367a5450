"""The schema's revision: the one the code expects (its migrations' head) and the one a
database is at (``alembic_version``), for the readiness probe.

Read without Alembic, whose modules the serving process does not load (``pforte.server``):
each migration file declares ``revision`` and ``down_revision`` on lines of their own, and the
head is the one revision no other names as its parent. ``tests/store`` checks that this
agrees with Alembic's own ``ScriptDirectory.get_current_head()``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncSession

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r'^revision(?:: [^=]+)? = "(?P<id>[^"]+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?:: [^=]+)? = (?:None|"(?P<id>[^"]+)")', re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Revisions:
    head: str
    known: frozenset[str]  # every revision of the code's migrations


@functools.cache
def code_revisions() -> Revisions:
    """The code's migrations; the head must be one (a branched history is a packaging error)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found["id"])
        down = _DOWN.search(source)
        if down is not None and down["id"]:
            parents.add(down["id"])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return Revisions(head=heads.pop(), known=frozenset(revisions))


async def database_revision(session: AsyncSession) -> str | None:
    """The database's revision; None when it has no ``alembic_version`` (never migrated).
    A database that cannot be reached raises (the connection is made first)."""
    connection = await session.connection()
    if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return None
    result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    return result.scalar_one_or_none()
