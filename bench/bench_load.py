"""Load on the router against the floor of its stack, in one run, on loopback.

Targets, each its own process in front of one fake upstream
(`fake_upstream.py --no-record --pieces 50`, its own process): `direct` (the
fake itself), `floor` (bench/floor.py: a bare aiohttp pass-through with one
pooled ClientSession), `router-1` (`llm-router serve --workers 1`, metrics on
in a temp --db) and `router-2` (`--workers 2`). Its policy sends `gpt-4o` to
an openai-type backend (pass-through) and `auto` to an ollama-type one
(translated); the direct and floor paths send the translated body to the
fake's /api/chat themselves, so every path does the same upstream work.

Measures, in interleaved rounds (every target once per measure, the target
order rotated each round), each after a warm-up:
  load50   closed loop, 50 connections, non-streaming chat (1 KB; also the
           ollama variant and (f) the 32 KB prose and code conversations):
           req/s, p50, p90, p99, errors, the target's CPU per request;
  seq      1 connection, sequential: p50/p99 and the overhead vs direct;
  rate-N   open loop at 500, 1,000, 2,000 req/s (the built-in generator:
           wrk is closed-loop): achieved req/s, p50/p99 from when each
           request was due;
  ttfb     1 connection, 50-chunk SSE streams: time to the first body byte
           and its overhead vs direct;
  rss      once per target, last: 1,000 concurrent slow streams
           (`slow-stream-100`, about 5 s each): peak RSS of the target's
           processes (from /proc; for router-2 the sum of its processes).
load50 runs through wrk (1 thread) when it is installed, the built-in
generator (bench/loadgen.py) otherwise; the output says which. Results are
appended to bench/results/load.jsonl, a table with ratio columns and the
issue's targets (pass/miss) are printed, and a PNG of the latency
percentiles is written when matplotlib is importable.

    python bench/bench_load.py [--duration 10] [--rounds 2] [--quick]
        [--only direct,floor,router-1,router-2] [--generator auto|wrk|builtin]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from benchmeta import append, stamp
from loadkit import (
    BENCH,
    ROOT,
    Server,
    bodies,
    chat,
    closed_load,
    connections,
    free_port,
    ollama_body,
    probe,
    raise_fd_limit,
    rss_bytes,
    run_builtin,
    uncommitted,
    wrk_version,
)
from loadreport import figures, latest, plot, tables, verdicts

RESULTS = ROOT / "bench" / "results" / "load.jsonl"
PEERS = ROOT / "bench" / "results" / "peers.jsonl"
PNG = ROOT / "bench" / "results" / "load-latency.png"
TARGETS = ("direct", "floor", "router-1", "router-2")
RATES = (500, 1000, 2000)
SLOW = "slow-stream-100"
STREAMS = 1000
FAKE_ARGS = ("--no-record", "--pieces", "50")

POLICY = """
backends:
  local: {{type: ollama, endpoint: "http://127.0.0.1:{port}", model: llama3.2,
           p50Ms: 100}}
  cloud: {{type: openai, endpoint: "http://127.0.0.1:{port}/v1", model: gpt-4o,
           models: [gpt-4o, {slow}], p50Ms: 100}}
routes:
  - match: {{model: [gpt-4o, {slow}]}}
    backend: cloud
  - default: local
