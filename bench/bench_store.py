"""Metrics store: write throughput through `submit()` and the writer's drain,
what `submit()` costs the request path, and `summary()` latency over 1M rows.

Variants, each in its own process on a fresh temp file:

- `write-burst`: N request records submitted back to back (queue sized to
  hold them all), then `close()` drains them; rows/s over submit + drain,
  and ns per `submit()` call.
- `write-paced`: the default 10k queue; the producer yields whenever the
  queue is nearly full, as a busy proxy would; sustained rows/s, drops.
- `summary`: 1M request rows spread over 24 h (written straight to the file),
  then `summary()` for the 1 h window (~42k rows) and the 24 h window (all
  1M rows); median of a few calls.

Every variant also reports the event loop's worst stall while it ran (a 1 ms
ticker's overshoot): the store must not freeze the proxy around it. Results
are appended as JSON lines to bench/results/store.jsonl.

    python bench/bench_store.py [--rows 100000] [--summary-rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
from benchmeta import append, stamp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "store.jsonl"
sys.path.insert(0, str(ROOT))

from router.metrics.record import RequestRecord  # noqa: E402
from router.metrics.store import Store  # noqa: E402
from router.metrics.store_schema import INSERT_REQUEST  # noqa: E402

BACKENDS = ("local", "sarmalink", "frontier")
ROUTES = ((-1, None), (0, "private"), (1, "code"), (2, "default"))


def record(rnd: random.Random, ts: float, i: int) -> RequestRecord:
    """A plausible request: routes and backends skewed, latencies log-normal."""
    route, name = ROUTES[min(3, int(rnd.expovariate(1.0)))]
    backend = None if route == -1 else BACKENDS[rnd.randrange(3)]
    failed = route == -1 or rnd.random() < 0.03
    latency = rnd.lognormvariate(6.5, 0.6)
    return RequestRecord(
        ts=ts,
        request_id=f"{i:032x}",
        api="chat",
        stream=rnd.random() < 0.5,
        route=route,
        route_name=name,
        reason="Privacy: never leave the machine; privacy pin (high >= high)",
        backend=backend,
        model=None if backend is None else "qwen2.5-coder:7b",
        status=502 if failed else 200,
        error_kind="backend_status" if failed else None,
        fallback_from="local" if rnd.random() < 0.05 else None,
        latency_shifted=rnd.random() < 0.02,
        hedged=False,
        pinned=route == 0,
        ttfb_ms=None if failed else latency * rnd.random(),
        latency_ms=latency,
        overhead_us=rnd.randrange(150, 900),
        tokens_in=rnd.randrange(10, 4000),
        tokens_out=rnd.randrange(1, 1000),
        cost_usd=rnd.random() / 100,
        task="code",
        complexity="low",
        sensitivity="low",
        modality="text",
        family="qwen-coder",
        tokens_est=rnd.randrange(10, 4000),
    )


class LoopLag:
    """Worst overshoot of a 1 ms sleep while the probe runs."""

    def __init__(self) -> None:
        self.worst_ms = 0.0

    async def tick(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - t) * 1e3 - 1)


@contextlib.asynccontextmanager
async def loop_lag() -> AsyncIterator[LoopLag]:
    probe = LoopLag()
    task = asyncio.create_task(probe.tick())
    try:
        yield probe
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def write_burst(db: Path, n: int) -> list[dict[str, Any]]:
    rnd, now = random.Random(1), time.time()
    records = [record(rnd, now, i) for i in range(n)]
    store = await Store.open(db, max_queue=n)
    async with loop_lag() as lag:
        t0 = time.perf_counter()
        for r in records:
            store.submit(r)
        t1 = time.perf_counter()
        await store.close()
        t2 = time.perf_counter()
    assert store.written == n and store.dropped == 0
    return [
        {
            "variant": "write-burst",
            "rows": n,
            "rows_per_s": round(n / (t2 - t0)),
            "drain_rows_per_s": round(n / (t2 - t1)),
            "submit_ns": round((t1 - t0) / n * 1e9),
            "seconds": round(t2 - t0, 3),
            "loop_max_lag_ms": round(lag.worst_ms, 2),
        }
    ]


async def write_paced(db: Path, n: int) -> list[dict[str, Any]]:
    rnd, now = random.Random(2), time.time()
    records = [record(rnd, now, i) for i in range(n)]
    store = await Store.open(db)
    chunk, room = 500, 10_000 - 500
    async with loop_lag() as lag:
        t0 = time.perf_counter()
        for i in range(0, n, chunk):
            while store.queued > room:
                await asyncio.sleep(0.0005)
            for r in records[i : i + chunk]:
                store.submit(r)
        await store.close()
        t1 = time.perf_counter()
    return [
        {
            "variant": "write-paced",
            "rows": n,
            "rows_per_s": round(store.written / (t1 - t0)),
            "dropped": store.dropped,
            "seconds": round(t1 - t0, 3),
            "loop_max_lag_ms": round(lag.worst_ms, 2),
        }
    ]


def fill(db: Path, n: int, span_s: float, now: float) -> None:
    """n rows over the last `span_s`, oldest first, as the writer lays them."""
    rnd = random.Random(3)
    stamps = sorted(now - rnd.random() * span_s for _ in range(n))
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        for start in range(0, n, 50_000):
            conn.executemany(
                INSERT_REQUEST,
                (
                    msgspec.structs.astuple(record(rnd, ts, start + j))
                    for j, ts in enumerate(stamps[start : start + 50_000])
                ),
            )
        conn.execute("COMMIT")


async def summary(db: Path, n: int, repeat: int) -> list[dict[str, Any]]:
    now = time.time()
    await (await Store.open(db)).close()  # the schema
    t = time.perf_counter()
    fill(db, n, 24 * 3600.0, now)
    build_s = time.perf_counter() - t
    out = []
    store = await Store.open(db)
    try:
        for label, window_s in (("1h", 3600.0), ("24h", 24 * 3600.0)):
            times = []
            async with loop_lag() as lag:
                for _ in range(repeat):
                    t = time.perf_counter()
                    got = await store.summary(now - window_s, window=label)
                    times.append(time.perf_counter() - t)
            in_window = sum(r.requests for r in got.routes)
            ms = statistics.median(times) * 1e3
            out.append(
                {
                    "variant": f"summary-{label}",
                    "rows": n,
                    "window_rows": in_window,
                    "median_ms": round(ms, 1),
                    "ms_per_1k_window_rows": round(ms / in_window * 1e3, 3),
                    "repeat": repeat,
                    "fill_s": round(build_s, 1),
                    "loop_max_lag_ms": round(lag.worst_ms, 2),
                }
            )
    finally:
        await store.close()
    return out


VARIANTS: dict[str, Callable[[Path, argparse.Namespace], Any]] = {
    "write-burst": lambda db, a: write_burst(db, a.rows),
    "write-paced": lambda db, a: write_paced(db, a.rows),
    "summary": lambda db, a: summary(db, a.summary_rows, a.repeat),
}


def run_one(name: str, args: argparse.Namespace) -> None:
    """In the child: run one variant, print its rows as JSON on stdout."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(VARIANTS[name](Path(tmp) / "m.db", args))
    print(json.dumps(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--summary-rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.variant:
        run_one(args.variant, args)
        return 0

    rows: list[dict[str, Any]] = []
    for name in VARIANTS:
        child = subprocess.run(
            [sys.executable, __file__, "--variant", name, *(argv or sys.argv[1:])],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.extend(json.loads(child.stdout.splitlines()[-1]))

    meta = {
        **stamp(),
        "sqlite": sqlite3.sqlite_version,
        "aiosqlite": aiosqlite.__version__,
        "msgspec": msgspec.__version__,
    }
    append(RESULTS, ({**meta, **row} for row in rows))

    print(f"metrics store (SQLite {meta['sqlite']}, {meta['cpu']})")
    print(f"{'variant':12} {'rows':>9} {'rows/s':>9} {'submit ns':>9} {'ms':>9} "
          f"{'ms/1k rows':>10} {'loop lag ms':>11}")  # fmt: skip
    for r in rows:
        ms = r.get("median_ms", r.get("seconds", 0) * 1e3)
        print(
            f"{r['variant']:12} {r.get('window_rows', r['rows']):9} "
            f"{r.get('rows_per_s', ''):>9} {r.get('submit_ns', ''):>9} {ms:9.1f} "
            f"{r.get('ms_per_1k_window_rows', ''):>10} {r['loop_max_lag_ms']:11.2f}"
        )
    print(
        f"(summary: rows in the window, of {args.summary_rows} in the table; "
        "ms: median call)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
