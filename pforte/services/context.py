"""What every service needs, built once at start from the settings."""

from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    def create(cls, settings: Settings, db: Database | None = None) -> Context:
        secret = settings.server_secret()
        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            hasher=CredentialHasher(derive_key(secret, "credential-hash")),
            sealer=KeySealer(derive_key(secret, "signing-key-encryption")),
        )
