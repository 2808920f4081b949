"""Record stage, Prometheus: counters and histograms fed from each record.

One private `CollectorRegistry` per app (so tests can run many apps in one
process). With several workers, `PROMETHEUS_MULTIPROC_DIR` is set by the
server before the workers start and `render()` merges every worker's files,
so one scrape sees them all.
"""

from __future__ import annotations

import os

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
        self.tokens = Counter(
            "llr_tokens", "Tokens by backend and direction (in, out).",
            ["backend", "direction"], registry=r,
        )  # fmt: skip
        self.dropped = Counter(
            "llr_metrics_dropped", "Records dropped because the store queue was full.",
            registry=r,
        )  # fmt: skip

    def observe(self, rec: RequestRecord, hops: list[tuple[str, str, str]]) -> None:
        """Count one finished client request. `hops` are (from, to, reason)
        moves down the chain, in order."""
        backend = rec.backend or "none"
        route = rec.route_name or str(rec.route)
        self.requests.labels(route, backend, rec.model or "none", str(rec.status)).inc()
        self.duration.labels(backend).observe(rec.latency_ms / 1000)
        if rec.ttfb_ms is not None:
            self.ttfb.labels(backend).observe(rec.ttfb_ms / 1000)
        self.overhead.observe(rec.overhead_us / 1e6)
        for src, dst, reason in hops:
            self.fallbacks.labels(route, src, dst, reason).inc()
        if rec.latency_shifted or rec.hedged:
            self.shifts.labels(route).inc()
        if rec.pinned:
            served = rec.backend is not None and rec.status < 400
            self.pins.labels("served_locally" if served else "blocked").inc()
        if rec.tokens_in:
            self.tokens.labels(backend, "in").inc(rec.tokens_in)
        if rec.tokens_out:
            self.tokens.labels(backend, "out").inc(rec.tokens_out)

    def observe_shadow(self, rec: ShadowRecord) -> None:
        status = str(rec.status) if rec.status else (rec.error_kind or "error")
        self.shadow.labels(rec.primary, rec.candidate, status).inc()

    def render(self) -> bytes:
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # untyped upstream
        return generate_latest(merged)
