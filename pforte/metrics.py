"""This process's request and token counts, for ``/metrics`` (Prometheus).

Counting happens on every request, so it is plain Python: a dict increment per request and
a ``bisect`` into the duration buckets — no ``prometheus_client`` call, no lock (everything
runs on the event loop's thread). Measured with ``prometheus_client`` children instead
(``labels()`` resolved once, ``inc()``/``observe()`` per request): ~5× the cost, and ~14× with
``labels()`` per request (docs/benchmarks.md). ``prometheus_client`` comes in at scrape time:

- one process: ``CountsCollector`` turns the counts into metric families when scraped;
- several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set): each worker writes its counts
  into its own files there (``Publisher``, prometheus_client's multiprocess format, every
  ``PUBLISH_INTERVAL`` and before answering a scrape), and the scrape adds every worker's
  files up (``MultiProcessCollector``). Another worker's counts are then at most
  ``PUBLISH_INTERVAL`` old; a worker's counts outlive it (the files stay), as a counter must.

This module is the counting; ``web.metrics`` is the endpoint.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import values
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

PUBLISH_INTERVAL = 1.0
# Seconds; the token endpoint answers in about a millisecond, the admin API in tens.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LE = (*(floatToGoString(bound) for bound in BUCKETS), "+Inf")  # type: ignore[no-untyped-call]
# Any other method is counted as "other": a label value must not come from the client freely.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = "pforte_http_requests"
DURATION = "pforte_http_request_duration_seconds"
TOKENS = "pforte_tokens_issued"
HELP = {
    REQUESTS: "HTTP requests answered, by method, route template and status.",
    DURATION: "Seconds from a request's arrival to the end of its response, by method and route template.",
    TOKENS: "Tokens issued by the token endpoint, by grant type.",
}
REQUEST_LABELS = ("method", "route", "status")
DURATION_LABELS = ("method", "route")


def multiprocess() -> bool:
    """Whether prometheus_client keeps values in ``PROMETHEUS_MULTIPROC_DIR`` (it decides once,
    when imported, from that variable: ``pforte.server`` sets it before any worker starts)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


class _Value(Protocol):
    def set(self, value: float, timestamp: float | None = None) -> None: ...


class Counts:
    """Requests by (method, route, status); their durations by (method, route), as one count
    per bucket (not cumulative) and the sum last; tokens by grant type."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.durations: dict[tuple[str, str], list[float]] = {}
        self.tokens: dict[str, int] = {}

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request; ``route`` is its template (``/t/{slug}/token``), never a path."""
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        slots = self.durations.get((method, route))
        if slots is None:
            slots = self.durations[method, route] = [0.0] * (len(BUCKETS) + 2)
        slots[bisect_left(BUCKETS, seconds)] += 1
        slots[-1] += seconds

    def token_issued(self, grant_type: str) -> None:
        self.tokens[grant_type] = self.tokens.get(grant_type, 0) + 1


class CountsCollector(Collector):
    """The counts as metric families (one process)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(REQUESTS, HELP[REQUESTS], labels=REQUEST_LABELS)
        for (method, route, status), count in list(self.counts.requests.items()):
            requests.add_metric((method, route, str(status)), count)
        yield requests
        durations = HistogramMetricFamily(DURATION, HELP[DURATION], labels=DURATION_LABELS)
        for labels, slots in list(self.counts.durations.items()):
            cumulative, buckets = 0.0, []
            for le, in_bucket in zip(_LE, slots, strict=False):
                cumulative += in_bucket
                buckets.append((le, cumulative))
            durations.add_metric(labels, buckets, slots[-1])
        yield durations
        tokens = CounterMetricFamily(TOKENS, HELP[TOKENS], labels=("grant_type",))
        for grant_type, count in list(self.counts.tokens.items()):
            tokens.add_metric((grant_type,), count)
        yield tokens


class Publisher:
    """Writes the counts into this process's files in ``PROMETHEUS_MULTIPROC_DIR``, as
    prometheus_client's own ``Counter`` and ``Histogram`` would (``values.ValueClass``: one
    value per sample, buckets not cumulative, ``_count`` derived by the reader)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self._values: dict[tuple[str, tuple[str, ...]], _Value] = {}

    def publish(self) -> None:
        for (method, route, status), count in list(self.counts.requests.items()):
            self._set("counter", REQUESTS, "_total", REQUEST_LABELS, (method, route, str(status)), count)
        bucket_labels = (*DURATION_LABELS, "le")
        for labels, slots in list(self.counts.durations.items()):
            for le, in_bucket in zip(_LE, slots, strict=False):
                self._set("histogram", DURATION, "_bucket", bucket_labels, (*labels, le), in_bucket)
            self._set("histogram", DURATION, "_sum", DURATION_LABELS, labels, slots[-1])
        for grant_type, count in list(self.counts.tokens.items()):
            self._set("counter", TOKENS, "_total", ("grant_type",), (grant_type,), count)

    def _set(
        self,
        kind: str,
        metric: str,
        suffix: str,
        labelnames: tuple[str, ...],
        labelvalues: tuple[str, ...],
        value: float,
    ) -> None:
        key = (metric + suffix, labelvalues)
        held = self._values.get(key)
        if held is None:
            held = values.ValueClass(kind, metric, metric + suffix, labelnames, labelvalues, HELP[metric])
            self._values[key] = held
        held.set(value)
