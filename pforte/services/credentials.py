"""Client secrets and API keys: create (value returned once), list, revoke; API key sign-in.

Values are hashed once, here, with the server's keyed hash; nothing else ever sees them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain import credentials as cred
from pforte.domain import permissions
from pforte.domain.clock import utcnow
from pforte.domain.credentials import ApiKeyRecord, SecretRecord
from pforte.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import SYSTEM_TENANT, new_id
from pforte.domain.pagination import Page, check_limit
from pforte.domain.principal import Principal
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.records import api_key_of, secret_of
from pforte.services.units import client_read, client_unit
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo
from pforte.store.tables import ApiKeyRow, ClientRow, ClientSecretRow, TenantRow

READ, WRITE = "clients:read", "clients:write"
# lastUsedAt of an API key is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(seconds=60)

RowT = TypeVar("RowT")
RecordT = TypeVar("RecordT")


@dataclass(frozen=True, slots=True)
class SecretRequest:
    description: str | None = None
    start_time: datetime | None = None
    expiration: datetime | None = None
    value: str | None = None  # only the bootstrap client brings its own value


@dataclass(frozen=True, slots=True)
class Created(Generic[RecordT]):
    """A new credential and its value: the one time the value exists in clear."""

    record: RecordT
    value: str


CreatedSecret = Created[SecretRecord]
CreatedApiKey = Created[ApiKeyRecord]


@dataclass(frozen=True, slots=True)
class ApiKeyRequest:
    """``name`` None: a generated one; ``scopes`` None: every permission the client holds
    (awork's one-click "+")."""

    name: str | None = None
    scopes: list[str] | None = None
    expiration: datetime | None = None


class _HasScopes(Protocol):
    @property
    def scopes(self) -> list[str]: ...


class _HoldsScopes(Protocol):
    @property
    def allowed_scopes(self) -> list[str]: ...


def _client_permissions(client: _HoldsScopes) -> frozenset[str]:
    return frozenset(s for s in client.allowed_scopes if permissions.is_permission(s))


async def issue_secret(
    session: AsyncSession,
    ctx: Context,
    *,
    tenant: TenantRow,
    client: ClientRow,
    actor: Actor,
    request: SecretRequest,
) -> CreatedSecret:
    now = utcnow()
    window = cred.secret_window(now=now, start=request.start_time, expiration=request.expiration)
    repo = SecretRepo(session)
    if await repo.count_live(tenant.id, client.id, now) >= cred.MAX_LIVE_SECRETS:
        raise Conflict(f"a client has at most {cred.MAX_LIVE_SECRETS} unexpired secrets; revoke one first")
    value = request.value or cred.new_value(cred.Kind.CLIENT_SECRET)
    display = cred.display(value, cred.Kind.CLIENT_SECRET) if request.value is None else f"{value[:3]}…"
    assert window.expiration is not None
    row = ClientSecretRow(
        id=new_id(),
        tenant_id=tenant.id,
        client_pk=client.id,
        description=request.description,
        value_hash=ctx.hasher.hash(value),
        value_display=display,
        start_time=window.start,
        expiration=window.expiration,
        created_at=now,
        created_by=actor.label(),
        last_used_at=None,
    )
    repo.add(row)
    changes = {
        "clientId": client.client_id,
        "description": row.description,
        "valueDisplay": display,
        "startTime": window.start.isoformat(),
        "expiration": window.expiration.isoformat(),
    }
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.CLIENT_SECRET_CREATED, "client_secret", str(row.id), changes),
    )
    return Created(secret_of(row), value)


async def create_secret(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, request: SecretRequest
) -> CreatedSecret:
    async with client_unit(ctx, principal, tenant_ref, client_id, WRITE) as unit:
        principal.require_all(_client_permissions(unit.client))
        if not unit.client.require_client_secret:
            raise Conflict("a public client (requireClientSecret: false) has no secrets")
        return await issue_secret(
            unit.session, ctx, tenant=unit.tenant, client=unit.client, actor=principal.actor, request=request
        )


async def create_api_key(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, request: ApiKeyRequest
) -> CreatedApiKey:
    async with client_unit(ctx, principal, tenant_ref, client_id, WRITE) as unit:
        return await issue_api_key(
            unit.session, ctx, tenant=unit.tenant, client=unit.client, principal=principal, request=request
        )


async def issue_api_key(
    session: AsyncSession,
    ctx: Context,
    *,
    tenant: TenantRow,
    client: ClientRow,
    principal: Principal,
    request: ApiKeyRequest,
) -> CreatedApiKey:
    now = utcnow()
    granted = _client_permissions(client)
    name = f"API key {now:%Y-%m-%d %H:%M:%S} UTC" if request.name is None else request.name.strip()
    if not name:
        raise Invalid("name", "must not be empty")
    if request.scopes is None:
        scopes = sorted(granted)
        if not scopes:
            raise Invalid(
                "scopes", "not given, so the client's permissions were meant, but the client holds none"
            )
    else:
        scopes = list(dict.fromkeys(request.scopes))
    if not scopes:
        raise Invalid("scopes", "name at least one permission")
    for i, scope in enumerate(scopes):
        if scope not in granted:
            raise Invalid(f"scopes[{i}]", f"{scope!r} is not among the client's permissions")
    principal.require_all(frozenset(scopes) | granted)
    expiration = cred.api_key_expiration(now=now, expiration=request.expiration)
    value = cred.new_value(cred.Kind.API_KEY)
    row = ApiKeyRow(
        id=new_id(),
        tenant_id=tenant.id,
        client_pk=client.id,
        name=name,
        value_hash=ctx.hasher.hash(value),
        value_display=cred.display(value, cred.Kind.API_KEY),
        scopes=scopes,
        expiration=expiration,
        created_at=now,
        created_by=principal.actor.label(),
        last_used_at=None,
    )
    ApiKeyRepo(session).add(row)
    changes = {
        "clientId": client.client_id,
        "name": name,
        "scopes": scopes,
        "valueDisplay": row.value_display,
        "expiration": expiration.isoformat() if expiration else None,
    }
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=principal.actor,
        event=Event(EventName.API_KEY_CREATED, "api_key", str(row.id), changes),
    )
    return Created(api_key_of(row), value)


