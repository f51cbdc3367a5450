"""Failed client authentication: slowed down, then 429 with Retry-After (services.throttle).

Every behaviour runs on the in-memory storage and on a real Redis (``PFORTE_TEST_REDIS_URL``,
default redis://127.0.0.1:6379/15). Without Redis those cases skip with the reason — except under
``CI=true``, where they fail. Keys carry a prefix of this run's own, deleted at the end.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import pytest
import redis
from limits.aio.storage import MemoryStorage
from structlog.testing import capture_logs

from pforte.services import throttle as throttle_module
from pforte.services.throttle import DELAY_MAX, AuthThrottle, SweptMemoryStorage, Verdict, storage_id
from pforte.settings import SettingsError, load_settings, redact_url
from tests.conftest import clear_of_window_edge

REDIS_DEFAULT = "redis://127.0.0.1:6379/15"
RUN_PREFIX = f"pforte-test-{uuid.uuid4().hex[:12]}"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"

pytestmark = pytest.mark.anyio

MakeThrottle = Callable[..., AuthThrottle]


def redis_url() -> str:
    return os.environ.get("PFORTE_TEST_REDIS_URL", REDIS_DEFAULT)


@pytest.fixture(scope="session")
def test_redis() -> Iterator[str]:
    """The test Redis' URL; at the end of the run, this run's keys are deleted."""
    url = redis_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        reason = f"Redis is not reachable at {redact_url(url)}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires Redis; {reason}")
        pytest.skip(reason)
    yield url
    try:
        for key in client.scan_iter(match=f"{RUN_PREFIX}:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
async def make_throttle(request: pytest.FixtureRequest) -> AsyncIterator[MakeThrottle]:
    """``make(limit=…, window=…)``: an AuthThrottle on this test's storage (each one like a
    separate process on the same storage); all are closed after the test. Starts clear of a
    30-second window edge, so the windows of 30, 60 and 3,600 s used here count exactly."""
    await clear_of_window_edge(30)
    url = request.getfixturevalue("test_redis") if request.param == "redis" else None
    made: list[AuthThrottle] = []

    def make(*, limit: int = 10, window: int = 60) -> AuthThrottle:
        throttle = AuthThrottle(limit=limit, window=window, redis_url=url, key_prefix=RUN_PREFIX)
        made.append(throttle)
        return throttle

    yield make
    for throttle in made:
        await throttle.close()


def ids() -> tuple[str, str]:
    """A tenant slug and a client id of this test's own."""
    return f"t-{uuid.uuid4().hex[:10]}", f"svc-{uuid.uuid4().hex[:8]}"


async def fail(throttle: AuthThrottle, tenant: str, client_id: str, times: int) -> list[Verdict]:
    return [await throttle.failed(tenant, client_id) for _ in range(times)]


# --- the phases ---------------------------------------------------------------------------------


async def test_first_failures_are_answered_at_once(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=10)
    tenant, client_id = ids()
    assert throttle.slow_after == 5
    assert await fail(throttle, tenant, client_id, 5) == [Verdict(0.0, None)] * 5
    assert throttle.blocked(tenant, client_id) is None


async def test_further_failures_wait_longer_and_longer_up_to_the_cap(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=20)
    tenant, client_id = ids()
    verdicts = await fail(throttle, tenant, client_id, 20)
    assert verdicts[:10] == [Verdict(0.0, None)] * 10
    delays = [v.delay for v in verdicts[10:]]
    assert [v.retry_after for v in verdicts[10:]] == [None] * 10
    assert delays == [0.1, 0.2, 0.4, 0.8, DELAY_MAX, DELAY_MAX, DELAY_MAX, DELAY_MAX, DELAY_MAX, DELAY_MAX]
    assert DELAY_MAX == 1.0
    assert throttle.blocked(tenant, client_id) is None


async def test_over_the_limit_is_429_and_blocks_only_that_client_id(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=10, window=30)
    tenant, client_id = ids()
    await fail(throttle, tenant, client_id, 10)

    over = await throttle.failed(tenant, client_id, now=1000.0)

    assert over.delay == 0.0
    assert over.retry_after is not None and 1 <= over.retry_after <= 30
    assert throttle.blocked(tenant, client_id, now=1000.0) == over.retry_after
    # Still over: every further failure is 429 too.
    again = await throttle.failed(tenant, client_id, now=1000.0)
    assert again.retry_after is not None and 1 <= again.retry_after <= over.retry_after
    # Another client id in the tenant, and the same client id in another tenant, are untouched.
    other_tenant, other_client = ids()
    assert throttle.blocked(tenant, other_client, now=1000.0) is None
    assert throttle.blocked(other_tenant, client_id, now=1000.0) is None
    assert await throttle.failed(tenant, other_client) == Verdict(0.0, None)
    assert await throttle.failed(other_tenant, client_id) == Verdict(0.0, None)


