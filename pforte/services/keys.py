"""Signing keys: one per tenant at creation; rotation comes with the token service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.security import keys
from pforte.security.keys import KeySealer
from pforte.services import audit
from pforte.store.base import utcnow
from pforte.store.repos.tenants import SigningKeyRepo
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


def seal_context(tenant: TenantRow, kid: str) -> str:
    return f"pforte-signing-key:{tenant.id}:{kid}"