"""


class Scenario(msgspec.Struct, frozen=True):
    """One request shape: what a router gets, and what direct/floor send."""

    name: str
    router_path: str
    router_body: bytes
    direct_path: str
    direct_body: bytes
    backend: str  # the x-llr-backend the router must answer with


def scenarios() -> dict[str, Scenario]:
    enc = msgspec.json.encode
    convs = bodies()
    out: dict[str, Scenario] = {}
    chat_path = "/v1/chat/completions"
    for name in ("1k", "prose-32k", "code-32k"):
        raw = enc(chat("gpt-4o", convs[name]))
        out[f"chat-{name}"] = Scenario(
            f"chat-{name}", chat_path, raw, chat_path, raw, "cloud"
        )
    out["chat-1k-ollama"] = Scenario(
        "chat-1k-ollama",
        chat_path,
        enc(chat("auto", convs["1k"])),
        "/api/chat",
        enc(ollama_body(convs["1k"], "llama3.2", stream=False)),
        "local",
    )
    raw = enc(chat("gpt-4o", convs["stream"], stream=True))
    out["stream-50"] = Scenario("stream-50", chat_path, raw, chat_path, raw, "cloud")
    raw = enc(chat(SLOW, convs["stream"], stream=True))
    out["slow-stream"] = Scenario(
        "slow-stream", chat_path, raw, chat_path, raw, "cloud"
    )
    return out


class Bench:
    """The running servers, the body files and the options of one run."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.servers: dict[str, Server] = {}
        self.fake: Server | None = None
        self.scen = scenarios()
        self.files: dict[tuple[str, bool], Path] = {}
        for s in self.scen.values():
            for is_router, raw in ((True, s.router_body), (False, s.direct_body)):
                path = tmp / f"{s.name}-{'router' if is_router else 'direct'}.json"
                path.write_bytes(raw)
                self.files[s.name, is_router] = path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "OPENAI_API_KEY": "bench",
            "LLR_LOG_LEVEL": "warning",
        }

    def start(self, targets: list[str]) -> None:
        py = sys.executable
        port = free_port()
        self.fake = Server(
            "fake",
            [py, str(BENCH / "fake_upstream.py"), "--port", str(port), *FAKE_ARGS],
            port,
            self.tmp / "fake.log",
            self.env(),
        )
        self.fake.wait_up(30)
        upstream = f"http://127.0.0.1:{port}"
        policy = self.tmp / "policy.yaml"
        policy.write_text(POLICY.format(port=port, slow=SLOW))
        if "direct" in targets:
            self.servers["direct"] = self.fake
        if "floor" in targets:
            p = free_port()
            cmd = [
                py,
                str(BENCH / "floor.py"),
                "--port",
                str(p),
                "--upstream",
                upstream,
            ]
            self.servers["floor"] = Server(
                "floor", cmd, p, self.tmp / "floor.log", self.env()
            )
        for workers in (1, 2):
            name = f"router-{workers}"
            if name not in targets:
                continue
            p = free_port()
            cmd = [py, "-m", "router", "serve", "--policy", str(policy)]
            cmd += ["--port", str(p), "--workers", str(workers)]
            cmd += ["--db", str(self.tmp / f"{name}.db")]
            self.servers[name] = Server(
                name, cmd, p, self.tmp / f"{name}.log", self.env(), cwd=self.tmp
            )
        for name, server in self.servers.items():
            server.wait_up(60, path="/health" if name.startswith("router") else None)
        for name in self.servers:
            for s in self.scen.values():
                self.check(name, s)

    def check(self, target: str, s: Scenario) -> None:
        """One request per scenario: a 200, and a router routes as meant."""
        is_router = target.startswith("router")
        path = s.router_path if is_router else s.direct_path
        raw = s.router_body if is_router else s.direct_body
        if s.name == "slow-stream":
            return  # 5 s each; the rss measure checks its errors
        got = probe(self.servers[target].port, path, raw, {})
        if got["status"] != 200:
            raise RuntimeError(f"{target} {s.name}: HTTP {got['status']} {got['head']}")
        backend = got["headers"].get("x-llr-backend")
        if is_router and backend != s.backend:
            raise RuntimeError(
                f"{target} {s.name}: routed to {backend}, not {s.backend}"
            )

    def stop(self) -> None:
        for name, server in self.servers.items():
            if name != "direct":
                server.stop()
        if self.fake is not None:
            self.fake.stop()

    def target_pids(self, target: str) -> list[int]:
        return self.servers[target].pids()

    def where(self, target: str, scen: str) -> tuple[int, str, Path]:
        s = self.scen[scen]
        is_router = target.startswith("router")
        path = s.router_path if is_router else s.direct_path
        return self.servers[target].port, path, self.files[scen, is_router]

    # --- measures -------------------------------------------------------

    def closed(self, target: str, scen: str, conns: int, gen: str) -> dict[str, Any]:
        port, path, body = self.where(target, scen)
        server, fake = self.servers[target], self.fake
        assert fake is not None
        return closed_load(
            port, path, body, {}, conns, gen, self.args, server.pids, fake.pids
        )

    def seq(self, target: str, scen: str) -> dict[str, Any]:
        port, path, body = self.where(target, scen)
        d = self.args.duration / 2
        r = run_builtin(port, path, body, {}, "closed", 1, d, warmup=self.args.warmup)
        r["generator"] = "builtin"
        return r

    def rate(self, target: str, scen: str, rate: int) -> dict[str, Any]:
        port, path, body = self.where(target, scen)
        d = self.args.duration / 2
        r = run_builtin(
            port, path, body, {}, "open", 128, d, warmup=self.args.warmup, rate=rate
        )
        r["generator"] = "builtin"
        return r

    def rss(self, target: str) -> dict[str, Any]:
        port, path, body = self.where(target, "slow-stream")
        pids = self.target_pids(target)
        base = rss_bytes(pids)
        peak, upstream = [base], [0]
        done = threading.Event()
        assert self.fake is not None
        fake_port = self.fake.port

        def sample() -> None:
            while not done.is_set():
                now_pids = self.target_pids(target)
                peak[0] = max(peak[0], rss_bytes(now_pids))
                upstream[0] = max(upstream[0], connections(now_pids, fake_port))
                done.wait(0.1)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            r = run_builtin(port, path, body, {}, "burst", STREAMS, 0, timeout=120)
        finally:
            done.set()
            thread.join()
        after = rss_bytes(self.target_pids(target))
        r |= {
            "streams": STREAMS,
            "rss_base_mb": round(base / 2**20, 1),
            "rss_peak_mb": round(peak[0] / 2**20, 1),
            "rss_after_mb": round(after / 2**20, 1),
            "processes": len(pids),
            "fake_conns_peak": upstream[0],
            "model": SLOW,
            "chunks": 50,
            "generator": "builtin",
        }
        return r


