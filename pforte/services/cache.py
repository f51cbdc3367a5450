"""The in-process view the protocol endpoints read instead of the database.

Tenants with their decrypted signing keys, clients with their secrets' hashes and windows, and
access tokens whose signature has been checked — bounded LRU maps — plus the whole deny-list of
revoked tokens. Every entry is exact until a change is published (``services.changes``): this
process applies its own changes at commit, the others within a second through the change feed
(``services.feed``). Time-bound facts (secret windows, key activation, token expiry) are stored
as facts and checked against the clock on every request, so they need no invalidation.

A load that raced with a change is not stored: ``generation`` moves on every change, and a
loader stores its result only if the generation it started from is still current.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache
from joserfc.jwk import ECKey, RSAKey

from pforte.domain.clock import utcnow
from pforte.domain.oauth import access_tokens, signing_keys
from pforte.security.hashing import CredentialHasher
from pforte.security.jws import CompactSigner
from pforte.security.keys import KeySealer, seal_context
from pforte.services.changes import REVOKED, Change
from pforte.settings import Settings
from pforte.store.engine import Database
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import SecretRepo
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo


@dataclass(frozen=True, slots=True)
class KeyView:
    kid: str
    alg: str
    active_from: datetime
    retired_at: datetime | None
    signer: CompactSigner
    public: ECKey | RSAKey  # for verification through joserfc


@dataclass(frozen=True, slots=True)
class TenantView:
    id: uuid.UUID
    slug: str
    issuer: str
    audience: str
    keys: tuple[KeyView, ...]

    def signing_key(self, now: datetime) -> KeyView | None:
        return signing_keys.signing_key(self.keys, now)

    def verification_key(self, kid: str, now: datetime) -> KeyView | None:
        for key in self.keys:
            if key.kid == kid and signing_keys.is_published(key, now):
                return key
        return None


@dataclass(frozen=True, slots=True)
class SecretView:
    id: uuid.UUID
    value_hash: str
    start_time: datetime
    expiration: datetime


@dataclass(frozen=True, slots=True)
class ClientView:
    pk: uuid.UUID
    tenant_id: uuid.UUID
    client_id: str
    enabled: bool
    confidential: bool
    grant_types: frozenset[str]
    scopes: tuple[str, ...]
    access_token_lifetime: int
    secrets: tuple[SecretView, ...]
    binding: str  # access_tokens.client_binding(pk): this record's tag in its tokens' jti

    def matching_secret(self, presented_hash: str, now: datetime) -> SecretView | None:
        """The secret in its validity window whose hash is ``presented_hash``. Every secret is
        compared, in constant time each, so the answer's timing does not tell which matched."""
        found = None
        for secret in self.secrets:
            if CredentialHasher.verify_hash(presented_hash, secret.value_hash) and (
                secret.start_time <= now < secret.expiration
            ):
                found = secret
        return found


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """An access token whose signature, ``typ``, issuer and audience have been checked once."""

    tenant_id: uuid.UUID
    kid: str
    claims: dict[str, Any]


