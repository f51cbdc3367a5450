"""What every service needs, built once at start from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from pforte.domain.clock import Clock, utcnow
from pforte.domain.outbound import OutboundPolicy
from pforte.metrics import Counts
from pforte.security.hashing import CredentialHasher, derive_key
from pforte.security.keys import KeySealer
from pforte.security.passwords import PasswordHasher
from pforte.services.backchannel import BackChannel
from pforte.services.cache import HotCache
from pforte.services.event_buffer import EventBuffer
from pforte.services.feed_state import FeedState
from pforte.services.throttle import AuthThrottle
from pforte.services.usage import SecretUsage
from pforte.services.view_loader import ViewLoader
from pforte.settings import Settings
from pforte.store.engine import Database


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    db: Database
    hasher: CredentialHasher
    sealer: KeySealer
    cache: HotCache
    usage: SecretUsage
    events: EventBuffer  # the token endpoint's events and the day's counts, written in batches
    throttle: AuthThrottle
    passwords: PasswordHasher
    sign_in_throttle: AuthThrottle  # failed sign-ins per account
    address_throttle: AuthThrottle  # failed sign-ins per client address
    request_sealer: KeySealer  # pending authorization requests carried by the sign-in form
    backchannel: BackChannel  # logout tokens to clients, in the background
    clock: Clock = utcnow  # every "now" of a request; tests may set it
    counts: Counts | None = None  # requests and tokens for /metrics; None: PFORTE_METRICS_TOKEN unset
    feed: FeedState = field(default_factory=FeedState)  # the change feed's health (services.feed)

    @classmethod
    def create(cls, settings: Settings, db: Database | None = None, clock: Clock = utcnow) -> Context:
        secret = settings.server_secret()
        database = db or Database(settings.database_url)
        sealer = KeySealer(derive_key(secret, "signing-key-encryption"))
        cache = HotCache(settings, ViewLoader(settings, database, sealer), clock)
        database.commit_hooks.append(cache.apply)  # this process's own changes apply at commit
        return cls(
            settings=settings,
            db=database,
            hasher=CredentialHasher(derive_key(secret, "credential-hash")),
            sealer=sealer,
            cache=cache,
            usage=SecretUsage(),
            events=EventBuffer(),
            throttle=AuthThrottle.from_settings(settings),
            sign_in_throttle=AuthThrottle.from_settings(
                settings, limit=settings.sign_in_failure_limit, key_prefix="pforte-sign-in"
            ),
            address_throttle=AuthThrottle.from_settings(
                settings, limit=settings.sign_in_address_failure_limit, key_prefix="pforte-sign-in-address"
            ),
            request_sealer=KeySealer(derive_key(secret, "authorization-request")),
            backchannel=BackChannel(OutboundPolicy.parse(settings.outbound_allow)),
            passwords=PasswordHasher(
                time_cost=settings.password_time_cost,
                memory_kib=settings.password_memory_kib,
                parallelism=settings.password_parallelism,
            ),
            clock=clock,
            counts=Counts() if settings.metrics_token is not None else None,
        )
