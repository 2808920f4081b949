"""Router work per request, counted, not timed: the same on a busy machine.

Each variant runs in its own process: the router app (or bench/floor.py's
bare pass-through) and a keep-alive client in one event loop, in front of
bench/fake_upstream.py in another process. After a warm-up, N requests go
through `--concurrency` at a time while the program counts

- Python bytecodes executed per request, per function (sys.settrace opcode
  events: deterministic for a given commit and input), and
- with `--callgrind` (valgrind installed), machine instructions per request
  (callgrind, instrumentation switched on for the measured requests only).

The router's own cost is its count minus the floor's: both include the same
client. Prints the totals, the router-minus-floor difference and the
functions where the router spends most beyond the floor; appends JSON lines
to bench/results/cost.jsonl.

    python bench/bench_cost.py [--requests 300] [--callgrind] [--top 25]
                               [--src CHECKOUT]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmeta import append, stamp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "cost.jsonl"
CHAT = (
    b'{"model":"auto","messages":[{"role":"user","content":'
    b'"Write a haiku about the sea, please, and keep it short."}]}'
)
POLICY = """
backends:
  cloud: {{type: openai, endpoint: "http://127.0.0.1:{port}/v1", model: gpt-4o,
           p50Ms: 100, apiKeyEnv: null}}
routes:
  - default: cloud
