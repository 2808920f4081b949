"""Router overhead: sequential keep-alive requests to the fake upstream direct
versus through the router, in one run, on loopback only.

Overhead = (through router) - (direct), per percentile, for each variant:
chat passed through to an OpenAI-type backend (JSON and SSE), chat and
Responses translated for an Ollama backend. The fake upstream and the router
each run in their own process; requests alternate in small batches between
the two paths so that machine noise hits both alike. Also reports the
router's own `x-llr-overhead-ms` header. Results are appended as JSON lines
to bench/results/proxy.jsonl.

    python bench/bench_proxy.py [--requests 2000] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmeta import append, stamp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "proxy.jsonl"

POLICY = """
backends:
  local: {{type: ollama, endpoint: "http://127.0.0.1:{port}", model: llama3.2,
           p50Ms: 100}}
  cloud: {{type: openai, endpoint: "http://127.0.0.1:{port}/v1", model: gpt-4o,
           p50Ms: 100}}
routes:
  - match: {{model: [gpt-4o]}}
    backend: cloud
  - default: local
"""

PROMPT = "Summarise the plot of Hamlet in two sentences, please."
VARIANTS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (router path, body, direct path on the fake)
    "chat-openai-json": (
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}]},
        "/v1/chat/completions",
    ),
    "chat-openai-sse": (
        "/v1/chat/completions",
        {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": PROMPT}],
        },
        "/v1/chat/completions",
    ),
    "chat-ollama-json": (
        "/v1/chat/completions",
        {"model": "auto", "messages": [{"role": "user", "content": PROMPT}]},
        "/api/chat",
    ),
    "chat-ollama-sse": (
        "/v1/chat/completions",
        {
            "model": "auto",
            "stream": True,
            "messages": [{"role": "user", "content": PROMPT}],
        },
        "/api/chat",
    ),
    "responses-ollama-json": (
        "/v1/responses",
        {"model": "auto", "input": PROMPT},
        "/api/chat",
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port}")


def direct_body(variant: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body the router would send to the fake, so both paths do the
    same upstream work."""
    if "ollama" not in variant:
        return body
    text = body.get("input") or body["messages"][-1]["content"]
    return {
        "model": "llama3.2",
        "stream": bool(body.get("stream")),
        "messages": [{"role": "user", "content": text}],
    }


def timed(
    conn: http.client.HTTPConnection, path: str, payload: bytes
) -> tuple[float, str]:
    t = time.perf_counter()
    conn.request(
        "POST", path, body=payload, headers={"Content-Type": "application/json"}
    )
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - t
    if resp.status != 200:
        raise SystemExit(f"{path}: HTTP {resp.status}")
    return elapsed, resp.getheader("x-llr-overhead-ms") or ""


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def measure(router: int, fake: int, n: int) -> list[dict[str, Any]]:
    rows = []
    for name, (path, body, fake_path) in VARIANTS.items():
        via = http.client.HTTPConnection("127.0.0.1", router)
        direct = http.client.HTTPConnection("127.0.0.1", fake)
        rp = json.dumps(body).encode()
        dp = json.dumps(direct_body(name, body)).encode()
        for _ in range(50):  # warm both paths and the router's pool
            timed(via, path, rp)
            timed(direct, fake_path, dp)
        d_times: list[float] = []
        r_times: list[float] = []
        self_reported: list[float] = []
        for _ in range(n // 10):
            for _ in range(10):
                d_times.append(timed(direct, fake_path, dp)[0])
            for _ in range(10):
                t, hdr = timed(via, path, rp)
                r_times.append(t)
                self_reported.append(float(hdr))
        via.close()
        direct.close()
        row: dict[str, Any] = {"variant": name, "requests": len(r_times)}
        for p in (50, 99):
            d, r = pct(d_times, p) * 1e3, pct(r_times, p) * 1e3
            row[f"direct_p{p}_ms"] = round(d, 4)
            row[f"router_p{p}_ms"] = round(r, 4)
            row[f"overhead_p{p}_ms"] = round(r - d, 4)
            row[f"self_p{p}_ms"] = round(pct(self_reported, p), 4)
        row["self_mean_ms"] = round(statistics.fmean(self_reported), 4)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--store", choices=["on", "off"], default="on",
        help="off runs the router with --db off (no SQLite audit store)",
    )  # fmt: skip
    args = ap.parse_args(argv)

    fake_port, router_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "bench"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "fake_upstream.py"),
                "--port",
                str(fake_port),
                "--no-record",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(POLICY.format(port=fake_port))
        try:
            wait_up(fake_port, time.monotonic() + 20)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "router",
                        "serve",
                        "--policy",
                        str(policy),
                        "--port",
                        str(router_port),
                        "--workers",
                        str(args.workers),
                        "--db",
                        str(Path(tmp) / "m.db") if args.store == "on" else "off",
                    ],
                    env=env,
                    cwd=tmp,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_up(router_port, time.monotonic() + 30)
            rows = measure(router_port, fake_port, args.requests)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=30)

    sys.path.insert(0, str(ROOT))
    from router.classify import IMPLEMENTATION

    meta = {
        **stamp(),
        "classifier": IMPLEMENTATION,
        "workers": args.workers,
        "store": args.store,
    }
    append(RESULTS, ({**meta, **row} for row in rows))

    print(
        f"router overhead, {rows[0]['requests']} sequential keep-alive requests "
        f"per variant ({meta['classifier']} classifier, store {args.store}, "
        f"{meta['cpu']})"
    )
    head = (
        f"{'variant':24} {'direct p50':>10} {'router p50':>10} {'over p50':>9} "
        f"{'direct p99':>10} {'router p99':>10} {'over p99':>9} {'self p50':>9}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['variant']:24} {r['direct_p50_ms']:10.3f} {r['router_p50_ms']:10.3f} "
            f"{r['overhead_p50_ms']:9.3f} {r['direct_p99_ms']:10.3f} "
            f"{r['router_p99_ms']:10.3f} {r['overhead_p99_ms']:9.3f} "
            f"{r['self_p50_ms']:9.3f}"
        )
    print("(ms; over = router - direct; self = the router's x-llr-overhead-ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
