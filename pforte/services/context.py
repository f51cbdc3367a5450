"""What every service needs, built once at start from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pforte.security.hashing import CredentialHasher, derive_key
from pforte.security.keys import KeySealer
from pforte.settings import Settings
from pforte.store.engine import Database


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    db: Database
    hasher: CredentialHasher
    sealer: KeySealer
    # Decrypted signing keys by (tenant id, kid): a key never changes once made.
    signing_keys: dict[tuple[Any, str], Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, db: Database | None = None) -> Context:
        secret = settings.server_secret()
        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            hasher=CredentialHasher(derive_key(secret, "credential-hash")),
            sealer=KeySealer(derive_key(secret, "signing-key-encryption")),
        )
