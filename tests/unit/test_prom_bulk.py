"""Prometheus observations applied in bulk equal the same ones made one by one."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram

from router.metrics.prom import LATENCY_BUCKETS, OVERHEAD_BUCKETS, Metrics
from router.metrics.record import RequestRecord


def record(rng: random.Random) -> RequestRecord:
    backend = rng.choice(["local", "cloud", None])
    return RequestRecord(
        ts=0.0,
        request_id="r",
        api="chat",
        stream=False,
        route=rng.randint(0, 2),
        route_name=None,
        reason="",
        backend=backend,
        model="m" if backend else None,
        status=rng.choice([200, 200, 400, 502]),
        error_kind=None,
        fallback_from=None,
        latency_shifted=rng.random() < 0.2,
        hedged=False,
        pinned=rng.random() < 0.3,
        # Bucket bounds themselves land in their own bucket (le is <=).
        ttfb_ms=rng.choice([None, 100.0, rng.uniform(0, 200_000)]),
        latency_ms=rng.choice([250.0, rng.uniform(0, 200_000)]),
        overhead_us=rng.choice([10, 25, rng.randint(0, 20_000)]),
        tokens_in=rng.randint(0, 50),
        tokens_out=rng.randint(0, 50),
        cost_usd=0.0,
        task="general",
        complexity="low",
        sensitivity="low",
        modality="text",
        family="llama",
        tokens_est=1,
    )


def test_bulk_equals_one_by_one() -> None:
    rng = random.Random(3)
    records = [record(rng) for _ in range(3000)]  # past FLUSH_AT, so both ways
    m = Metrics()
    ref = CollectorRegistry()
    lat = Histogram("lat", "", ["backend"], buckets=LATENCY_BUCKETS, registry=ref)
    ttfb = Histogram("ttfb", "", ["backend"], buckets=LATENCY_BUCKETS, registry=ref)
    over = Histogram("over", "", buckets=OVERHEAD_BUCKETS, registry=ref)
    for r in records:
        m.observe(r, [("local", "cloud", "connect")] if r.backend == "cloud" else [])
        b = r.backend or "none"
        lat.labels(b).observe(r.latency_ms / 1000)
        if r.ttfb_ms is not None:
            ttfb.labels(b).observe(r.ttfb_ms / 1000)
        over.observe(r.overhead_us / 1e6)
    m.render()
    got = m.registry.get_sample_value
    want = ref.get_sample_value
    for b in ("local", "cloud", "none"):
        for le in (*LATENCY_BUCKETS, float("inf")):
            bound = str(le) if le != float("inf") else "+Inf"
            for ours, theirs in (
                ("llr_request_duration_seconds", "lat"),
                ("llr_ttfb_seconds", "ttfb"),
            ):
                assert got(f"{ours}_bucket", {"backend": b, "le": bound}) == want(
                    f"{theirs}_bucket", {"backend": b, "le": bound}
                )
        got_sum = got("llr_request_duration_seconds_sum", {"backend": b})
        assert got_sum == pytest.approx(want("lat_sum", {"backend": b}))
    for le in (*OVERHEAD_BUCKETS, float("inf")):
        bound = str(le) if le != float("inf") else "+Inf"
        assert got("llr_router_overhead_seconds_bucket", {"le": bound}) == want(
            "over_bucket", {"le": bound}
        )
    total = sum(1 for _ in records)
    counted = sum(
        s.value
        for metric in m.registry.collect()
        if metric.name == "llr_requests"
        for s in metric.samples
        if s.name == "llr_requests_total"
    )
    assert counted == total
    fallbacks = got(
        "llr_fallbacks_total",
        {"route": "0", "from": "local", "to": "cloud", "reason": "connect"},
    )
    assert fallbacks == sum(1 for r in records if r.backend == "cloud" and r.route == 0)
    tokens_in = got("llr_tokens_total", {"backend": "local", "direction": "in"})
    assert tokens_in == sum(r.tokens_in for r in records if r.backend == "local")
