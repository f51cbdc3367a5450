"""The consoles' built-in clients (``domain.consoles``): created with each tenant, kept in step
with ``PFORTE_PUBLIC_URL`` at every start, never deleted on their own."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.consoles import BUILTIN_CLIENT_IDS, CONSOLES, MANAGED_FIELDS, Console, console_spec
from pforte.domain.events import SYSTEM_ACTOR, Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.oauth import pkce
from pforte.domain.oauth.errors import OAuthError
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.settings import Settings
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.sessions import CodeRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ClientRow, TenantRow


def insert_console_clients(
    session: AsyncSession, settings: Settings, tenant: TenantRow, actor: Actor
) -> None:
    """Add the consoles' clients of a tenant being created (in its transaction)."""
    for console in CONSOLES:
        _insert(session, settings, tenant, console, actor)


def _insert(
    session: AsyncSession, settings: Settings, tenant: TenantRow, console: Console, actor: Actor
) -> None:
    spec = console_spec(console, settings.issuer(tenant.slug))
    now = utcnow()
    row = ClientRow(
        id=new_id(), tenant_id=tenant.id, created_at=now, updated_at=now, version=1, **asdict(spec)
    )
    ClientRepo(session).add(row)
    fields = {to_camel(k): v for k, v in asdict(spec).items()}
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.CLIENT_CREATED, "client", console.client_id, fields),
    )


async def ensure_console_clients(ctx: Context) -> int:
    """Create what is missing and repair what drifted (the public URL changed; a database from
    before the consoles); how many clients changed. One read when nothing has to change; safe
    for processes starting together."""
    async with ctx.db.transaction() as session:
        tenants = await TenantRepo(session).all()
        present = await ClientRepo(session).across_tenants(BUILTIN_CLIENT_IDS)
    found = {(row.tenant_id, row.client_id): row for row in present}
    changed = 0
    for tenant in tenants:
        for console in CONSOLES:
            row = found.get((tenant.id, console.client_id))
            if row is not None and not _drift(row, console_spec(console, ctx.settings.issuer(tenant.slug))):
                continue
            try:
                async with ctx.db.transaction() as session:
                    changed += await _ensure(session, ctx.settings, tenant, console)
            except IntegrityError:  # another process created it at the same moment
                continue
    return changed


def _drift(row: ClientRow, wanted: ClientSpec) -> dict[str, object]:
    return {
        name: getattr(wanted, name) for name in MANAGED_FIELDS if getattr(row, name) != getattr(wanted, name)
    }


async def _ensure(session: AsyncSession, settings: Settings, tenant: TenantRow, console: Console) -> int:
    repo = ClientRepo(session)
    row = await repo.lock(tenant.id, console.client_id)
    if row is None:
        _insert(session, settings, tenant, console, SYSTEM_ACTOR)
        await session.flush()
        return 1
    drifted = _drift(row, console_spec(console, settings.issuer(tenant.slug)))
    if not drifted:
        return 0
    for name, value in drifted.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    row.version += 1
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=SYSTEM_ACTOR,
        event=Event(
            EventName.CLIENT_UPDATED,
            "client",
            console.client_id,
            {to_camel(k): v for k, v in drifted.items()},
        ),
    )
    return 1


async def redeem(
    ctx: Context, tenant: TenantView, console: Console, code: str, verifier: str, now: datetime
) -> uuid.UUID | None:
    """The sign-in session a console's authorization code was issued in, once: the code is used
    up whatever the outcome (as at the token endpoint); None unless it is this console's, live,
    for its callback, and the PKCE verifier matches."""
    async with ctx.db.transaction() as session:
        row = await CodeRepo(session).lock(tenant.id, ctx.hasher.hash(code))
        if row is None or row.used_at is not None:
            return None
        row.used_at = now
        client = await ClientRepo(session).get(tenant.id, console.client_id)
        if (
            client is None
            or row.client_pk != client.id
            or row.expires_at <= now
            or row.redirect_uri != console.callback(tenant.issuer)
        ):
            return None
        try:
            pkce.check_verifier(verifier, row.code_challenge)
        except OAuthError:
            return None
        return row.session_id
