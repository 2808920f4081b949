"""Record stage, read side: the metrics database's rows in, typed summaries out.

`/v1/metrics` (per route and per backend counts, exact latency percentiles,
tokens, cost), `/v1/ab` (matched samples per primary/candidate pair) and the
live estimates' warm start. Every query starts from a time index, so its cost
follows the rows in the window, not the size of the table.

`/v1/metrics` is one query: a GROUP BY over (route, route name, backend,
chunk of rowids) returns the counts and sums, and every latency of the chunk
as one string (group_concat), so SQLite does the scan and the grouping with
the GIL released and Python builds one object per sample, not a row tuple.
A worker thread sorts each chunk (at most `CHUNK` samples, so no single call
holds the GIL for long) and picks the percentiles out of the sorted chunks:
the event loop keeps serving during a scrape of a million rows.

Percentiles are exact and nearest-rank (the smallest sample with at least p%
of the samples at or below it), as `router.ab.percentile`, of the latencies
as SQLite renders them (15 significant digits).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
import msgspec


def ok(table: str = "") -> str:
    """SQL for "this request or shadow call succeeded": an HTTP status below 400
    and no error recorded afterwards (a 200 stream that broke or lost its
    client is not a success)."""
    t = f"{table}." if table else ""
    return f"({t}status BETWEEN 1 AND 399 AND {t}error_kind IS NULL)"


# Arms whose outcome was never observed, because the router cut them short
# (client gone, shutdown), not because the backend failed: left out of A/B.
UNOBSERVED_PRIMARY = "client_disconnect"
UNOBSERVED_SHADOW = "cancelled"


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """What `/v1/metrics` reports for one route or one backend."""

    requests: int
    successes: int
    errors: int
    fallbacks: int
    latency_shifts: int
    pinned: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    ttfb_p50_ms: float | None  # None when no request got a first byte
    tokens_in: int
    tokens_out: int
    cost_usd: float


class RouteStats(Totals, frozen=True, kw_only=True):
    route: int  # -1: failed before routing (bad JSON, wrong types)
    name: str | None


class BackendStats(Totals, frozen=True, kw_only=True):
    backend: str


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """The body of `/v1/metrics`: requests with `ts >= since`."""

    window: str
    since: float
    routes: list[RouteStats]
    backends: list[BackendStats]


class PairSamples(msgspec.Struct, frozen=True, kw_only=True):
    """Matched samples of one A/B pair, index-aligned and oldest first: the
    i-th shadow call and the client request it mirrored, as (ok, latency_ms)."""

    primary: str
    candidate: str
    primary_arm: list[tuple[bool, float]]
    candidate_arm: list[tuple[bool, float]]


# Rows of one group per string: bounds the work of one sort in `fold`.
CHUNK = 1 << 16

# INDEXED BY keeps the scan on the window, where the planner would rather
# read (backend, ts) whole for the GROUP BY order.
SUMMARY_SQL = f"""
SELECT route, route_name, backend, count(*), sum({ok()}),
       sum(fallback_from IS NOT NULL), sum(latency_shifted), sum(pinned),
       sum(tokens_in), sum(tokens_out), sum(cost_usd),
       group_concat(latency_ms), group_concat(ttfb_ms)
FROM requests INDEXED BY requests_ts WHERE ts >= ?
GROUP BY route, route_name, backend, rowid / ?
"""

# Each shadow row takes the one request row it mirrored: same request id,
# served by the primary, the latest to arrive before the mirror call started
# (a client may reuse a request id).
PAIRS_SQL = f"""
SELECT s."primary", s.candidate, {ok("r")}, r.latency_ms, {ok("s")}, s.latency_ms
FROM shadow AS s INDEXED BY shadow_ts
JOIN requests AS r ON r.rowid = (
    SELECT q.rowid FROM requests AS q INDEXED BY requests_request_id
    WHERE q.request_id = s.request_id AND q.backend = s."primary" AND q.ts <= s.ts
    ORDER BY q.ts DESC LIMIT 1
)
WHERE s.ts >= ?
  AND r.error_kind IS NOT '{UNOBSERVED_PRIMARY}'
  AND s.error_kind IS NOT '{UNOBSERVED_SHADOW}'