async def test_the_block_ends_when_its_retry_after_has_passed(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window=60)
    tenant, client_id = ids()
    await fail(throttle, tenant, client_id, 3)
    over = await throttle.failed(tenant, client_id, now=5000.0)
    assert over.retry_after is not None
    seconds = over.retry_after

    assert throttle.blocked(tenant, client_id, now=5000.0) == seconds
    assert throttle.blocked(tenant, client_id, now=5000.0 + seconds - 0.5) == 1
    assert throttle.blocked(tenant, client_id, now=5000.0 + seconds) is None
    assert throttle.blocked(tenant, client_id, now=5000.0) is None  # forgotten, not just hidden


async def test_retry_after_is_capped_at_60_seconds(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=2, window=3600)
    tenant, client_id = ids()
    await fail(throttle, tenant, client_id, 2)
    over = await throttle.failed(tenant, client_id)
    assert over.retry_after is not None and 1 <= over.retry_after <= 60


async def test_after_retry_after_the_window_has_room_again(make_throttle: MakeThrottle) -> None:
    """A real (short) wait: after Retry-After seconds, the next failure is a 401 again. Only
    ever waits longer than needed, which can only make more room."""
    throttle = make_throttle(limit=2, window=1)
    tenant, client_id = ids()
    await clear_of_window_edge(1, need=0.5)
    await fail(throttle, tenant, client_id, 2)
    over = await throttle.failed(tenant, client_id)
    assert over.retry_after == 1  # capped at the window

    await anyio.sleep(over.retry_after + 0.05)

    assert throttle.blocked(tenant, client_id) is None
    assert (await throttle.failed(tenant, client_id)).retry_after is None


async def test_limit_of_one_answers_the_first_failure_at_once(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=1)
    tenant, client_id = ids()
    assert await throttle.failed(tenant, client_id) == Verdict(0.0, None)
    assert (await throttle.failed(tenant, client_id)).retry_after is not None


async def test_unknown_and_overlong_client_ids_are_counted_too(make_throttle: MakeThrottle) -> None:
    """The answer must not tell which client ids exist: any presented id is counted alike."""
    throttle = make_throttle(limit=2)
    tenant, _ = ids()
    weird = "x" * 500 + "/é"
    await fail(throttle, tenant, weird, 2)
    over = await throttle.failed(tenant, weird)
    assert over.retry_after is not None
    assert throttle.blocked(tenant, weird) is None  # not remembered locally: cannot be a client id
    assert (await throttle.failed(tenant, weird)).retry_after is not None


# --- several processes on one Redis -------------------------------------------------------------


