"""Sign-in sessions and authorization codes. Every method takes ``tenant_id`` and starts from
``scoping``, but ``CodeRepo.prune`` (expired codes go whatever their tenant)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import BindParameter, Table, bindparam, delete, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.store.repos.locking import hold
from pforte.store.repos.scoping import scoped_delete, scoped_select, scoped_update
from pforte.store.tables import (
    AuthorizationCodeRow,
    ClientRow,
    ConsentRow,
    RefreshTokenRow,
    SessionClientRow,
    SessionRow,
    UserRow,
)


@dataclass(frozen=True, slots=True)
class UsedCode:
    """An authorization code as its exchange reads it, returned by ``CodeRepo.use``."""

    client_pk: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    redirect_uri: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str | None
    sid: str | None
    auth_time: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UsedRefreshToken:
    """A refresh token as its rotation reads it, returned by ``RefreshTokenRepo.use``."""

    family_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    scopes: list[str]
    sid: str | None
    auth_time: datetime


class NewRefreshToken(TypedDict):
    """The columns of a refresh token ``RefreshTokenRepo.insert`` writes (it is neither used nor
    revoked yet)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    token_hash: str
    family_id: uuid.UUID
    client_pk: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    scopes: list[str]
    sid: str | None
    auth_time: datetime
    created_at: datetime
    expires_at: datetime


def _columns(table: Any, record: type[Any]) -> list[Any]:
    """The columns of ``table`` named by the fields of ``record``, in their order."""
    core: Table = table.__table__
    return [core.c[field.name] for field in fields(record)]


# The token grants' statements, built once (the tenant and the rest are bound at each call) and
# run on the session's connection: one round trip each, no ORM objects.
_TENANT: BindParameter[uuid.UUID] = bindparam("b_tenant")


def _holding_user(user_id: Any) -> Any:
    """The row's user, held FOR SHARE before the row itself is (PostgreSQL evaluates the
    condition, then locks the row it updates): a disabling or deletion of the user, which holds
    the user first and then ends sessions, codes and tokens, waits for this grant, or this
    grant for it — the other lock order deadlocked (the grant held its code or token and waited
    on a session row the disabling was deleting). SQLite has one writer and no row locks."""
    held = select(literal(1)).where(UserRow.id == user_id, UserRow.tenant_id == _TENANT)
    return exists(held.with_for_update(read=True))


_USE_CODE = (
    scoped_update(AuthorizationCodeRow, _TENANT)
    .where(
        AuthorizationCodeRow.code_hash == bindparam("b_hash"),
        AuthorizationCodeRow.used_at.is_(None),
        _holding_user(AuthorizationCodeRow.user_id),
    )
    .values(used_at=bindparam("b_used_at"))
    .returning(*_columns(AuthorizationCodeRow, UsedCode))
)
_NOTE_ISSUED = (
    scoped_update(AuthorizationCodeRow, _TENANT)
    .where(AuthorizationCodeRow.code_hash == bindparam("b_hash"))
    .values(
        issued_jti=bindparam("b_jti"),
        issued_jti_expires_at=bindparam("b_jti_expires_at"),
        issued_family_id=bindparam("b_family_id"),
    )
)
_USE_REFRESH_TOKEN = (
    scoped_update(RefreshTokenRow, _TENANT)
    .where(
        RefreshTokenRow.token_hash == bindparam("b_hash"),
        RefreshTokenRow.client_pk == bindparam("b_client"),
        RefreshTokenRow.used_at.is_(None),
        RefreshTokenRow.revoked_at.is_(None),
        RefreshTokenRow.expires_at > bindparam("b_now"),
        _holding_user(RefreshTokenRow.user_id),
    )
    .values(used_at=bindparam("b_used_at"))
    .returning(*_columns(RefreshTokenRow, UsedRefreshToken))
)
_INSERT_REFRESH_TOKEN = insert(RefreshTokenRow)


class SessionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: SessionRow) -> None:
        self.session.add(row)

    async def by_secret_hash(self, tenant_id: uuid.UUID, secret_hash: str) -> SessionRow | None:
        return await self.session.scalar(
            scoped_select(SessionRow, tenant_id).where(SessionRow.secret_hash == secret_hash)
        )

    async def delete(self, tenant_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            scoped_delete(SessionRow, tenant_id).where(SessionRow.id == session_id).returning(SessionRow.id)
        )
        return result.first() is not None

    async def of_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[SessionRow]:
        stmt = (
            scoped_select(SessionRow, tenant_id).where(SessionRow.user_id == user_id).order_by(SessionRow.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def delete_of_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
        """End every session of the user; how many there were."""
        result = await self.session.execute(
            scoped_delete(SessionRow, tenant_id).where(SessionRow.user_id == user_id).returning(SessionRow.id)
        )
        return len(result.all())

    async def note_client(self, tenant_id: uuid.UUID, session_id: uuid.UUID, client_pk: uuid.UUID) -> None:
        """Remember that ``client_pk`` got a code in the session (once); nothing when the session
        or the client is not the tenant's (a row never joins two tenants, whatever ids it is given)."""
        held = scoped_select(SessionClientRow, tenant_id).where(
            SessionClientRow.session_id == session_id, SessionClientRow.client_pk == client_pk
        )
        session_row = await self.session.scalar(
            scoped_select(SessionRow, tenant_id).where(SessionRow.id == session_id)
        )
        client_row = await self.session.scalar(
            scoped_select(ClientRow, tenant_id).where(ClientRow.id == client_pk)
        )
        if session_row is not None and client_row is not None and await self.session.scalar(held) is None:
            self.session.add(
                SessionClientRow(tenant_id=tenant_id, session_id=session_id, client_pk=client_pk)
            )

    async def clients_of(self, tenant_id: uuid.UUID, session_id: uuid.UUID) -> list[ClientRow]:
        """The clients that got a code in the session, by clientId."""
        stmt = (
            scoped_select(ClientRow, tenant_id)
            .join(SessionClientRow, SessionClientRow.client_pk == ClientRow.id)
            .where(
                SessionClientRow.session_id == session_id, SessionClientRow.tenant_id == ClientRow.tenant_id
            )
            .order_by(ClientRow.client_id)
        )
        return list((await self.session.scalars(stmt)).all())


class CodeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuthorizationCodeRow) -> None:
        self.session.add(row)

    async def lock(self, tenant_id: uuid.UUID, code_hash: str) -> AuthorizationCodeRow | None:
        """The code, held until this transaction ends: of two exchanges of one code, the second
        waits for the first and then sees it used."""
        stmt = scoped_select(AuthorizationCodeRow, tenant_id).where(
            AuthorizationCodeRow.code_hash == code_hash
        )
        return await hold(self.session, stmt, AuthorizationCodeRow)

    async def use(self, tenant_id: uuid.UUID, code_hash: str, now: datetime) -> UsedCode | None:
        """Mark the code used at ``now`` and return it, in one statement; None when there is no
        unused code of that hash. Of two exchanges of one code, the second waits for the first
        (the row's lock; SQLite's one writer) and then finds it used."""
        connection = await self.session.connection()
        result = await connection.execute(
            _USE_CODE, {"b_tenant": tenant_id, "b_hash": code_hash, "b_used_at": now}
        )
        row = result.first()
        return None if row is None else UsedCode(*row)

    async def note_issued(
        self,
        tenant_id: uuid.UUID,
        code_hash: str,
        *,
        jti: str,
        jti_expires_at: datetime,
        family_id: uuid.UUID | None,
    ) -> None:
        """Record what the code's exchange issued: a second use revokes it."""
        connection = await self.session.connection()
        await connection.execute(
            _NOTE_ISSUED,
            {
                "b_tenant": tenant_id,
                "b_hash": code_hash,
                "b_jti": jti,
                "b_jti_expires_at": jti_expires_at,
                "b_family_id": family_id,
            },
        )

    async def prune(self, before: datetime) -> int:
        """Delete codes that expired before ``before``, whatever their tenant."""
        result = await self.session.execute(
            delete(AuthorizationCodeRow)
            .where(AuthorizationCodeRow.expires_at < before)
            .returning(AuthorizationCodeRow.code_hash)
        )
        return len(result.all())


class ConsentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: ConsentRow) -> None:
        self.session.add(row)

    async def get(self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_pk: uuid.UUID) -> ConsentRow | None:
        return await self.session.scalar(
            scoped_select(ConsentRow, tenant_id).where(
                ConsentRow.user_id == user_id, ConsentRow.client_pk == client_pk
            )
        )

    async def of_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[ConsentRow]:
        stmt = scoped_select(ConsentRow, tenant_id).where(ConsentRow.user_id == user_id)
        return list((await self.session.scalars(stmt)).all())

    async def delete(self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_pk: uuid.UUID) -> bool:
        result = await self.session.execute(
            scoped_delete(ConsentRow, tenant_id)
            .where(ConsentRow.user_id == user_id, ConsentRow.client_pk == client_pk)
            .returning(ConsentRow.user_id)
        )
        return result.first() is not None


class RefreshTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: RefreshTokenRow) -> None:
        self.session.add(row)

    async def insert(self, token: NewRefreshToken) -> None:
        """Write a new refresh token now (one ``INSERT``; ``add`` waits for the flush)."""
        connection = await self.session.connection()
        await connection.execute(_INSERT_REFRESH_TOKEN, dict(token))

    async def use(
        self, tenant_id: uuid.UUID, token_hash: str, *, client_pk: uuid.UUID, now: datetime
    ) -> UsedRefreshToken | None:
        """Rotate the token: mark it used at ``now`` and return it, in one statement, if it is
        ``client_pk``'s and live (neither used, revoked nor expired); None otherwise. Of two uses
        of one token, the second waits for the first (the row's lock; SQLite's one writer) and
        then finds it used."""
        connection = await self.session.connection()
        result = await connection.execute(
            _USE_REFRESH_TOKEN,
            {
                "b_tenant": tenant_id,
                "b_hash": token_hash,
                "b_client": client_pk,
                "b_now": now,
                "b_used_at": now,
            },
        )
        row = result.first()
        return None if row is None else UsedRefreshToken(*row)

    async def get(self, tenant_id: uuid.UUID, token_hash: str) -> RefreshTokenRow | None:
        return await self.session.scalar(
            scoped_select(RefreshTokenRow, tenant_id).where(RefreshTokenRow.token_hash == token_hash)
        )

    async def lock(self, tenant_id: uuid.UUID, token_hash: str) -> RefreshTokenRow | None:
        """The token, held until this transaction ends: of two uses of one token, the second
        waits for the first and then sees it rotated."""
        stmt = scoped_select(RefreshTokenRow, tenant_id).where(RefreshTokenRow.token_hash == token_hash)
        return await hold(self.session, stmt, RefreshTokenRow)

    async def revoke_family(self, tenant_id: uuid.UUID, family_id: uuid.UUID, at: datetime) -> int:
        """Revoke every token of the family that is not revoked yet; how many."""
        result = await self.session.execute(
            scoped_update(RefreshTokenRow, tenant_id)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(RefreshTokenRow.id)
        )
        return len(result.all())

    async def revoke_of_session(self, tenant_id: uuid.UUID, session_id: uuid.UUID, at: datetime) -> int:
        """Revoke the refresh tokens issued in a session (it ended: sign-out); how many."""
        result = await self.session.execute(
            scoped_update(RefreshTokenRow, tenant_id)
            .where(RefreshTokenRow.session_id == session_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(RefreshTokenRow.id)
        )
        return len(result.all())

    async def revoke_of_user(self, tenant_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> int:
        """Revoke every refresh token of the user (disabled); how many."""
        result = await self.session.execute(
            scoped_update(RefreshTokenRow, tenant_id)
            .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(RefreshTokenRow.id)
        )
        return len(result.all())

    async def live_clients_of_user(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, now: datetime
    ) -> set[uuid.UUID]:
        """The clients holding a live refresh token of the user (offline access in use)."""
        stmt = (
            scoped_select(RefreshTokenRow, tenant_id)
            .with_only_columns(RefreshTokenRow.client_pk)
            .where(
                RefreshTokenRow.user_id == user_id,
                RefreshTokenRow.used_at.is_(None),
                RefreshTokenRow.revoked_at.is_(None),
                RefreshTokenRow.expires_at > now,
            )
            .distinct()
        )
        return set((await self.session.scalars(stmt)).all())

    async def revoke_of_user_client(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_pk: uuid.UUID, at: datetime
    ) -> int:
        """Revoke the user's refresh tokens of one client (access withdrawn); how many."""
        result = await self.session.execute(
            scoped_update(RefreshTokenRow, tenant_id)
            .where(
                RefreshTokenRow.user_id == user_id,
                RefreshTokenRow.client_pk == client_pk,
                RefreshTokenRow.revoked_at.is_(None),
            )
            .values(revoked_at=at)
            .returning(RefreshTokenRow.id)
        )
        return len(result.all())
