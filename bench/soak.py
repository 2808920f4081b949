"""Soak: a fixed request rate through `llm-router serve` for minutes, on
loopback only, bounded in count and time.

One `fake_upstream.py --no-record` process plays a local Ollama and an
OpenAI-type cloud; the router (its own process, metrics store on) routes to
the local one with the cloud as fallback. The load is open loop at
`--rate` requests per second (latency counted from when each request was
due, so a stall is not hidden), half of them streamed, `--fault-rate` of
them asking for a faulty answer (`error-500` before the first byte, which
falls back; `cut-stream` after it, which ends the stream with an error
event; each counted in `faults_seen` when it happened so: a fallback
answer, or a stream that ended with its error). Every 10 s a line: served
rate, errors, p50/p99 and the router's resident memory; at the end the
totals and the memory growth after the first window (the warm-up).
`--no-save` skips appending to `bench/results/soak.jsonl`.

An error is what a client would call one: a status other than 200, a
failed connection, or a broken stream for a request that did not ask for
one. The in-flight requests are bounded (`--max-in-flight`); a request due
while that many are open is not sent and counted as `not_sent`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmeta import ROOT, append, stamp

WINDOW_S = 10.0
WARM_UP = 50
HOST = "127.0.0.1"
MAX_DURATION_S = 3600
MAX_REQUESTS = 4_000_000
FAULT_JSON, FAULT_STREAM = "error-500", "cut-stream"
FALLBACK = "cloud"
# What the local stand-in's `/api/tags` lists: a model it does not list is
# skipped before it is tried, so the faulty ones must be there.
PULLED = f"llama3.2,{FAULT_JSON},{FAULT_STREAM}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def policy(fake: str) -> str:
    return (
        "backends:\n"
        f"  local: {{type: ollama, endpoint: '{fake}', models: [llama3.2, "
        f"{FAULT_JSON}, {FAULT_STREAM}], timeoutMs: 5000}}\n"
        f"  {FALLBACK}: {{type: openai, endpoint: '{fake}/v1', model: gpt-4o, "
        "timeoutMs: 5000}\n"
        "routes:\n"
        "  - default: local\n"
        f"    fallback: {FALLBACK}\n"
    )


def rss_kb(pid: int) -> int:
    """Resident memory of `pid` and its children, in KiB (0 once gone)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def wait_up(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Window:
    started: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    faults: int = 0
    broken: int = 0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Soak:
    def __init__(self, args: argparse.Namespace, url: str, router_pid: int) -> None:
        self.args = args
        self.url = url
        self.pid = router_pid
        self.rng = random.Random(args.seed)
        self.in_flight = 0
        self.not_sent = 0
        self.window = Window(time.monotonic())
        self.windows: list[dict[str, Any]] = []
        self.all_latencies: list[float] = []
        self.totals = dict.fromkeys(
            ("sent", "done", "errors", "faults", "faults_seen", "broken"), 0
        )
        self.error_kinds: dict[str, int] = {}

    def body(self, stream: bool, faulty: bool) -> bytes:
        model = "auto"
        if faulty:
            model = FAULT_STREAM if stream else FAULT_JSON
        text = f"soak request {self.rng.randrange(10**9)}: summarise the weather"
        return orjson.dumps(
            {
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": text}],
            }
        )

    async def one(
        self, session: aiohttp.ClientSession, due: float, stream: bool, faulty: bool
    ) -> None:
        self.in_flight += 1
        kind = backend = None
        try:
            async with session.post(
                self.url + "/v1/chat/completions",
                data=self.body(stream, faulty),
                headers={"Content-Type": "application/json"},
            ) as r:
                raw = await r.read()
                backend = r.headers.get("x-llr-backend")
                if r.status != 200:
                    kind = f"http_{r.status}"
                elif stream and not raw.endswith(b"data: [DONE]\n\n"):
                    kind = "stream_broken"
        except (aiohttp.ClientError, TimeoutError) as exc:
            kind = type(exc).__name__
        finally:
            self.in_flight -= 1
        w, t = self.window, self.totals
        t["done"] += 1
        if faulty:
            w.faults += 1
            t["faults"] += 1
            fell_back = kind is None and backend == FALLBACK
            if fell_back or (stream and kind == "stream_broken"):
                t["faults_seen"] += 1
        if kind == "stream_broken" and faulty:
            w.broken += 1
            t["broken"] += 1
        elif kind is not None:
            w.errors += 1
            t["errors"] += 1
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        ms = (time.monotonic() - due) * 1000
        w.latencies.append(ms)
        self.all_latencies.append(ms)

    def close_window(self) -> None:
        w, now = self.window, time.monotonic()
        row = {
            "t_s": round(now - self.start, 1),
            "served_per_s": round(len(w.latencies) / (now - w.started), 1),
            "errors": w.errors,
            "faulty": w.faults,
            "broken_by_fault": w.broken,
            "p50_ms": _round(percentile(w.latencies, 50)),
            "p99_ms": _round(percentile(w.latencies, 99)),
            "rss_mb": round(rss_kb(self.pid) / 1024, 1),
            "in_flight": self.in_flight,
        }
        self.windows.append(row)
        print(
            f"{row['t_s']:7.1f}s  {row['served_per_s']:8.1f} req/s  "
            f"errors {row['errors']:4d}  p50 {row['p50_ms']} ms  "
            f"p99 {row['p99_ms']} ms  rss {row['rss_mb']} MB",
            flush=True,
        )
        self.window = Window(now)

    async def run(self) -> None:
        args = self.args
        total = min(int(args.rate * args.duration), MAX_REQUESTS)
        connector = aiohttp.TCPConnector(limit=args.max_in_flight)
        timeout = aiohttp.ClientTimeout(total=60)
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:
            for i in range(WARM_UP):  # first calls: connections, caches
                async with s.post(
                    self.url + "/v1/chat/completions", data=self.body(i % 2 == 1, False)
                ) as r:
                    await r.read()
            self.start = time.monotonic()
            self.window = Window(self.start)
            next_window = self.start + WINDOW_S
            for i in range(total):
                due = self.start + i / args.rate
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                if time.monotonic() >= next_window:
                    self.close_window()
                    next_window += WINDOW_S
                if self.in_flight >= args.max_in_flight:
                    self.not_sent += 1
                    continue
                self.totals["sent"] += 1
                faulty = self.rng.random() < args.fault_rate
                task = asyncio.create_task(self.one(s, due, i % 2 == 1, faulty))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=60)
            self.close_window()

    def summary(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.start
        warm = self.windows[0]["rss_mb"] if self.windows else None
        end = self.windows[-1]["rss_mb"] if self.windows else None
        t = self.totals
        return {
            "duration_s": round(elapsed, 1),
            "rate_offered": self.args.rate,
            "served_per_s": round(t["done"] / elapsed, 1),
            **t,
            "not_sent": self.not_sent,
            "error_kinds": self.error_kinds,
            "p50_ms": _round(percentile(self.all_latencies, 50)),
            "p99_ms": _round(percentile(self.all_latencies, 99)),
            "rss_mb_after_warmup": warm,
            "rss_mb_end": end,
            "rss_growth_mb": None
            if warm is None or end is None
            else round(end - warm, 1),
            "windows": self.windows,
        }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds")
    parser.add_argument("--rate", type=float, default=1000, help="requests/s")
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--max-in-flight", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the summary JSON")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S or args.rate <= 0:
        parser.error(f"--duration: 0..{MAX_DURATION_S} s; --rate: above 0")
    fake_port, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLR_")}
    env.update(OPENAI_API_KEY="sk-soak-not-a-key", PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="llr-soak-") as tmp:
        fake = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_upstream.py"), "--host",
             HOST, "--port", str(fake_port), "--no-record", "--pulled", PULLED],
            env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        path = Path(tmp) / "policy.yaml"
        path.write_text(policy(f"http://{HOST}:{fake_port}"))
        router = subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--policy", str(path),
             "--host", HOST, "--port", str(port), "--db", str(Path(tmp) / "m.db")],
            env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://{HOST}:{port}"
            deadline = time.monotonic() + 60
            wait_up(f"http://{HOST}:{fake_port}/v1/models", deadline)
            wait_up(url + "/health", deadline)
            soak = Soak(args, url, router.pid)
            uvloop.run(soak.run())
        finally:
            router.send_signal(signal.SIGTERM)
            code = router.wait(timeout=60)
            fake.terminate()
            fake.wait(timeout=30)
    result = {**stamp(), **soak.summary(), "router_exit": code}
    print(
        f"served {result['served_per_s']} req/s of {args.rate:g} offered, "
        f"{result['errors']} errors, {result['not_sent']} not sent, "
        f"{result['faults_seen']} of {result['faults']} faulty answers taken, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"rss {result['rss_mb_after_warmup']} -> {result['rss_mb_end']} MB "
        f"({result['rss_growth_mb']:+} MB after warm-up)"
    )
    if args.json:
        print(orjson.dumps(result).decode())
    if not args.no_save:
        append(ROOT / "bench" / "results" / "soak.jsonl", [result])
    return 0


if __name__ == "__main__":
    sys.exit(main())
