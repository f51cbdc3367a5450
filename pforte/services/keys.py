"""Signing keys: one per tenant at creation; rotation comes with the token service."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.errors import NotFound
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.security import keys
from pforte.security.keys import KeySealer
from pforte.services import audit
from pforte.services.context import Context
from pforte.store.base import utcnow
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import SigningKeyRow, TenantRow


def create_signing_key(
    session: AsyncSession, *, sealer: KeySealer, tenant: TenantRow, actor: Actor
) -> SigningKeyRow:
    generated = keys.generate(tenant.signing_alg)
    now = utcnow()
    row = SigningKeyRow(
        id=new_id(),
        tenant_id=tenant.id,
        kid=generated.kid,
        alg=generated.alg,
        public_jwk=generated.public_jwk,
        private_key_sealed=sealer.seal(generated.private_pkcs8, context=seal_context(tenant, generated.kid)),
        created_at=now,
        active_from=now,
        retired_at=None,
    )
    SigningKeyRepo(session).add(row)
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.SIGNING_KEY_CREATED, "signing_key", generated.kid, {"alg": generated.alg}),
    )
    return row


PUBLIC_MEMBERS = frozenset({"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"})


async def published_keys(ctx: Context, tenant_slug: str) -> list[dict[str, Any]]:
    """The JWK Set members of a tenant: every key that may still verify a live token.

    Only public members leave this function (an allow-list, not a deny-list).
    """
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get_by_slug(tenant_slug)
        if tenant is None:
            raise NotFound(f"tenant {tenant_slug!r} does not exist")
        rows = await SigningKeyRepo(session).list(tenant.id)
    return [{k: v for k, v in row.public_jwk.items() if k in PUBLIC_MEMBERS} for row in rows]


def seal_context(tenant: TenantRow, kid: str) -> str:
    return keys.seal_context(tenant.id, kid)