class HotCache:
    def __init__(self, settings: Settings, db: Database, sealer: KeySealer) -> None:
        self.settings = settings
        self.db = db
        self.sealer = sealer
        self.generation = 0
        self._tenants: LRUCache[str, TenantView | None] = LRUCache(maxsize=settings.cache_tenants)
        self._clients: LRUCache[tuple[uuid.UUID, str], ClientView | None] = LRUCache(
            maxsize=settings.cache_clients
        )
        self._tokens: LRUCache[str, VerifiedToken] = LRUCache(maxsize=settings.cache_tokens)
        self.revoked: dict[str, float] = {}  # jti → exp (epoch seconds), the whole deny-list
        self._revoked_loaded = False

    # -- reading -------------------------------------------------------------------------------

    async def tenant(self, slug: str) -> TenantView | None:
        try:
            return self._tenants[slug]
        except KeyError:
            pass
        generation = self.generation
        view = await self._load_tenant(slug)
        if generation == self.generation:
            self._tenants[slug] = view
        return view

    async def client(self, tenant: TenantView, client_id: str) -> ClientView | None:
        key = (tenant.id, client_id)
        try:
            return self._clients[key]
        except KeyError:
            pass
        generation = self.generation
        view = await self._load_client(tenant.id, client_id)
        if generation == self.generation:
            self._clients[key] = view
        return view

    def token(self, token: str) -> VerifiedToken | None:
        return self._tokens.get(token)

    def remember_token(self, token: str, verified: VerifiedToken, generation: int) -> None:
        if generation == self.generation:
            self._tokens[token] = verified

    async def is_revoked(self, jti: str) -> bool:
        if not self._revoked_loaded:
            await self.load_revoked()
        return jti in self.revoked

    # -- loading -------------------------------------------------------------------------------

    async def _load_tenant(self, slug: str) -> TenantView | None:
        async with self.db.transaction() as session:
            row = await TenantRepo(session).get_by_slug(slug)
            if row is None:
                return None
            key_rows = await SigningKeyRepo(session).list(row.id)
        keys = []
        for k in key_rows:
            der = self.sealer.open(k.private_key_sealed, context=seal_context(row.id, k.kid))
            header = {"alg": k.alg, "kid": k.kid, "typ": access_tokens.AT_JWT}
            public = (ECKey if k.alg == "ES256" else RSAKey).import_key(k.public_jwk)
            keys.append(
                KeyView(k.kid, k.alg, k.active_from, k.retired_at, CompactSigner(der, header), public)
            )
        return TenantView(
            id=row.id,
            slug=row.slug,
            issuer=self.settings.issuer(row.slug),
            audience=f"{self.settings.public_url}/api",
            keys=tuple(keys),
        )

    async def _load_client(self, tenant_id: uuid.UUID, client_id: str) -> ClientView | None:
        async with self.db.transaction() as session:
            row = await ClientRepo(session).get(tenant_id, client_id)
            if row is None:
                return None
            secrets = await SecretRepo(session).all_of(tenant_id, row.id)
        return ClientView(
            pk=row.id,
            tenant_id=tenant_id,
            client_id=row.client_id,
            enabled=row.enabled,
            confidential=row.require_client_secret,
            grant_types=frozenset(row.allowed_grant_types),
            scopes=tuple(row.allowed_scopes),
            access_token_lifetime=row.access_token_lifetime,
            secrets=tuple(SecretView(s.id, s.value_hash, s.start_time, s.expiration) for s in secrets),
            binding=access_tokens.client_binding(row.id),
        )

    async def load_revoked(self) -> None:
        now = utcnow()
        async with self.db.transaction() as session:
            rows = await RevokedTokenRepo(session).live(now)
        for jti, expires_at in rows:
            self.revoked[jti] = expires_at.timestamp()
        self._revoked_loaded = True

    # -- invalidation --------------------------------------------------------------------------

    def apply(self, notes: list[Any]) -> None:
        """Commit hook of this process's database: apply its own changes at once."""
        for note in notes:
            if isinstance(note, Change):
                self.apply_change(note)

    def apply_change(self, change: Change) -> None:
        if change.kind == REVOKED:
            jti, _, exp = (change.subject or "").partition(" ")
            try:
                self.revoked[jti] = float(exp)
            except ValueError:  # a malformed note: drop every verified token to be safe
                self._tokens.clear()
            return
        # Anything else concerns a tenant (its settings, keys, clients or credentials).
        self.generation += 1
        tenant_id = change.tenant_id
        for slug, view in list(self._tenants.items()):
            if view is None or view.id == tenant_id:
                del self._tenants[slug]
        for key in [k for k in self._clients if k[0] == tenant_id]:
            del self._clients[key]
        for token in [t for t, v in self._tokens.items() if v.tenant_id == tenant_id]:
            del self._tokens[token]

    def clear(self) -> None:
        """Forget everything (the change feed was interrupted): reloads happen on demand."""
        self.generation += 1
        self._tenants.clear()
        self._clients.clear()
        self._tokens.clear()
        self._revoked_loaded = False

    def prune_revoked(self, now: float) -> None:
        for jti in [j for j, exp in self.revoked.items() if exp <= now]:
            del self.revoked[jti]
