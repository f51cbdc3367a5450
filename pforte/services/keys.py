"""Signing keys: one per tenant at creation, rotation with overlap, the published JWK Set.

Rotation (``domain.oauth.signing_keys`` has the rules): a new key is published at once but
signs only from ``now + PFORTE_KEY_PUBLISH_AHEAD`` (the JWKS is cached for 60 s, so verifiers
see it before its first token); every older key still published gets a ``retired_at`` when the
last token it can have signed has expired, and leaves the JWKS then. Keys retired more than a
day ago are deleted, private half and all. Rotations of one tenant run one at a time (the
tenant's row is locked), so two at once cannot leave a key without a retirement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import utcnow
from pforte.domain.errors import Conflict, NotFound
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.oauth import signing_keys
from pforte.domain.oauth.signing_keys import KeyStatus, SigningKeyRecord
from pforte.domain.tenants import Tenant
from pforte.security import keys
from pforte.security.keys import KeySealer, seal_context
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.records import signing_key_of, tenant_of
from pforte.services.units import existing, hold_tenant
from pforte.store.repos.tenants import SigningKeyRepo
from pforte.store.tables import SigningKeyRow, TenantRow


@dataclass(frozen=True, slots=True)
class KeyState:
    key: SigningKeyRecord
    status: KeyStatus


@dataclass(frozen=True, slots=True)
class Rotation:
    """What one rotation did, at ``now``."""

    tenant: Tenant
    key: SigningKeyRecord  # the new key
    retiring: list[SigningKeyRecord]  # given a retirement: they verify until then
    withdrawn: list[SigningKeyRecord]  # never signed and would have outranked the new key: gone now
    deleted: list[str]  # kids of keys retired more than a day ago, deleted
    all_keys: list[SigningKeyRecord]  # every key of the tenant afterwards
    now: datetime

    @property
    def old_keys_until(self) -> datetime | None:
        """Until when the keys this rotation retired stay published."""
        return max((k.retired_at for k in self.retiring if k.retired_at), default=None)

    def state(self) -> KeyState:
        return KeyState(self.key, signing_keys.status(self.key, self.all_keys, self.now))


def _new_row(sealer: KeySealer, tenant: TenantRow, *, now: datetime, active_from: datetime) -> SigningKeyRow:
    generated = keys.generate(tenant.signing_alg)
    return SigningKeyRow(
        id=new_id(),
        tenant_id=tenant.id,
        kid=generated.kid,
        alg=generated.alg,
        public_jwk=generated.public_jwk,
        private_key_sealed=sealer.seal(
            generated.private_pkcs8, context=seal_context(tenant.id, generated.kid)
        ),
        created_at=now,
        active_from=active_from,
        retired_at=None,
    )


def create_signing_key(
    session: AsyncSession, *, sealer: KeySealer, tenant: TenantRow, actor: Actor
) -> SigningKeyRow:
    now = utcnow()
    row = _new_row(sealer, tenant, now=now, active_from=now)
    SigningKeyRepo(session).add(row)
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.SIGNING_KEY_CREATED, "signing_key", row.kid, {"alg": row.alg}),
    )
    return row


def _check_sealer(sealer: KeySealer, tenant: TenantRow, rows: list[SigningKeyRow], now: datetime) -> None:
    """Refuse to add a key that the servers could not open: the sealer must open the key in use.

    (A command run with another PFORTE_SECRET_KEY would otherwise seal the new key under it.)
    """
    current = signing_keys.signing_key(rows, now) or max(rows, key=lambda r: r.created_at, default=None)
    if current is None:
        return
    try:
        sealer.open(current.private_key_sealed, context=seal_context(tenant.id, current.kid))
    except InvalidTag:
        raise Conflict(
            "this server secret (PFORTE_SECRET_KEY) does not open the tenant's signing keys; "
            "rotate with the secret the servers use"
        ) from None


async def rotate_locked(
    session: AsyncSession, ctx: Context, *, tenant: TenantRow, actor: Actor, now: datetime
) -> Rotation:
    """Rotate ``tenant``'s key inside the caller's transaction, which holds the tenant's lock."""
    repo = SigningKeyRepo(session)
    rows = await repo.list(tenant.id)
    _check_sealer(ctx.sealer, tenant, rows, now)
    deleted = await repo.delete_retired_before(tenant.id, now - signing_keys.PURGE_AFTER)
    rows = [r for r in rows if r.kid not in deleted]
    new = _new_row(
        ctx.sealer, tenant, now=now, active_from=now + timedelta(seconds=ctx.settings.key_publish_ahead)
    )
    retiring, withdrawn = signing_keys.superseded(rows, new.active_from, now)
    retire_at = signing_keys.retirement(new.active_from)
    for row in retiring:
        row.retired_at = retire_at
    for row in withdrawn:
        row.retired_at = now
    repo.add(new)
    changes: dict[str, Any] = {
        "alg": new.alg,
        "activeFrom": new.active_from.isoformat(),
        "retiring": [{"kid": r.kid, "retiredAt": retire_at.isoformat()} for r in retiring],
    }
    if withdrawn:
        changes["withdrawn"] = [r.kid for r in withdrawn]
    if deleted:
        changes["deleted"] = deleted
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.SIGNING_KEY_ROTATED, "signing_key", new.kid, changes),
    )
    records = {row.kid: signing_key_of(row) for row in [*rows, new]}
    return Rotation(
        tenant=tenant_of(tenant),
        key=records[new.kid],
        retiring=[records[r.kid] for r in retiring],
        withdrawn=[records[r.kid] for r in withdrawn],
        deleted=deleted,
        all_keys=list(records.values()),
        now=now,
    )


async def rotate_signing_key(
    ctx: Context, *, tenant_ref: str, actor: Actor, now: datetime | None = None
) -> Rotation:
    """Rotate the signing key of the tenant ``tenant_ref`` (slug or id) in one transaction:
    the operator's own door (``pforte keys rotate``), with no principal to check."""
    async with ctx.db.transaction() as session:
        # Held: rotations of a tenant run one at a time.
        tenant = await hold_tenant(session, await existing(session, tenant_ref), tenant_ref)
        return await rotate_locked(session, ctx, tenant=tenant, actor=actor, now=now or utcnow())


def states(rows: list[SigningKeyRow], now: datetime) -> list[KeyState]:
    """The published keys, oldest first, each with what it does at ``now``."""
    records = [signing_key_of(row) for row in rows]
    return [KeyState(k, signing_keys.status(k, records, now)) for k in signing_keys.published(records, now)]


async def tenant_keys(ctx: Context, *, tenant_ref: str, now: datetime | None = None) -> list[KeyState]:
    """The published keys of the tenant ``tenant_ref`` (``pforte keys list``)."""
    async with ctx.db.transaction() as session:
        tenant = await existing(session, tenant_ref)
        rows = await SigningKeyRepo(session).list(tenant.id)
    return states(rows, now or utcnow())


async def published_keys(ctx: Context, tenant_slug: str) -> list[dict[str, Any]]:
    """The JWK Set members of a tenant: every key that may still verify a live token, from the
    cache — the same view the token endpoint signs with, so a key that signs is never missing.

    Only public members leave this function (an allow-list, not a deny-list: ``KeyView.jwk``).
    """
    tenant = await ctx.cache.tenant(tenant_slug)
    if tenant is None:
        raise NotFound(f"tenant {tenant_slug!r} does not exist")
    return [key.jwk for key in signing_keys.published(tenant.keys, utcnow())]
