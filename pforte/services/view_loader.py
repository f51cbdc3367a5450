"""Builds the hot path's views (``services.views``) from the store: one short read transaction
per tenant or client, private keys opened (AES-GCM, ``security.keys``) and signers made once.

The cache (``services.cache``) decides when to load and what to keep; this module only reads.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from joserfc.jwk import ECKey, RSAKey

from pforte.domain.credentials import Window
from pforte.domain.oauth import access_tokens, logout_tokens, signing_keys
from pforte.domain.oauth.resource_indicators import platform_audience
from pforte.security.jws import CompactSigner
from pforte.security.keys import KeySealer, seal_context
from pforte.services.views import ClientView, KeyView, SecretView, TenantView
from pforte.settings import Settings
from pforte.store.engine import Database
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import SecretRepo
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.repos.users import UserRepo


class ViewLoader:
    def __init__(self, settings: Settings, db: Database, sealer: KeySealer) -> None:
        self.settings = settings
        self.db = db
        self.sealer = sealer

    async def tenant(self, slug: str) -> TenantView | None:
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
            signer = CompactSigner(der, header)
            id_signer = CompactSigner(der, {"alg": k.alg, "kid": k.kid, "typ": "JWT"})
            logout_signer = CompactSigner(der, {"alg": k.alg, "kid": k.kid, "typ": logout_tokens.TYP})
            keys.append(
                KeyView(
                    k.kid,
                    k.alg,
                    k.active_from,
                    k.retired_at,
                    signer,
                    public,
                    id_signer,
                    logout_signer,
                    signing_keys.public_members(k.public_jwk),
                )
            )
        return TenantView(
            id=row.id,
            slug=row.slug,
            issuer=self.settings.issuer(row.slug),
            audience=platform_audience(self.settings.public_url),
            signing_alg=row.signing_alg,
            keys=tuple(keys),
            display_name=row.display_name,
        )

    async def client(self, tenant_id: uuid.UUID, client_id: str) -> ClientView | None:
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
            secrets=tuple(
                SecretView(s.id, s.value_hash, Window(s.start_time, s.expiration)) for s in secrets
            ),
            binding=access_tokens.client_binding(row.id),
            allow_offline_access=row.allow_offline_access,
            refresh_token_lifetime=row.refresh_token_lifetime,
            restrict_to_role=row.restrict_to_role,
            cors_origins=frozenset(row.allowed_cors_origins),
        )

    async def cors_origins(self, tenant_id: uuid.UUID) -> frozenset[str]:
        """Every origin an enabled client of the tenant allows (read only for CORS requests)."""
        async with self.db.transaction() as session:
            return frozenset(await ClientRepo(session).cors_origins(tenant_id))

    async def user_active(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        async with self.db.transaction() as session:
            user = await UserRepo(session).get(tenant_id, user_id)
        return user is not None and user.enabled

    async def revoked(self, now: datetime) -> list[tuple[str, datetime]]:
        """Every revoked ``jti`` that has not expired at ``now``, with its expiry."""
        async with self.db.transaction() as session:
            rows = await RevokedTokenRepo(session).live(now)
        return [(jti, expires_at) for jti, expires_at in rows]
