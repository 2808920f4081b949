"""Metrics store, read side: `/v1/metrics` totals and exact percentiles on a
hand-made dataset, A/B matched samples, the live estimates' warm start."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import aiosqlite
import msgspec

from router.metrics import store_queries
from router.metrics.store import BackendStats, Record, RouteStats, Store, Summary
from router.metrics.store_queries import fold, percentile, select
from tests.unit.test_store_support import opened, req, shadow

T0 = 10_000.0


async def filled(path: Path, records: list[Record]) -> Store:
    store = await Store.open(path, retention_days=0)
    for r in records:
        assert store.submit(r)
    await store.flush()
    return store


def as_backend(name: str, route: RouteStats) -> BackendStats:
    fields = msgspec.structs.asdict(route)
    del fields["route"], fields["name"]
    return BackendStats(backend=name, **fields)


def dataset() -> list[Record]:
    """Route 0 "code": 100 requests on local with latencies 1..100 ms, of
    which 3 failed in different ways; route 1 "hard": 7 on frontier, one after
    a fallback from local; route -1: 2 refused before routing; one request
    before the window."""
    out: list[Record] = []
    for i in range(1, 101):
        fields: dict[str, object] = {
            "latency_ms": float(i),
            "ttfb_ms": i / 10,
            "cost_usd": 0.25,
        }
        if i == 7:
            fields |= {"status": 200, "error_kind": "stream_broken"}
        elif i == 8:
            fields |= {"status": 499, "error_kind": "client_disconnect"}
        elif i == 9:
            fields |= {"status": 502, "error_kind": "backend_status"}
        if i % 10 == 0:
            fields |= {"pinned": True, "latency_shifted": i == 50}
        out.append(req(ts=T0 + i, request_id=f"c{i}", **fields))
    for i, ms in enumerate([700.0, 100.0, 300.0, 600.0, 200.0, 500.0, 400.0]):
        out.append(
            req(
                ts=T0 + i,
                route=1,
                route_name="hard",
                backend="frontier",
                latency_ms=ms,
                ttfb_ms=None if i < 3 else ms / 2,
                fallback_from="local" if i == 0 else None,
                tokens_in=1000,
                tokens_out=500,
                cost_usd=0.5,
            )
        )
    for i in range(2):
        out.append(
            req(
                ts=T0 + i,
                route=-1,
                route_name=None,
                backend=None,
                model=None,
                status=400,
                error_kind="invalid_request_error",
                ttfb_ms=None,
                latency_ms=0.5,
                tokens_in=0,
                tokens_out=0,
                cost_usd=0.0,
            )
        )
    out.append(req(ts=T0 - 1, latency_ms=99_999.0, backend="frontier"))
    return out


async def test_summary_counts_and_exact_percentiles(tmp_path: Path) -> None:
    store = await filled(tmp_path / "m.db", dataset())
    try:
        got = await store.summary(T0, window="1h")
    finally:
        await store.close()
    code = RouteStats(
        route=0,
        name="code",
        requests=100,
        successes=97,
        errors=3,
        fallbacks=0,
        latency_shifts=1,
        pinned=10,
        p50_ms=50.0,
        p95_ms=95.0,
        p99_ms=99.0,
        ttfb_p50_ms=5.0,
        tokens_in=1000,
        tokens_out=2000,
        cost_usd=25.0,
    )
    hard = RouteStats(
        route=1,
        name="hard",
        requests=7,
        successes=7,
        errors=0,
        fallbacks=1,
        latency_shifts=0,
        pinned=0,
        # nearest rank of 7: p50 -> 4th, p95 and p99 -> 7th
        p50_ms=400.0,
        p95_ms=700.0,
        p99_ms=700.0,
        ttfb_p50_ms=200.0,  # of 100, 200, 250, 300: the 2nd
        tokens_in=7000,
        tokens_out=3500,
        cost_usd=3.5,
    )
    unrouted = RouteStats(
        route=-1,
        name=None,
        requests=2,
        successes=0,
        errors=2,
        fallbacks=0,
        latency_shifts=0,
        pinned=0,
        p50_ms=0.5,
        p95_ms=0.5,
        p99_ms=0.5,
        ttfb_p50_ms=None,
        tokens_in=0,
        tokens_out=0,
        cost_usd=0.0,
    )
    assert got == Summary(
        window="1h",
        since=T0,
        routes=[unrouted, code, hard],
        backends=[as_backend("frontier", hard), as_backend("local", code)],
    )


async def test_summary_json_is_the_v1_metrics_shape(tmp_path: Path) -> None:
    async with opened(tmp_path / "m.db") as store:
        store.submit(req())
        await store.flush()
        body = msgspec.json.decode(msgspec.json.encode(await store.summary(0.0)))
    stats = {
        "requests", "successes", "errors", "fallbacks", "latency_shifts", "pinned",
        "p50_ms", "p95_ms", "p99_ms", "ttfb_p50_ms", "tokens_in", "tokens_out",
        "cost_usd",
    }  # fmt: skip
    assert set(body) == {"window", "since", "routes", "backends"}
    assert set(body["routes"][0]) == stats | {"route", "name"}
    assert set(body["backends"][0]) == stats | {"backend"}


async def test_summary_of_an_empty_window(tmp_path: Path) -> None:
    async with opened(tmp_path / "m.db") as store:
        store.submit(req(ts=5.0))
        await store.flush()
        got = await store.summary(6.0, window="15m")
    assert got == Summary(window="15m", since=6.0, routes=[], backends=[])


def test_fold_merges_chunks_and_backends_of_a_route() -> None:
    rows = [
        (0, "r", "a", 1, 1, 0, 0, 0, 1, 1, 0.25, "3.0", None),
        (0, "r", "a", 1, 1, 0, 0, 0, 0, 0, 0.25, "1.0", "1.0"),
        (0, "r", "b", 1, 0, 1, 0, 0, 1, 1, 0.25, "2.0", None),
    ]
    got = fold(rows, window="", since=0.0)
    (route,) = got.routes
    assert (route.requests, route.successes, route.errors, route.fallbacks) == (
        3, 2, 1, 1,
    )  # fmt: skip
    assert (route.p50_ms, route.p99_ms, route.ttfb_p50_ms, route.cost_usd) == (
        2.0, 3.0, 1.0, 0.75,
    )  # fmt: skip
    assert [(b.backend, b.requests, b.p50_ms) for b in got.backends] == [
        ("a", 2, 1.0),
        ("b", 1, 2.0),
    ]


def test_select_agrees_with_sorting_everything() -> None:
    rnd = random.Random(5)
    for _ in range(300):
        values = [float(rnd.randrange(20)) for _ in range(rnd.randrange(1, 60))]
        cuts = sorted(rnd.choices(range(len(values) + 1), k=rnd.randrange(5)))
        bounds = [0, *cuts, len(values)]
        chunks = [sorted(values[i:j]) for i, j in itertools.pairwise(bounds)]
        everything = sorted(values)
        for k in range(1, len(values) + 1):
            assert select(chunks, k) == everything[k - 1]
        for p in (50, 95, 99):
            assert (
                percentile(chunks, p)
                == everything[max(1, math.ceil(p / 100 * len(values))) - 1]
            )
    assert percentile([[], []], 50) is None


async def test_summary_is_the_same_whatever_the_chunk_size(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = await filled(db, dataset())
    try:
        whole = await store.summary(T0, window="1h")
    finally:
        await store.close()
    async with aiosqlite.connect(db) as conn:
        for chunk in (1, 3, 64):
            assert await store_queries.summary(conn, T0, "1h", chunk=chunk) == whole


async def test_ab_pairs_match_each_shadow_to_its_request(tmp_path: Path) -> None:
    records: list[Record] = [
        # matched: ok/ok, failed primary, failed candidate
        req(ts=1.0, request_id="a", latency_ms=100.0),
        shadow(ts=2.0, request_id="a", latency_ms=90.0),
        req(ts=3.0, request_id="b", status=502, error_kind="backend_status"),
        shadow(ts=4.0, request_id="b", latency_ms=80.0),
        req(ts=5.0, request_id="c", latency_ms=120.0),
        shadow(ts=6.0, request_id="c", status=0, error_kind="timeout"),
        # not matched: no request row; served by another backend; request
        # id of a request that arrived after the mirror call
        shadow(ts=7.0, request_id="nobody"),
        req(ts=8.0, request_id="d", backend="sarmalink"),
        shadow(ts=9.0, request_id="d"),
        shadow(ts=9.5, request_id="e"),
        req(ts=9.6, request_id="e"),
        # cut short by the router, not by a backend
        req(ts=10.0, request_id="f", status=200, error_kind="client_disconnect"),
        shadow(ts=11.0, request_id="f"),
        req(ts=12.0, request_id="g"),
        shadow(ts=13.0, request_id="g", error_kind="cancelled"),
        # a reused request id: each mirror takes the request just before it
        req(ts=20.0, request_id="h", latency_ms=1.0),
        shadow(ts=21.0, request_id="h", latency_ms=2.0),
        req(ts=30.0, request_id="h", latency_ms=3.0),
        shadow(ts=31.0, request_id="h", latency_ms=4.0),
        # another pair, listed after local -> sarmalink
        req(ts=40.0, request_id="z", backend="sarmalink", latency_ms=7.0),
        shadow(ts=41.0, request_id="z", primary="sarmalink", candidate="local"),
    ]
    store = await filled(tmp_path / "m.db", records)
    try:
        pairs = await store.ab_pairs()
        recent = await store.ab_pairs(since=20.0)
    finally:
        await store.close()
    assert [(p.primary, p.candidate) for p in pairs] == [
        ("local", "sarmalink"),
        ("sarmalink", "local"),
    ]
    assert pairs[0].primary_arm == [
        (True, 100.0),
        (False, 100.0),
        (True, 120.0),
        (True, 1.0),
        (True, 3.0),
    ]
    assert pairs[0].candidate_arm == [
        (True, 90.0),
        (True, 80.0),
        (False, 80.0),
        (True, 2.0),
        (True, 4.0),
    ]
    assert pairs[1].primary_arm == [(True, 7.0)]
    assert [len(p.primary_arm) for p in recent] == [2, 1]


async def test_recent_latencies_of_successes_oldest_first(tmp_path: Path) -> None:
    records: list[Record] = [
        req(ts=3.0, ttfb_ms=None, latency_ms=30.0),  # no first byte: latency
        req(ts=1.0, ttfb_ms=10.0, latency_ms=900.0),  # a long stream: its ttfb
        req(ts=2.0, ttfb_ms=20.0, latency_ms=20.0, backend="frontier"),
        req(ts=4.0, status=502, error_kind="backend_status"),
        req(ts=5.0, status=200, error_kind="stream_broken"),
        req(ts=6.0, backend=None, status=503, error_kind="privacy_pinned"),
        req(ts=0.5, latency_ms=5.0),  # before the window
        shadow(ts=7.0),
    ]
    store = await filled(tmp_path / "m.db", records)
    try:
        got = await store.recent_latencies(1.0)
        assert await store.count() == (7, 1)
    finally:
        await store.close()
    assert got == {"local": [(1.0, 10.0), (3.0, 30.0)], "frontier": [(2.0, 20.0)]}