# --- list and revoke: one piece for both kinds ------------------------------------------------


class _Credentials(Protocol[RowT]):
    """What listing and revoking need of a credential repository (``SecretRepo``, ``ApiKeyRepo``)."""

    async def page(
        self, tenant_id: uuid.UUID, client_pk: uuid.UUID, *, cursor: str | None, limit: int
    ) -> Page[RowT]: ...

    async def delete(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, credential_id: uuid.UUID) -> bool: ...


@dataclass(frozen=True, slots=True)
class CredentialKind(Generic[RowT, RecordT]):
    repo: Callable[[AsyncSession], _Credentials[RowT]]
    record: Callable[[RowT], RecordT]
    noun: str  # as error messages name one
    target_type: str  # of its audit events
    revoked: EventName


SECRETS = CredentialKind(SecretRepo, secret_of, "secret", "client_secret", EventName.CLIENT_SECRET_REVOKED)
API_KEYS = CredentialKind(ApiKeyRepo, api_key_of, "API key", "api_key", EventName.API_KEY_REVOKED)


async def list_credentials(
    kind: CredentialKind[RowT, RecordT],
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    *,
    cursor: str | None,
    limit: int | None,
) -> Page[RecordT]:
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        size = check_limit(limit, ctx.settings.page_size_max)
        page = await kind.repo(unit.session).page(unit.tenant.id, unit.client.id, cursor=cursor, limit=size)
    return page.map(kind.record)


async def revoke_credential(
    kind: CredentialKind[RowT, RecordT],
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    credential_id: str,
) -> None:
    async with client_unit(ctx, principal, tenant_ref, client_id, WRITE) as unit:
        principal.require_all(_client_permissions(unit.client))
        found = _uuid(credential_id)
        if found is None or not await kind.repo(unit.session).delete(unit.tenant.id, unit.client.id, found):
            raise NotFound(f"{kind.noun} {credential_id!r} does not exist for client {client_id!r}")
        audit.record(
            unit.session,
            tenant_id=unit.tenant.id,
            actor=principal.actor,
            event=Event(kind.revoked, kind.target_type, credential_id, {"clientId": client_id}),
        )


async def newest_secret(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str
) -> SecretRecord | None:
    """The client's newest unexpired secret (``domain.credentials.newest_secret``)."""
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        rows = await SecretRepo(unit.session).all_of(unit.tenant.id, unit.client.id)
    return cred.newest_secret((secret_of(r) for r in rows), utcnow())


list_secrets = partial(list_credentials, SECRETS)
revoke_secret = partial(revoke_credential, SECRETS)
list_api_keys = partial(list_credentials, API_KEYS)
revoke_api_key = partial(revoke_credential, API_KEYS)


@dataclass(frozen=True, slots=True)
class KeyUse:
    """A use of an API key to record after the request succeeded (``lastUsedAt``)."""

    tenant_id: uuid.UUID
    key_id: uuid.UUID
    at: datetime


async def authenticate_api_key(ctx: Context, value: str) -> tuple[Principal, KeyUse | None]:
    """The principal an API key stands for, and the use to record if it is due; ``Unauthorized``
    for anything not a live key of an enabled client. Its permissions are the key's scopes that
    the client still holds. Nothing is written here: a refused request changes no row."""
    if not cred.is_well_formed(value, cred.Kind.API_KEY):
        raise Unauthorized("the credential is not a valid API key")
    now = utcnow()
    async with ctx.db.transaction() as session:
        found = await ApiKeyRepo(session).authenticate(ctx.hasher.hash(value))
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    key, client, tenant = found
    if key.expiration is not None and key.expiration <= now:
        raise Unauthorized("the API key has expired")
    if not client.enabled:
        raise Unauthorized("the API key's client is disabled")
    held = held_permissions(key, client, tenant.slug)
    actor = Actor(kind="api_key", id=str(key.id), tenant=tenant.slug, client_id=client.client_id)
    principal = Principal(tenant_slug=tenant.slug, client_id=client.client_id, permissions=held, actor=actor)
    due = key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL
    return principal, KeyUse(tenant_id=tenant.id, key_id=key.id, at=now) if due else None


def held_permissions(key: _HasScopes, client: _HoldsScopes, tenant_slug: str) -> frozenset[str]:
    """What an API key grants: its scopes that its client still holds (``tenants:admin`` only
    in the system tenant)."""
    held = frozenset(key.scopes) & _client_permissions(client)
    if tenant_slug != SYSTEM_TENANT:
        held -= {permissions.TENANTS_ADMIN}
    return held


async def record_key_use(ctx: Context, use: KeyUse) -> None:
    async with ctx.db.transaction() as session:
        await ApiKeyRepo(session).touch(use.tenant_id, use.key_id, use.at)


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
