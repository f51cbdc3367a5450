"""``GET /metrics``: Prometheus metrics for operators, behind ``PFORTE_METRICS_TOKEN``.

Without the setting the route does not exist (404, as any unknown path). With it, a scrape
must send ``Authorization: Bearer <token>`` (compared in constant time); anything else is 401
with ``WWW-Authenticate: Bearer``. The token is never logged (no header is).

``RequestMetrics`` counts every request the router answers, labelled by the route's template
(``/api/admin/v1/tenants/{tenant}/clients``), never the raw path; a path no route knows is
``unmatched``. The form endpoints are counted by their dispatcher (``form_dispatch``), which
answers them before any router. What is counted, and how: ``pforte.metrics``;
docs/operations.md lists every metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pforte.metrics import METHODS, PUBLISH_INTERVAL, Counts, CountsCollector, Publisher, multiprocess
from pforte.services.cache import HotCache
from pforte.services.context import Context
from pforte.services.feed_state import FeedState
from pforte.web.problems import BEARER_CHALLENGE, problem

UNMATCHED = "unmatched"


def route_of(scope: Scope, status: int) -> str:
    """The template of the route that answered (after the router has run), or ``unmatched``.
    A mount's own prefix is part of the template (``/api/admin/v1`` + the inner route)."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    root_path: str = scope.get("root_path", "")
    prefix = root_path[len(scope.get("app_root_path", "")) :]
    if isinstance(route, Mount):  # a mounted app that routes no further (static files)
        return UNMATCHED if status == 404 else prefix + "/{path}"
    path = getattr(route, "path", None)
    return prefix + path if isinstance(path, str) else UNMATCHED


class RequestMetrics:
    """ASGI middleware in front of the router: one count and one duration per request."""

    def __init__(self, app: ASGIApp, counts: Counts) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.counts.request(method, route_of(scope, status), status, time.perf_counter() - started)


class CacheCollector(Collector):
    """The token path's caches (``services.cache``): lookups by result, and entries held."""

    def __init__(self, cache: HotCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        lookups = CounterMetricFamily(
            "pforte_cache_requests",
            "Lookups in this process's in-memory caches, by cache and result (hit or miss).",
            labels=("cache", "result"),
        )
        for name, tally in self.cache.tallies.items():
            lookups.add_metric((name, "hit"), tally.hits)
            lookups.add_metric((name, "miss"), tally.misses)
        yield lookups
        entries = GaugeMetricFamily(
            "pforte_cache_entries", "Entries held in this process's in-memory caches.", labels=("cache",)
        )
        for name, size in self.cache.sizes().items():
            entries.add_metric((name,), size)
        yield entries


class FeedCollector(Collector):
    """The change feed of this process (``services.feed_state`` defines the lag)."""

    def __init__(self, feed: FeedState) -> None:
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pforte_feed_listening",
            "1 while this process's change feed is connected (PostgreSQL LISTEN) or polling (SQLite).",
            value=1 if self.feed.listening else 0,
        )
        yield GaugeMetricFamily(
            "pforte_feed_lag_seconds",
            "Seconds since the change feed last confirmed this process's caches up to date.",
            value=self.feed.lag(),
        )


def _bearer(request: Request) -> bytes | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip().encode("latin-1") if scheme.lower() == "bearer" else None


class MetricsEndpoint:
    """The ``/metrics`` route of an app whose ``ctx.counts`` is set."""

    def __init__(self, ctx: Context, counts: Counts, token: str) -> None:
        self.token = token.encode()
        self.registry = CollectorRegistry(auto_describe=False)
        self.publisher: Publisher | None = None
        if multiprocess():
            self.publisher = Publisher(counts)
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        else:
            self.registry.register(CountsCollector(counts))
            ProcessCollector(registry=self.registry)
        self.registry.register(CacheCollector(ctx.cache))
        self.registry.register(FeedCollector(ctx.feed))

    async def endpoint(self, request: Request) -> Response:
        given = _bearer(request)
        if given is None or not hmac.compare_digest(given, self.token):
            return problem(
                "unauthorized",
                "send the metrics token as a bearer token",
                headers={"WWW-Authenticate": BEARER_CHALLENGE},
            )
        if self.publisher is not None:
            self.publisher.publish()  # this worker's counts are current; the others' ≤ 1 s old
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(
            encode(self.registry), headers={"Content-Type": content_type, "Cache-Control": "no-store"}
        )

    @contextlib.asynccontextmanager
    async def publishing(self) -> AsyncIterator[None]:
        """While the app serves: publish this worker's counts now and then, and at the end."""
        publisher = self.publisher
        if publisher is None:
            yield
            return

        async def loop() -> None:
            while True:
                await asyncio.sleep(PUBLISH_INTERVAL)
                publisher.publish()

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            publisher.publish()