async def test_two_processes_on_one_redis_count_together(test_redis: str) -> None:
    first = AuthThrottle(limit=10, window=60, redis_url=test_redis, key_prefix=RUN_PREFIX)
    second = AuthThrottle(limit=10, window=60, redis_url=test_redis, key_prefix=RUN_PREFIX)
    try:
        tenant, client_id = ids()
        assert await fail(first, tenant, client_id, 5) == [Verdict(0.0, None)] * 5
        # The second process sees the first one's five: its own five are slowed down.
        assert [v.delay for v in await fail(second, tenant, client_id, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]

        over = await first.failed(tenant, client_id)
        assert over.retry_after is not None
        assert first.blocked(tenant, client_id) is not None
        # The block itself is local (no I/O on success); the next failure there answers 429.
        assert second.blocked(tenant, client_id) is None
        assert (await second.failed(tenant, client_id)).retry_after is not None
        assert second.blocked(tenant, client_id) is not None
    finally:
        await first.close()
        await second.close()


# --- Redis unreachable --------------------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_redis_counts_in_memory_and_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle_module, "REDIS_RETRY_AFTER", 0.0)  # try Redis on every failure
    url = f"redis://:hunter2-not-logged@127.0.0.1:{closed_port()}/0"
    throttle = AuthThrottle(limit=4, window=60, redis_url=url, key_prefix=RUN_PREFIX)
    try:
        assert throttle.uses_redis
        tenant, client_id = ids()
        with capture_logs() as logs:
            verdicts = await fail(throttle, tenant, client_id, 5)
        assert verdicts[:4] == [
            Verdict(0.0, None),
            Verdict(0.0, None),
            Verdict(0.1, None),
            Verdict(0.2, None),
        ]
        assert verdicts[4].retry_after is not None
        assert throttle.blocked(tenant, client_id) is not None
        warnings = [e for e in logs if e["event"] == "auth_throttle_redis_unavailable"]
        assert len(warnings) == 1
        assert warnings[0]["log_level"] == "warning"
        assert warnings[0]["redis"] == f"redis://:***@127.0.0.1:{url.rsplit(':', 1)[1]}"
        assert warnings[0]["error"] == "ConnectionError"
        assert "hunter2" not in repr(logs)
    finally:
        await throttle.close()


# --- the in-memory storage ---------------------------------------------------------------------


def test_the_sweep_hook_of_limits_is_still_there() -> None:
    """SweptMemoryStorage overrides limits' name-mangled ``MemoryStorage.__schedule_expiry``; if a
    limits release renames it, the override would silently stop working."""
    assert callable(getattr(MemoryStorage, "_MemoryStorage__schedule_expiry", None))


async def test_memory_storage_sweeps_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SweptMemoryStorage()
    await storage.incr("a", 60)
    first = storage.timer
    assert first is not None
    await anyio.sleep(0.01)  # the sweep runs and finishes
    assert first.done()
    await storage.incr("b", 60)
    assert storage.timer is first  # no second sweep within the second
    monkeypatch.setattr(storage, "_next_sweep", 0.0)  # a second later
    await storage.incr("c", 60)
    assert storage.timer is not first
    assert (await storage.get("a"), await storage.get("b"), await storage.get("c")) == (1, 1, 1)


# --- keys and settings --------------------------------------------------------------------------


def test_storage_keys_are_short_and_hold_no_credential() -> None:
    assert storage_id("svc-billing.v2~x") == "svc-billing.v2~x"
    for presented in ("pfs_" + "A" * 43, "a b", "x" * 129, "", "ü"):
        key = storage_id(presented)
        assert key.startswith("#") and len(key) == 33
        assert presented not in key or presented == ""
    assert storage_id("a b") != storage_id("a  b")


def test_settings_defaults() -> None:
    settings = load_settings(secret_key=SECRET_KEY)
    assert settings.redis_url is None and settings.redis_url_redacted is None
    assert (settings.auth_failure_limit, settings.auth_failure_window) == (10, 60)
    throttle = AuthThrottle.from_settings(settings)
    assert (throttle.limit, throttle.window, throttle.uses_redis) == (10, 60, False)


async def test_settings_with_redis() -> None:
    settings = load_settings(
        secret_key=SECRET_KEY,
        redis_url="rediss://user:s3cret-pass@cache.example:6380/2?password=s3cret-pass&db=2",
        auth_failure_limit=5,
        auth_failure_window=30,
    )
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.redis_url_redacted)
    assert settings.redis_url_redacted == "rediss://user:***@cache.example:6380/2?password=***&db=2"
    throttle = AuthThrottle.from_settings(settings)  # builds the pool; connects on first use
    try:
        assert (throttle.limit, throttle.window, throttle.uses_redis) == (5, 30, True)
    finally:
        await throttle.close()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"redis_url": "http://s3cret@cache:6379"}, "PFORTE_REDIS_URL: Value error, must be a redis://"),
        ({"redis_url": "redis://:s3cret@cache:99999"}, "PFORTE_REDIS_URL: Value error, has a bad port"),
        ({"redis_url": "redis://:s3cret@cache/zero"}, "PFORTE_REDIS_URL: Value error, the path must be"),
        ({"auth_failure_limit": 0}, "PFORTE_AUTH_FAILURE_LIMIT: Input should be greater than or equal to 1"),
        ({"auth_failure_window": 0}, "PFORTE_AUTH_FAILURE_WINDOW: Input should be greater than or equal"),
        ({"auth_failure_window": 3601}, "PFORTE_AUTH_FAILURE_WINDOW: Input should be less than or equal"),
    ],
)
def test_settings_are_validated_without_repeating_the_url(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(secret_key=SECRET_KEY, **overrides)
    assert str(caught.value).startswith(message)
    assert "s3cret" not in str(caught.value)