ORDER BY s."primary", s.candidate, s.ts
"""

# The live estimates measure the time to a backend's first byte, so the warm
# start replays the same quantity (a whole stream's length is not latency).
RECENT_SQL = f"""
SELECT backend, ts, COALESCE(ttfb_ms, latency_ms) FROM requests INDEXED BY requests_ts
WHERE ts >= ? AND backend IS NOT NULL AND {ok()}
ORDER BY ts
"""

COUNT_SQL = "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM shadow)"

RouteKey = tuple[int, str | None]


def _floats(joined: str | None) -> list[float]:
    return sorted(map(float, joined.split(","))) if joined else []


def select(chunks: Sequence[Sequence[float]], k: int) -> float:
    """The k-th smallest (from 1) of the union of sorted chunks, without
    merging them. Each round splits the live part of every chunk at the
    weighted median of their middles: the side that cannot hold the answer
    (at least a quarter of what is live) is dropped, so O(log n) rounds of
    one bisection per chunk."""
    live = [(c, 0, len(c)) for c in chunks if c]
    while True:
        middles = sorted((c[(lo + hi) // 2], hi - lo) for c, lo, hi in live)
        weights = list(itertools.accumulate(w for _, w in middles))
        pivot = middles[bisect.bisect_left(weights, weights[-1] / 2)][0]
        below = [bisect.bisect_left(c, pivot, lo, hi) for c, lo, hi in live]
        upto = [bisect.bisect_right(c, pivot, lo, hi) for c, lo, hi in live]
        n_below = sum(b - lo for b, (_, lo, _) in zip(below, live, strict=True))
        n_upto = sum(u - lo for u, (_, lo, _) in zip(upto, live, strict=True))
        if k <= n_below:
            live = [(c, lo, b) for b, (c, lo, _) in zip(below, live, strict=True)]
        elif k <= n_upto:
            return pivot
        else:
            k -= n_upto
            live = [(c, u, hi) for u, (c, _, hi) in zip(upto, live, strict=True)]
        live = [(c, lo, hi) for c, lo, hi in live if lo < hi]


def percentile(chunks: Sequence[Sequence[float]], p: int) -> float | None:
    """Nearest-rank percentile of sorted chunks; None when they are empty."""
    n = sum(map(len, chunks))
    return select(chunks, max(1, (p * n + 99) // 100)) if n else None


class _Group:
    """Totals and sorted sample chunks of one route or backend."""

    __slots__ = ("latencies", "sums", "ttfbs")

    def __init__(self) -> None:
        self.sums: list[float] = [0] * 8
        self.latencies: list[list[float]] = []
        self.ttfbs: list[list[float]] = []

    def add(
        self, sums: Sequence[float], latencies: list[float], ttfbs: list[float]
    ) -> None:
        self.sums = [a + b for a, b in zip(self.sums, sums, strict=True)]
        self.latencies.append(latencies)
        if ttfbs:
            self.ttfbs.append(ttfbs)

    def totals(self) -> dict[str, Any]:
        requests, ok, fallbacks, shifts, pinned, t_in, t_out, cost = self.sums
        lat = self.latencies
        return {
            "requests": int(requests),
            "successes": int(ok),
            "errors": int(requests - ok),
            "fallbacks": int(fallbacks),
            "latency_shifts": int(shifts),
            "pinned": int(pinned),
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "p99_ms": percentile(lat, 99),
            "ttfb_p50_ms": percentile(self.ttfbs, 50),
            "tokens_in": int(t_in),
            "tokens_out": int(t_out),
            "cost_usd": float(cost),
        }


def fold(rows: Iterable[Sequence[Any]], *, window: str, since: float) -> Summary:
    """`SUMMARY_SQL` rows (one per group and chunk) -> `Summary`."""
    routes: dict[RouteKey, _Group] = {}
    backends: dict[str, _Group] = {}
    for route, name, backend, *sums, latencies, ttfbs in rows:
        chunk = (sums, _floats(latencies), _floats(ttfbs))
        routes.setdefault((route, name), _Group()).add(*chunk)
        if backend is not None:
            backends.setdefault(backend, _Group()).add(*chunk)
    return Summary(
        window=window,
        since=since,
        routes=[
            RouteStats(route=route, name=name, **g.totals())
            for (route, name), g in sorted(
                routes.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ],
        backends=[
            BackendStats(backend=b, **g.totals()) for b, g in sorted(backends.items())
        ],
    )


async def summary(
    conn: aiosqlite.Connection, since: float, window: str, *, chunk: int = CHUNK
) -> Summary:
    rows = await conn.execute_fetchall(SUMMARY_SQL, (since, chunk))
    return await asyncio.to_thread(fold, rows, window=window, since=since)


async def ab_pairs(
    conn: aiosqlite.Connection, since: float | None
) -> list[PairSamples]:
    rows = await conn.execute_fetchall(
        PAIRS_SQL, (float("-inf") if since is None else since,)
    )
    pairs = []
    for (primary, candidate), group in itertools.groupby(rows, key=lambda r: r[:2]):
        members = list(group)
        pairs.append(
            PairSamples(
                primary=primary,
                candidate=candidate,
                primary_arm=[(bool(r[2]), r[3]) for r in members],
                candidate_arm=[(bool(r[4]), r[5]) for r in members],
            )
        )
    return pairs


async def recent_latencies(
    conn: aiosqlite.Connection, since: float
) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for backend, ts, latency in await conn.execute_fetchall(RECENT_SQL, (since,)):
        out.setdefault(backend, []).append((ts, latency))
    return out


async def count(conn: aiosqlite.Connection) -> tuple[int, int]:
    async with conn.execute(COUNT_SQL) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
