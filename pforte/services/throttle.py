"""Abuse resistance at client authentication: repeated failures for one client id are slowed
down, then answered 429 with ``Retry-After`` (RFC 6585 §4, "indicates that the user has sent too
many requests in a given amount of time").

Failures are counted per (tenant slug, client id) by ``limits`` with the sliding window counter
strategy: in process memory (``async+memory://``), or in Redis when ``PFORTE_REDIS_URL`` is set,
so that every process counts together. With ``limit`` failures per ``window`` seconds:

- failures 1 … ``limit // 2`` (at least the first) are answered at once;
- the further ones up to ``limit`` wait 0.1 s, 0.2 s, 0.4 s … at most 1 s before their 401;
- one more is answered 429, and so is every request for that client id reaching this process
  (the right secret too) until the window has room again, at most 60 s.

A successful authentication costs one dict lookup in ``blocked()``: the blocks a process has
seen are kept in its own memory, never asked of Redis. Redis is asked only on a failure. When it
cannot be reached, failures are counted in this process's memory for a few seconds before it is
tried again, and a warning is logged at most once a minute: authentication never fails because
of the throttle.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from pforte.domain.ids import CLIENT_ID_RE
from pforte.observability import log
from pforte.settings import Settings, SettingsError, redact_url

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

KEY_PREFIX = "pforte"  # Redis keys: pforte:{auth-fail/<tenant>/<client id>/<limit>/<window>/second}
NAMESPACE = "auth-fail"
DELAY_FIRST = 0.1  # seconds; each further slowed-down failure waits twice as long
DELAY_MAX = 1.0
BLOCK_MAX = 60  # seconds: the longest Retry-After, whatever the window
MEMO_MAX = 10_000  # blocked client ids one process remembers
REDIS_TIMEOUT = 0.5  # seconds to connect, and for an answer
REDIS_CONNECTIONS = 64  # per process; past that a failure is counted in memory
REDIS_RETRY_AFTER = 5.0  # seconds of counting in memory after a Redis error
WARN_EVERY = 60.0  # seconds between two "Redis unreachable" warnings
SWEEP_EVERY = 1.0  # seconds between two sweeps of expired in-memory counters
_CREDENTIAL_SHAPED = re.compile(r"pf[skr]_")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to answer a failed authentication: wait ``delay`` seconds then 401, or, when
    ``retry_after`` is set, 429 at once with ``Retry-After: retry_after``."""

    delay: float
    retry_after: int | None