"""
WARMUP = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- child: one variant ------------------------------------------------------


def _app(variant: str, upstream: int, tmp: str) -> Any:
    if variant == "floor":
        sys.path.insert(0, str(ROOT / "bench"))
        import floor

        return floor.make_app(f"http://127.0.0.1:{upstream}")
    from router.app import create_app
    from router.policy import load_policy_text
    from router.settings import Settings

    policy = load_policy_text(POLICY.format(port=upstream), "cost-policy.yaml")
    return create_app(policy, Settings(policy="cost", db=f"{tmp}/cost.db"))


async def _drive(variant: str, upstream: int, n: int, conc: int, tmp: str) -> None:
    import aiohttp
    from aiohttp import web

    app = _app(variant, upstream, tmp)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    if variant != "floor":
        # As `serve` does once started (a checkout from before it had none).
        from router import serve

        getattr(serve, "settle_heap", lambda: None)()
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    headers = {"Content-Type": "application/json"}
    left = n

    async def one(s: aiohttp.ClientSession) -> None:
        async with s.post(url, data=CHAT, headers=headers) as r:
            if r.status != 200:
                raise SystemExit(f"{variant}: HTTP {r.status}: {await r.text()}")
            await r.read()

    async def worker(s: aiohttp.ClientSession) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one(s)

    async with aiohttp.ClientSession() as s:
        for _ in range(WARMUP):
            await one(s)
        _measure(True)
        await asyncio.gather(*(worker(s) for _ in range(conc)))
        _measure(False)
    await runner.cleanup()


_COUNTS: collections.Counter[tuple[str, int, str]] = collections.Counter()
_ON = [False]
_MODE = os.environ.get("COST_MODE", "bytecodes")


def _measure(on: bool) -> None:
    if _MODE == "callgrind":
        flag = "on" if on else "off"
        subprocess.run(
            ["callgrind_control", "-i", flag, str(os.getpid())], capture_output=True
        )
    _ON[0] = on


def _opcode(frame: Any, event: str, arg: Any) -> Any:
    if event == "opcode" and _ON[0]:
        co = frame.f_code
        _COUNTS[co.co_filename, co.co_firstlineno, co.co_name] += 1
    return _opcode


def _trace(frame: Any, event: str, arg: Any) -> Any:
    frame.f_trace_opcodes = True
    frame.f_trace_lines = False
    return _opcode


def child(variant: str, upstream: int, n: int, conc: int, out: str) -> None:
    import uvloop

    with tempfile.TemporaryDirectory() as tmp:
        if _MODE == "bytecodes":
            sys.settrace(_trace)
        try:
            uvloop.run(_drive(variant, upstream, n, conc, tmp))
        finally:
            sys.settrace(None)
    rows = [
        [c, f"{Path(f).name}:{line} {name}"] for (f, line, name), c in _COUNTS.items()
    ]
    Path(out).write_text(json.dumps(rows))


# -- parent ------------------------------------------------------------------


def _run_child(
    variant: str, mode: str, upstream: int, args: argparse.Namespace, out: Path
) -> int | None:
    """Run one variant; bytecode counts land in `out`, and the callgrind
    total is returned in callgrind mode."""
    env = {**os.environ, "COST_MODE": mode, "PYTHONPATH": args.src}
    cmd = [
        sys.executable,
        __file__,
        "--child",
        variant,
        str(upstream),
        str(args.requests),
        str(args.concurrency),
        str(out),
    ]
    cg = out.with_suffix(".cg")
    if mode == "callgrind":
        cmd = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={cg}",
            *cmd,
        ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{variant} ({mode}) failed:\n{done.stderr[-2000:]}")
    if mode != "callgrind":
        return None
    for line in cg.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"{variant}: no callgrind totals")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        variant, upstream, n, conc, out = sys.argv[2:7]
        child(variant, int(upstream), int(n), int(conc), out)
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--callgrind", action="store_true", help="also count instructions")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--no-save", action="store_true")
    p.add_argument(
        "--src",
        default=str(ROOT),
        help="the checkout whose router/ is measured (e.g. a worktree of an "
        "older commit, with its extension built), for an A/B in one run",
    )
    args = p.parse_args()
    if args.callgrind and shutil.which("valgrind") is None:
        raise SystemExit("--callgrind needs valgrind (apt-get install valgrind)")
    upstream = free_port()
    fake = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "fake_upstream.py"),
            *("--port", str(upstream), "--no-record"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert fake.stdout is not None
    fake.stdout.readline()  # "listening on ..."
    per_req: dict[str, dict[str, float]] = {}
    totals: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for variant in ("floor", "router"):
                out = Path(tmp) / f"{variant}.json"
                _run_child(variant, "bytecodes", upstream, args, out)
                counts = {k: c / args.requests for c, k in json.loads(out.read_text())}
                per_req[variant] = counts
                totals[variant] = {"bytecodes": sum(counts.values())}
                if args.callgrind:
                    ir = _run_child(variant, "callgrind", upstream, args, out)
                    assert ir is not None
                    totals[variant]["instructions"] = ir / args.requests
    finally:
        fake.terminate()
        fake.wait(10)
    _report(per_req, totals, args)
    return 0


def _report(
    per_req: dict[str, dict[str, float]],
    totals: dict[str, dict[str, float]],
    args: argparse.Namespace,
) -> None:
    floor, router = per_req["floor"], per_req["router"]
    print(f"per request, {args.requests} requests, {args.concurrency} at a time")
    print(f"{'':14}{'floor':>12}{'router':>12}{'router-floor':>14}{'ratio':>8}")
    row: dict[str, Any] = {
        **stamp(),
        "src": args.src,
        "requests": args.requests,
        "concurrency": args.concurrency,
    }
    for what in totals["floor"]:
        f, r = totals["floor"][what], totals["router"][what]
        print(f"{what:14}{f:12,.0f}{r:12,.0f}{r - f:14,.0f}{r / f:8.2f}")
        row[f"floor_{what}"] = round(f)
        row[f"router_{what}"] = round(r)
    extra = {k: v - floor.get(k, 0.0) for k, v in router.items()}
    print(f"\nwhere the router's bytecodes beyond the floor go (top {args.top}):")
    for key, v in sorted(extra.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{v:10.1f}  {key}")
    row["top"] = [
        [key, round(v, 1)]
        for key, v in sorted(extra.items(), key=lambda kv: -kv[1])[: args.top]
    ]
    if not args.no_save:
        append(RESULTS, [row])
        print(f"\nappended to {RESULTS.relative_to(ROOT)} at {time.strftime('%H:%M')}")


if __name__ == "__main__":
    sys.exit(main())