def plan(args: argparse.Namespace, gen: str) -> list[tuple[str, str, Callable]]:
    """(measure, scenario, run(bench, target)) in the order each round runs."""
    steps: list[tuple[str, str, Callable]] = [
        ("load50", "chat-1k", lambda b, t: b.closed(t, "chat-1k", 50, gen)),
        (
            "load50",
            "chat-1k-ollama",
            lambda b, t: b.closed(t, "chat-1k-ollama", 50, gen),
        ),
        ("seq", "chat-1k", lambda b, t: b.seq(t, "chat-1k")),
        ("seq", "chat-1k-ollama", lambda b, t: b.seq(t, "chat-1k-ollama")),
    ]
    for rate in RATES:
        steps.append(
            (f"rate-{rate}", "chat-1k", lambda b, t, r=rate: b.rate(t, "chat-1k", r))
        )
    steps.append(("ttfb", "stream-50", lambda b, t: b.seq(t, "stream-50")))
    for scen in ("chat-prose-32k", "chat-code-32k"):
        steps.append(("load50", scen, lambda b, t, s=scen: b.closed(t, s, 50, gen)))
    if args.steps:
        wanted = set(args.steps.split(","))
        unknown = wanted - {f"{m}:{s}" for m, s, _ in steps}
        if unknown:
            raise SystemExit(f"--steps: no such step {', '.join(sorted(unknown))}")
        steps = [step for step in steps if f"{step[0]}:{step[1]}" in wanted]
    return steps


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty()

    def show(self, what: str) -> None:
        self.done += 1
        spent = time.monotonic() - self.t0
        eta = spent / max(1, self.done - 1) * (self.total - self.done + 1)
        eta_txt = f", ~{eta:.0f}s left" if self.done > 1 else ""
        line = f"[{self.done}/{self.total}] {what} ({spent:.0f}s{eta_txt})"
        if self.tty:
            sys.stderr.write("\r\033[K" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def run_steps(bench: Bench, args: argparse.Namespace, targets: list[str], gen: str):
    """Every measure for every target, round by round, the order of the
    targets rotated each round; a step that fails is reported, not fatal."""
    steps = plan(args, gen)
    rss = [] if args.no_rss else targets
    progress = Progress(args.rounds * len(steps) * len(targets) + len(rss))
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []

    def one(rnd: int, measure: str, scen: str, t: str, run: Callable) -> None:
        where = {"round": rnd, "measure": measure, "scenario": scen, "target": t}
        try:
            rows.append({**where, **run(bench, t)})
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            failed.append({**where, "failed": str(exc)[-600:]})
            print(f"\n{measure} {scen} {t} failed: {exc}", file=sys.stderr)

    try:
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(targets)
            order = targets[k:] + targets[:k]
            for measure, scen, run in steps:
                for t in order:
                    progress.show(f"round {rnd}/{args.rounds} {measure} {scen} {t}")
                    one(rnd, measure, scen, t, run)
        for t in rss:
            progress.show(f"rss: {STREAMS:,} slow streams through {t}")
            one(1, "rss", "slow-stream", t, lambda b, t: b.rss(t))
    finally:
        progress.end()
    return rows, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="s per load50 run")
    ap.add_argument("--warmup", type=float, default=2.0, help="s before each run")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    ap.add_argument("--only", default=",".join(TARGETS), help="targets, comma list")
    ap.add_argument("--generator", choices=["auto", "wrk", "builtin"], default="auto")
    ap.add_argument("--no-rss", action="store_true", help="skip the 1,000 streams")
    ap.add_argument("--no-append", action="store_true", help="print, record nothing")
    ap.add_argument(
        "--steps",
        default="",
        help="only these measure:scenario steps, comma list (e.g. "
        "load50:chat-1k-ollama,seq:chat-1k-ollama); default all",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 2.0, 0.5, 1
    targets = [t.strip() for t in args.only.split(",") if t.strip()]
    if unknown := set(targets) - set(TARGETS):
        ap.error(f"unknown targets {sorted(unknown)}; known: {', '.join(TARGETS)}")
    wrk = wrk_version()
    gen = args.generator
    if gen == "auto":
        gen = "wrk" if wrk else "builtin"
    elif gen == "wrk" and not wrk:
        ap.error("wrk is not installed (apt-get install wrk)")
    raise_fd_limit()
    meta = {**stamp(), "run": "", "uncommitted": uncommitted()}
    meta["run"] = meta["date"]

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.start(targets)
            rows, failed = run_steps(bench, args, targets, gen)
            for name, server in bench.servers.items():
                if server.proc.poll() is not None:
                    print(f"warning: {name} exited during the run: {server.tail()}")
        finally:
            logs = {n: s.tail(800) for n, s in bench.servers.items()}
            bench.stop()

    sys.path.insert(0, str(ROOT))
    import aiohttp

    from router.classify import IMPLEMENTATION

    meta |= {
        "classifier": IMPLEMENTATION,
        "aiohttp": aiohttp.__version__,
        "uvloop": uvloop.__version__,
        "wrk": wrk,
        "load50_generator": gen,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "quick": args.quick,
    }
    figs = figures(
        rows, TARGETS, latest(PEERS, "tensorzero", "load50", "chat-1k", "rps")
    )
    if not args.no_append:
        summary = {"measure": "summary", "scenario": "", "target": "", **figs}
        append(RESULTS, [{**meta, **r} for r in [*rows, *failed, summary]])

    print(
        f"load benchmark: {args.rounds} round(s), {args.duration:g} s per load50 run"
        f" after {args.warmup:g} s of warm-up; {meta['cpu']}, {IMPLEMENTATION}"
        f" classifier, commit {meta['commit'][:10]}, {meta['date']}"
    )
    if meta["uncommitted"]:
        print(f"uncommitted router changes measured too: {meta['uncommitted']}")
    via = f"wrk ({wrk}, 1 thread)" if gen == "wrk" else "bench/loadgen.py"
    print(
        f"load50 via {via}; seq, rates, ttfb and rss via bench/loadgen.py"
        " (rates open loop, wrk2-style)"
    )
    print(tables(rows, TARGETS))
    print(f"\ntargets of issue 13 (this run{', --quick' if args.quick else ''}):")
    print("\n".join(verdicts(figs, STREAMS)))
    if not args.quick:
        print(plot(rows, TARGETS, PNG))
    for f in failed:
        print(f"failed: {f['measure']} {f['scenario']} {f['target']}: {f['failed']}")
    for name, text in logs.items():
        if "Traceback" in text or " ERROR " in text:
            print(f"\n{name} logged errors (tail):\n{text}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