class AuthThrottle:
    """Counts failed client authentications; see the module docstring."""

    def __init__(
        self, *, limit: int, window: int, redis_url: str | None = None, key_prefix: str = KEY_PREFIX
    ) -> None:
        self.limit = limit
        self.window = window
        self.slow_after = max(1, limit // 2)
        self._block_max = min(window, BLOCK_MAX)
        self._item = RateLimitItemPerSecond(limit, window, namespace=NAMESPACE)
        self._memory = SlidingWindowCounterRateLimiter(SweptMemoryStorage())
        self._shared = self._memory
        self._pool: ConnectionPool | None = None
        self._redis_shown = redact_url(redis_url) if redis_url else None
        self._redis_retry_at = 0.0  # monotonic; before it, failures are counted in memory
        self._warned_at = -math.inf
        # (tenant, client id) → monotonic time the block ends; read on every authentication.
        self._blocks: dict[tuple[str, str], float] = {}
        if redis_url is not None:
            storage, self._pool = _redis_storage(redis_url, key_prefix)
            self._shared = SlidingWindowCounterRateLimiter(storage)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, limit: int | None = None, key_prefix: str = KEY_PREFIX
    ) -> AuthThrottle:
        url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
        return cls(
            limit=settings.auth_failure_limit if limit is None else limit,
            window=settings.auth_failure_window,
            redis_url=url,
            key_prefix=key_prefix,
        )

    @property
    def uses_redis(self) -> bool:
        return self._pool is not None

    def blocked(self, tenant: str, client_id: str, now: float | None = None) -> int | None:
        """Seconds to wait if this process saw ``client_id`` go over the limit and the block has
        not run out (answer 429 without checking credentials); else None. No I/O. ``now`` is
        ``time.monotonic()`` by default."""
        if not self._blocks:
            return None
        key = (tenant, client_id)
        until = self._blocks.get(key)
        if until is None:
            return None
        if now is None:
            now = time.monotonic()
        if now >= until:
            self._blocks.pop(key, None)
            return None
        return math.ceil(until - now)

    async def failed(self, tenant: str, client_id: str, *, now: float | None = None) -> Verdict:
        """Count one failed authentication of ``client_id`` in ``tenant`` and say how to answer
        it. ``now`` (``time.monotonic()``) only places the local block; the counting uses the
        storage's clock."""
        ident = storage_id(client_id)
        limiter = self._shared
        if limiter is not self._memory and time.monotonic() < self._redis_retry_at:
            limiter = self._memory
        try:
            count, retry_after = await self._count(limiter, tenant, ident)
        except (StorageError, OSError) as exc:  # only Redis raises
            self._redis_failed(exc)
            count, retry_after = await self._count(self._memory, tenant, ident)
        if retry_after is not None:
            self._block(tenant, client_id, retry_after, time.monotonic() if now is None else now)
            return Verdict(0.0, retry_after)
        return Verdict(self.delay(count), None)

    def delay(self, count: int) -> float:
        """Seconds to wait before answering the ``count``-th failure in the window."""
        if count <= self.slow_after:
            return 0.0
        return min(DELAY_MAX, DELAY_FIRST * 2.0 ** (count - self.slow_after - 1))

    async def close(self) -> None:
        """Release the Redis connections (the in-memory counts need nothing)."""
        if self._pool is not None:
            await self._pool.aclose()

    async def _count(
        self, limiter: SlidingWindowCounterRateLimiter, tenant: str, ident: str
    ) -> tuple[int, int | None]:
        """Failures in the window after this one, and seconds until there is room if it is over."""
        allowed = await limiter.hit(self._item, tenant, ident)
        stats = await limiter.get_window_stats(self._item, tenant, ident)
        if allowed:
            return max(1, self.limit - stats.remaining), None
        wait = math.ceil(stats.reset_time - time.time())
        return self.limit, min(max(wait, 1), self._block_max)

    def _block(self, tenant: str, client_id: str, retry_after: int, now: float) -> None:
        if len(client_id) > 128:  # cannot be a client id: the shared count answers it alone
            return
        key = (tenant, client_id)
        if len(self._blocks) >= MEMO_MAX and key not in self._blocks:
            self._blocks = {k: until for k, until in self._blocks.items() if until > now}
            if len(self._blocks) >= MEMO_MAX:  # still full: forget the oldest quarter
                self._blocks = dict(list(self._blocks.items())[MEMO_MAX // 4 :])
        self._blocks[key] = now + retry_after

    def _redis_failed(self, exc: Exception) -> None:
        now = time.monotonic()
        self._redis_retry_at = now + REDIS_RETRY_AFTER
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            cause = exc.storage_error if isinstance(exc, StorageError) else exc
            log.warning(
                "auth_throttle_redis_unavailable",
                redis=self._redis_shown,
                error=type(cause).__name__,
                detail=str(cause)[:200],
                counting="in process memory",
            )


class SweptMemoryStorage(MemoryStorage):
    """``limits``' memory storage, sweeping expired counters at most once a second.

    ``MemoryStorage`` starts a sweep of *every* key after each hit: O(keys) per failure. Failures
    spread over many client ids cost here 60 µs CPU each at 1,000 ids, 1.1 ms at 20,000 and
    2.8 ms at 40,000 — an attacker's lever. Counts stay exact: a read checks expiry itself.
    """

    _next_sweep = 0.0

    # MemoryStorage.__schedule_expiry, as name-mangled in limits 5.x (a test checks it exists).
    async def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            # getattr: mypy does not mangle names, so it cannot see the attribute.
            sweep: Callable[[], Awaitable[None]] = getattr(super(), "_MemoryStorage__schedule_expiry")  # noqa: B009
            await sweep()


def storage_id(client_id: str) -> str:
    """The client id as a storage key: itself when it has the client id syntax, else (or when it
    looks like a credential) ``#`` and a SHA-256 prefix, so keys stay short and hold no secret.
    ``#`` is outside the client id alphabet: the two kinds never collide."""
    if CLIENT_ID_RE.fullmatch(client_id) and not _CREDENTIAL_SHAPED.match(client_id):
        return client_id
    return "#" + hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _redis_storage(url: str, key_prefix: str) -> tuple[RedisStorage, ConnectionPool]:
    """``limits``' Redis storage on a redis-py pool of our own: short timeouts, one immediate
    retry (a pooled connection may be stale after a Redis restart), at most
    ``REDIS_CONNECTIONS``."""
    try:
        from redis.asyncio import ConnectionPool
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError:
        raise SettingsError("PFORTE_REDIS_URL: needs the redis package; install pforte[redis]") from None
    pool = ConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 1),
    )
    storage = storage_from_string(
        "async+" + url,
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=key_prefix,
        connection_pool=pool,  # type: ignore[arg-type]  # passed through to redis.asyncio.Redis
    )
    assert isinstance(storage, RedisStorage)
    return storage, pool
