"""What the protocol endpoints read on every request: immutable views of tenants, their keys,
clients and their secrets, and access tokens whose signature has been checked.

The views are built by ``services.view_loader`` and kept by ``services.cache``; nothing here
does I/O. Time-bound facts (a secret's window, a key's activation) are kept as facts and
judged against the request's clock by the domain rules they come from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc.jwk import ECKey, RSAKey

from pforte.domain.credentials import Window
from pforte.domain.oauth import signing_keys
from pforte.security.hashing import CredentialHasher
from pforte.security.jws import CompactSigner


@dataclass(frozen=True, slots=True)
class KeyView:
    kid: str
    alg: str
    active_from: datetime
    retired_at: datetime | None
    signer: CompactSigner  # access tokens (typ at+jwt)
    public: ECKey | RSAKey  # for verification through joserfc
    id_signer: CompactSigner  # ID tokens (typ JWT)
    logout_signer: CompactSigner  # back-channel logout tokens (typ logout+jwt)
    jwk: dict[str, Any]  # the public members its JWK Set entry shows (read-only by convention)


@dataclass(frozen=True, slots=True)
class TenantView:
    id: uuid.UUID
    slug: str
    issuer: str
    audience: str  # the platform APIs' audience, the default of its tokens (RFC 8707)
    signing_alg: str  # the algorithm of its keys (discovery)
    keys: tuple[KeyView, ...]
    display_name: str = ""  # shown on its pages ("" for the slug)

    @property
    def name(self) -> str:
        return self.display_name or self.slug

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
    window: Window  # domain.credentials: [startTime, expiration)


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
    allow_offline_access: bool = False  # refresh tokens (DESIGN.md §6)
    refresh_token_lifetime: int = 30 * 24 * 3600
    restrict_to_role: str | None = None  # only users holding this tenant role (password grant)
    cors_origins: frozenset[str] = frozenset()  # allowedCorsOrigins: who may call /token from a browser

    def matching_secret(self, presented_hash: str, now: datetime) -> SecretView | None:
        """The secret in its validity window whose hash is ``presented_hash``. Every secret is
        compared, in constant time each, so the answer's timing does not tell which matched."""
        found = None
        for secret in self.secrets:
            if CredentialHasher.verify_hash(presented_hash, secret.value_hash) and secret.window.contains(
                now
            ):
                found = secret
        return found


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """An access token whose signature, ``typ``, issuer and audience have been checked once."""

    tenant_id: uuid.UUID
    kid: str
    claims: dict[str, Any]
