"""The async engine and one-transaction sessions; SQLite pragmas; PostgreSQL pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from pforte.domain.errors import Unavailable
from pforte.observability import log
from pforte.security.files import create_private, tighten

_NOTES = "pforte.on_commit"
CommitHook = Callable[[list[Any]], None]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def private_sqlite_file(url: str) -> None:
    """A SQLite database file is the owner's alone (it holds credential hashes and sealed keys).
    A new one is created 0600 before SQLite opens it: SQLite gives its ``-wal`` and ``-shm`` files
    the main file's mode. An existing one (and its -wal, -shm) open to others is tightened, with
    a warning."""
    parsed = make_url(url)
    if (
        parsed.database in {None, "", ":memory:"}
        or parsed.query.get("uri")
        or parsed.database.startswith("file:")
    ):
        return
    path = Path(parsed.database)
    try:
        create_private(path)
        return
    except FileExistsError:
        pass
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        try:
            before = tighten(file)
        except OSError as exc:
            log.warning("database_file_not_private", file=str(file), reason=exc.strerror)
            continue
        if before is not None:
            log.warning("database_file_mode_tightened", file=str(file), was=f"{before:o}", now="600")


def create_engine(url: str) -> AsyncEngine:
    """The one place an engine is made (the app, the CLI, migrations). ``hide_parameters``: a
    database error's text (and so any log line or traceback showing it) names the statement but
    never its parameters, which carry user data and credential hashes."""
    if make_url(url).get_backend_name() == "sqlite":
        private_sqlite_file(url)
        engine = create_async_engine(url, pool_size=8, max_overflow=0, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def _is_transient(exc: DBAPIError) -> bool:
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _TRANSIENT_SQLSTATES


def driver_dsn(url: str) -> str:
    """The URL as the PostgreSQL driver itself takes it, for a connection outside the pool
    (the change feed's LISTEN)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """Owns the engine; ``transaction()`` yields a session whose work commits (or rolls back) whole."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        # A session class of this database's own, so that its commit hooks reach only its sessions.
        session_class: type[Session] = type("PforteSession", (Session,), {})
        event.listen(session_class, "after_commit", self._after_commit)
        event.listen(session_class, "after_soft_rollback", self._after_rollback)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )
        self.commit_hooks: list[CommitHook] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits whole, or rolls back whole on any error. A collision
        that only time resolves (SQLite still locked after ``busy_timeout``, a PostgreSQL
        deadlock or serialization failure) is raised as ``Unavailable``: "try again", not a crash."""
        try:
            async with self._sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            if not _is_transient(exc):
                raise
            raise Unavailable("the database is busy with concurrent changes; repeat the request") from exc

    def _after_commit(self, session: Session) -> None:
        notes = session.info.pop(_NOTES, None)
        if notes:
            for hook in self.commit_hooks:
                hook(notes)

    def _after_rollback(self, session: Session, _previous: Any) -> None:
        session.info.pop(_NOTES, None)

    async def dispose(self) -> None:
        await self.engine.dispose()


def on_commit(session: AsyncSession, note: object) -> bool:
    """Hand ``note`` to the database's commit hooks once (and only if) this transaction commits.
    False when an equal note is already pending in this transaction (nothing is added)."""
    notes: list[object] = session.info.setdefault(_NOTES, [])
    if note in notes:
        return False
    notes.append(note)
    return True
