"""The circuit breaker's effect: a sick primary (a 500 after 400 ms) in
front of a healthy fallback, with the breaker at its defaults and with it
effectively off, each in its own router process on loopback.

Two loads per variant: `seq`, N sequential requests (the issue's 60), and
`paced`, a request every 100 ms for `--paced-s` seconds (long enough for
the cool-down to end, so half-open probes show). Reported: the share of
calls the sick primary received (counted by that fake), the latency of
every request (p50, p99) and of those sent after the circuit first opened.
Appends to `bench/results/breaker.jsonl` unless `--no-save`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmeta import ROOT, append, stamp
from soak import HOST, free_port, percentile, wait_up

SICK = "sick-400"
OFF = "circuit: {failures: 1000000, failureRate: 1.0, window: 10000}"
ON = "circuit: {}"


def policy(primary: str, fallback: str, circuit: str) -> str:
    return (
        "backends:\n"
        f"  primary: {{type: openai, endpoint: '{primary}/v1', model: {SICK},\n"
        f"            timeoutMs: 5000, {circuit}}}\n"
        f"  fallback: {{type: openai, endpoint: '{fallback}/v1', model: gpt-4o,\n"
        "             timeoutMs: 5000}\n"
        "routes:\n"
        "  - default: primary\n"
        "    fallback: fallback\n"
    )


def post(url: str) -> tuple[float, str]:
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    req = urllib.request.Request(
        url + "/v1/chat/completions", method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        backend = r.headers.get("x-llr-backend", "")
    return (time.perf_counter() - t0) * 1000, backend


def calls(fake: str) -> int:
    with urllib.request.urlopen(fake + "/_fake/requests", timeout=10) as r:
        return len(json.loads(r.read()))


def clear(fake: str) -> None:
    req = urllib.request.Request(fake + "/_fake/requests", method="DELETE")
    urllib.request.urlopen(req, timeout=10).close()


def load(url: str, kind: str, n: int, pace_s: float) -> list[tuple[float, str]]:
    out = []
    start = time.monotonic()
    for i in range(n):
        if kind == "paced":
            due = start + i * pace_s
            time.sleep(max(0.0, due - time.monotonic()))
        out.append(post(url))
    return out


def run(variant: str, args: argparse.Namespace, env: dict[str, str]) -> list[Any]:
    rows: list[dict[str, Any]] = []
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="llr-breaker-") as tmp:
        try:
            fakes = []
            for name in ("primary", "fallback"):
                port = free_port()
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(ROOT / "bench" / "fake_upstream.py"),
                            "--host",
                            HOST,
                            "--port",
                            str(port),
                            "--name",
                            name,
                        ],
                        env=env,
                        stdout=subprocess.DEVNULL,
                    )
                )
                fakes.append(f"http://{HOST}:{port}")
            for loads in ("seq", "paced"):
                path = Path(tmp) / f"{loads}.yaml"
                path.write_text(policy(*fakes, ON if variant == "on" else OFF))
                port = free_port()
                router = subprocess.Popen(
                    [sys.executable, "-m", "router", "serve", "--policy", str(path),
                     "--host", HOST, "--port", str(port), "--db", "off"],
                    env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
                url = f"http://{HOST}:{port}"
                try:
                    deadline = time.monotonic() + 60
                    for f in fakes:
                        wait_up(f + "/v1/models", deadline)
                    wait_up(url + "/health", deadline)
                    for f in fakes:
                        clear(f)
                    n = args.requests if loads == "seq" else int(args.paced_s * 10)
                    got = load(url, loads, n, 0.1)
                    rows.append(summarise(variant, loads, got, calls(fakes[0])))
                finally:
                    router.send_signal(signal.SIGTERM)
                    router.wait(timeout=60)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
    return rows


def summarise(
    variant: str, kind: str, got: list[tuple[float, str]], primary_calls: int
) -> dict[str, Any]:
    ms = [m for m, _ in got]
    # The circuit is open from the first request the primary was not asked.
    first_skip = next((i for i, (m, _) in enumerate(got) if m < 300), len(got))
    after = ms[first_skip:]
    return {
        "variant": f"breaker-{variant}",
        "load": kind,
        "requests": len(got),
        "primary_calls": primary_calls,
        "primary_share": round(primary_calls / len(got), 3),
        "served_by_fallback": sum(1 for _, b in got if b == "fallback"),
        "p50_ms": round(percentile(ms, 50) or 0, 1),
        "p99_ms": round(percentile(ms, 99) or 0, 1),
        "requests_before_open": first_skip,
        "after_open_p50_ms": round(percentile(after, 50) or 0, 1) if after else None,
        "after_open_p99_ms": round(percentile(after, 99) or 0, 1) if after else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--paced-s", type=float, default=25.0)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLR_")}
    env.update(OPENAI_API_KEY="sk-bench-not-a-key", PYTHONPATH=str(ROOT))
    rows = [*run("off", args, env), *run("on", args, env)]
    head = ("variant", "load", "requests", "primary_calls", "primary_share", "p50_ms",
            "p99_ms", "after_open_p50_ms", "after_open_p99_ms")  # fmt: skip
    print("  ".join(f"{h:>17}" for h in head))
    for r in rows:
        print("  ".join(f"{r[h]!s:>17}" for h in head))
    if not args.no_save:
        meta = stamp()
        append(
            ROOT / "bench" / "results" / "breaker.jsonl", [{**meta, **r} for r in rows]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
