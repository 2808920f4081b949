"""Record stage, Prometheus: counters and histograms fed from each record.

One private `CollectorRegistry` per app (so tests can run many apps in one
process). A request's observations are summed per label set and applied in
bulk (at every scrape, every second and every `FLUSH_AT` requests; with
several workers, before the event loop next waits): label resolution, locks
and the bucket walk cost once per label set, not once per request. With
several workers, `PROMETHEUS_MULTIPROC_DIR` is set by the server before the
workers start and `render()` merges every worker's files, so one scrape sees
them all.
"""

from __future__ import annotations

import asyncio
import collections
import math
import os
from bisect import bisect_left
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from router.metrics.record import RequestRecord, ShadowRecord

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
OVERHEAD_BUCKETS = (
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
)  # fmt: skip


FLUSH_AT = 1024  # records held before they are applied without waiting


class _Tally:
    """Increments of one metric, summed per label set until applied."""

    __slots__ = ("counts", "metric")

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.counts: dict[tuple[str, ...], float] = {}

    def add(self, labels: tuple[str, ...], n: float = 1) -> None:
        self.counts[labels] = self.counts.get(labels, 0) + n

    def apply(self) -> None:
        counts, self.counts = self.counts, {}
        for labels, n in counts.items():
            child = self.metric.labels(*labels) if labels else self.metric
            child.inc(n)


class _Observations:
    """Observations of one histogram, kept per label set until applied; then
    each bucket is incremented once by how many fell in it, as
    `Histogram.observe` would have one at a time (prometheus_client keeps
    per-bucket counts in `_buckets` and the total in `_sum`; where a version
    lacks them, each value is observed one by one)."""

    __slots__ = ("bounds", "metric", "values")

    def __init__(self, metric: Any, buckets: tuple[float, ...]) -> None:
        self.metric = metric
        self.bounds = (*buckets, math.inf)
        self.values: dict[tuple[str, ...], list[float]] = {}

    def add(self, labels: tuple[str, ...], value: float) -> None:
        got = self.values.get(labels)
        if got is None:
            self.values[labels] = [value]
        else:
            got.append(value)

    def apply(self) -> None:
        values, self.values = self.values, {}
        for labels, seen in values.items():
            child = self.metric.labels(*labels) if labels else self.metric
            buckets = getattr(child, "_buckets", None)
            total = getattr(child, "_sum", None)
            if buckets is None or total is None or len(buckets) != len(self.bounds):
                for v in seen:
                    child.observe(v)
                continue
            per_bucket = collections.Counter(bisect_left(self.bounds, v) for v in seen)
            for i, n in per_bucket.items():
                buckets[i].inc(n)
            total.inc(math.fsum(seen))


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "llr_requests", "Client requests by outcome.",
            ["route", "backend", "model", "status"], registry=r,
        )  # fmt: skip
        self.duration = Histogram(
            "llr_request_duration_seconds", "Client request duration.",
            ["backend"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.ttfb = Histogram(
            "llr_ttfb_seconds", "Time to the first byte sent to the client.",
            ["backend"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.overhead = Histogram(
            "llr_router_overhead_seconds",
            "The router's own time per request, excluding the backend.",
            buckets=OVERHEAD_BUCKETS, registry=r,
        )  # fmt: skip
        self.fallbacks = Counter(
            "llr_fallbacks", "Moves down a route's chain.",
            ["route", "from", "to", "reason"], registry=r,
        )  # fmt: skip
        self.shifts = Counter(
            "llr_latency_shifts", "Latency-budget shifts and hedges.",
            ["route"], registry=r,
        )  # fmt: skip
        self.pins = Counter(
            "llr_privacy_pins", "Pinned requests: served locally or blocked.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.shadow = Counter(
            "llr_shadow_requests", "A/B mirror calls.",
            ["primary", "candidate", "status"], registry=r,
        )  # fmt: skip
        self.backend_up = Gauge(
            "llr_backend_up", "1 if the backend can be used (key set, reachable).",
            ["backend"], registry=r, multiprocess_mode="max",
        )  # fmt: skip
        self.reloads = Counter(
            "llr_policy_reloads", "Policy reloads by outcome (ok, failed).",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.circuit_state = Gauge(
            "llr_circuit_state",
            "Circuit breaker per backend: 0 closed, 1 open, 2 half-open.",
            ["backend"], registry=r, multiprocess_mode="max",
        )  # fmt: skip
        self.tokens = Counter(
            "llr_tokens", "Tokens by backend and direction (in, out).",
            ["backend", "direction"], registry=r,
        )  # fmt: skip
        self.dropped = Counter(
            "llr_metrics_dropped", "Records dropped because the store queue was full.",
            registry=r,
        )  # fmt: skip
        self._requests = _Tally(self.requests)
        self._fallbacks = _Tally(self.fallbacks)
        self._shifts = _Tally(self.shifts)
        self._pins = _Tally(self.pins)
        self._tokens = _Tally(self.tokens)
        self._duration = _Observations(self.duration, LATENCY_BUCKETS)
        self._ttfb = _Observations(self.ttfb, LATENCY_BUCKETS)
        self._overhead = _Observations(self.overhead, OVERHEAD_BUCKETS)
        self._held = 0
        # With several workers a scrape is answered by any one of them from
        # the shared files: each applies what it holds before its event loop
        # next waits for I/O, so no scrape misses a finished request.
        self._soon = multiprocess_dir() is not None
        self._scheduled = False

    def observe(self, rec: RequestRecord, hops: list[tuple[str, str, str]]) -> None:
        """Count one finished client request. `hops` are (from, to, reason)
        moves down the chain, in order. Held and summed per label set until
        `flush()` (every scrape, every second, every `FLUSH_AT` records)."""
        backend = rec.backend or "none"
        route = rec.route_name or str(rec.route)
        self._requests.add((route, backend, rec.model or "none", str(rec.status)))
        by_backend = (backend,)
        self._duration.add(by_backend, rec.latency_ms / 1000)
        if rec.ttfb_ms is not None:
            self._ttfb.add(by_backend, rec.ttfb_ms / 1000)
        self._overhead.add((), rec.overhead_us / 1e6)
        for src, dst, reason in hops:
            self._fallbacks.add((route, src, dst, reason))
        if rec.latency_shifted or rec.hedged:
            self._shifts.add((route,))
        if rec.pinned:
            served = rec.backend is not None and rec.status < 400
            self._pins.add(("served_locally" if served else "blocked",))
        if rec.tokens_in:
            self._tokens.add((backend, "in"), rec.tokens_in)
        if rec.tokens_out:
            self._tokens.add((backend, "out"), rec.tokens_out)
        self._held += 1
        if self._held >= FLUSH_AT:
            self.flush()
        elif self._soon and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Apply every held observation to the Prometheus metrics."""
        self._held = 0
        self._scheduled = False
        for held in (
            self._requests,
            self._fallbacks,
            self._shifts,
            self._pins,
            self._tokens,
            self._duration,
            self._ttfb,
            self._overhead,
        ):
            held.apply()

    def observe_shadow(self, rec: ShadowRecord) -> None:
        status = str(rec.status) if rec.status else (rec.error_kind or "error")
        self.shadow.labels(rec.primary, rec.candidate, status).inc()

    def render(self) -> bytes:
        self.flush()
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # untyped upstream
        return generate_latest(merged)
