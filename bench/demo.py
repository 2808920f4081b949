"""`make demo`: the router in front of stand-in backends, end to end.

Starts `fake_upstream.py` three times on free loopback ports (stand-ins for a
local Ollama, SarmaLink and OpenAI), then `llm-router serve` on
`policy.demo.yaml`, loaded as it is: the stand-ins' addresses reach it
through the policy's `endpointEnv` variables. Sends one request of each kind,
prints where each went and why, and a short `/v1/metrics` summary, then stops
everything it started. Exits 0 when every request went where the policy says
(the sensitive one sent with the local stand-in stopped must be refused with
503 privacy_pinned, and no cloud stand-in may ever see a sensitive prompt).
"""

from __future__ import annotations

import argparse
import base64
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "bench" / "fake_upstream.py"
POLICY = ROOT / "policy.demo.yaml"
STANDINS = {
    "local": "LLR_DEMO_LOCAL_URL",
    "sarmalink": "LLR_DEMO_SARMALINK_URL",
    "frontier": "LLR_DEMO_FRONTIER_URL",
}
CLOUD = ("sarmalink", "frontier")
# A router setting from the caller's environment must not change the demo.
DROPPED_ENV = ("LLR_POLICY", "LLR_HOST", "LLR_PORT", "LLR_DB", "LLR_API_KEYS")
DROPPED_ENV += ("LLR_WORKERS", "LLR_WATCH", *STANDINS.values())
START_TIMEOUT_S = 90.0  # the first start compiles the hyperscan bank
STOP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 30.0

# A 1x1 PNG, inline: the vision request needs no network.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e5274fba"
        "0000000049454e44ae426082"
    )
).decode()
CARD = "4111 1111 1111 1111"

# No proxy from the environment: every request of the demo stays on loopback.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def user(text: str) -> dict[str, Any]:
    return {"model": "auto", "messages": [{"role": "user", "content": text}]}


@dataclass(frozen=True)
class Case:
    """One request and where the demo policy must send it."""

    name: str
    body: dict[str, Any]
    route: str
    backend: str | None  # None: refused
    status: int = 200
    stop_local: bool = False  # stop the local stand-in first
    mirrored_to: str | None = None  # the A/B candidate that must see it
    sensitive: str | None = None  # text no cloud stand-in may receive


def cases() -> list[Case]:
    vision = {
        "model": "auto",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{PIXEL}"},
                    },
                ],
            }
        ],
    }
    search = user("What are today's top headlines?")
    search["tools"] = [
        {
            "type": "function",
            "function": {
                "name": "web_search",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    long_hard = user(
        "Compare these two cache designs and explain the trade-offs step by step. "
        + "The cache keeps recent entries and evicts the oldest one when full. " * 1200
    )
    card = f"Charge my card {CARD} for the order, please."
    return [
        Case("code", user("Fix it:\n```python\ndef add(a, b):\n    return a - b\n```"),
             "code", "local"),
        Case("vision", vision, "vision", "local"),
        Case("web search", search, "web-search", "frontier"),
        Case("long and hard (16k tokens)", long_hard, "hard", "frontier"),
        Case("cost-first (easy question)", user("What is the capital of France?"),
             "cost-first", "local"),
        Case("A/B sampled", user("Explain step by step why the sky is blue."),
             "general", "sarmalink", mirrored_to="local"),
        Case("sensitive (card number)", user(card), "private", "local",
             sensitive=CARD),
        Case("sensitive, local stopped", user(card), "private", None, status=503,
             stop_local=True, sensitive=CARD),
    ]  # fmt: skip


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    ms: float


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> Reply:
    data = None if body is None else orjson.dumps(body)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    t0 = time.perf_counter()
    try:
        with _http.open(req, timeout=HTTP_TIMEOUT_S) as resp:
            status, raw, got = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), exc.headers
    ms = (time.perf_counter() - t0) * 1000
    parsed = orjson.loads(raw) if raw else None
    return Reply(status, {k.lower(): v for k, v in got.items()}, parsed, ms)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Every process the demo starts; `stop_all()` ends each one it still owns."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, **kw)
        self.procs[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def start_standin(procs: Processes, name: str) -> str:
    """Start one fake upstream on a free port; its base URL."""
    proc = procs.start(
        name,
        [sys.executable, str(FAKE), "--host", "127.0.0.1", "--port", "0",
         "--name", name],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
    line = proc.stdout.readline().decode() if ready else ""
    if " listening on " not in line:
        raise RuntimeError(f"stand-in {name} did not start")
    return line.split(" listening on ", 1)[1].strip()


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the router exited:\n{log.read_text()}")
        try:
            if http("GET", f"{base}/ready").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the router did not become ready:\n{log.read_text()}")


def router_command() -> list[str]:
    """The installed `llm-router` beside this interpreter (it carries the
    compiled classifier), else the package run from this tree."""
    script = Path(sys.executable).parent / "llm-router"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "router"]


def seen_by(url: str, text: str) -> bool:
    """Whether the stand-in at `url` received `text` in any request."""
    got = http("GET", f"{url}/_fake/requests").body
    return text in orjson.dumps(got).decode()


def shadowed(url: str, request_id: str, wait_s: float = 5.0) -> bool:
    """Whether the stand-in got the A/B mirror call of `request_id`."""
    deadline = time.monotonic() + wait_s
    while True:
        for rec in http("GET", f"{url}/_fake/requests").body:
            if rec["headers"].get("x-request-id") == f"{request_id}-shadow":
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


Row = list[str]


def run_case(case: Case, i: int, base: str, urls: dict[str, str]) -> tuple[Row, str]:
    """Send one case; its table row and what was wrong ('' when nothing)."""
    explained = http("POST", f"{base}/v1/route", case.body).body["decision"]
    rid = f"demo-{i}"
    r = http("POST", f"{base}/v1/chat/completions", case.body, {"x-request-id": rid})
    route = r.headers.get("x-llr-route", "-")
    backend = r.headers.get("x-llr-backend")
    problems = []
    if (r.status, route, backend) != (case.status, case.route, case.backend):
        problems.append(
            f"expected {case.status} {case.route} {case.backend}, "
            f"got {r.status} {route} {backend}"
        )
    if r.headers.get("x-request-id") != rid:
        problems.append("x-request-id not echoed")
    why = explained["reason"]
    if r.status >= 400:
        why = f"{r.body['error']['code']}: {why}"
    if case.mirrored_to is not None:
        if shadowed(urls[case.mirrored_to], rid):
            why += f" (A/B: mirrored to {case.mirrored_to})"
        else:
            problems.append(f"not mirrored to {case.mirrored_to}")
    if case.sensitive is not None:
        leaked = [c for c in CLOUD if seen_by(urls[c], case.sensitive)]
        if leaked:
            problems.append(f"sensitive text reached {', '.join(leaked)}")
    row = [
        case.name,
        str(r.status),
        route,
        backend or "-",
        r.headers.get("x-llr-model", "-"),
        "yes" if explained["pinned"] else "no",
        why,
        f"{r.ms:.1f} ms",
    ]
    return row, "; ".join(problems)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def summary(base: str, expected: int) -> str:
    """Per route and per backend from `/v1/metrics`, once every request of
    the demo is in the store (it writes in batches)."""
    deadline = time.monotonic() + 10.0
    while True:
        got = http("GET", f"{base}/v1/metrics?window=15m").body
        if sum(r["requests"] for r in got["routes"]) >= expected:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    rows = [
        [
            r["name"] or str(r["route"]),
            str(r["requests"]),
            str(r["errors"]),
            str(r["pinned"]),
            f"{r['p50_ms']:.1f} ms",
            f"${r['cost_usd']:.6f}",
            "-" if r["saving_usd"] is None else f"${r['saving_usd']:.6f}",
        ]
        for r in got["routes"]
    ]
    header = ["route", "requests", "errors", "pinned", "p50", "cost", "saved"]
    text = table(header, rows)
    ab = http("GET", f"{base}/v1/ab").body
    for pair in ab["pairs"]:
        text += (
            f"\nGET /v1/ab: {pair['primary']} -> {pair['candidate']}: "
            f"{pair['verdict']} ({pair['reason']})"
        )
    return text


def demo(out: Callable[[str], None] = print) -> int:
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="llr-demo-"))
    try:
        urls = {name: start_standin(procs, name) for name in STANDINS}
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        for name, var in STANDINS.items():
            env[var] = urls[name] + ("" if name == "local" else "/v1")
        # The cloud stand-ins take any key; a real one never goes to them.
        env["OPENAI_API_KEY"] = env["SARMALINK_API_KEY"] = "demo-not-a-key"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = work / "router.log"
        with log.open("wb") as sink:
            router = procs.start(
                "router",
                [*router_command(), "serve", "--policy", str(POLICY),
                 "--host", "127.0.0.1", "--port", str(port),
                 "--db", str(work / "demo.db")],
                env=env, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_ready(base, router, log)
        out(f"router on {base} serving {POLICY.name}; stand-ins:")
        for name, url in urls.items():
            out(f"  {name:<10} {url}")
        rows, failures = [], []
        for i, case in enumerate(cases()):
            if case.stop_local:
                procs.stop("local")
            row, problem = run_case(case, i, base, urls)
            rows.append(row)
            if problem:
                failures.append(f"{case.name}: {problem}")
        header = ["request", "status", "route", "backend", "model", "pinned", "why"]
        out("")
        out(table([*header, "latency"], rows))
        out("")
        out("GET /v1/metrics?window=15m")
        out(summary(base, len(rows)))
        for failure in failures:
            out(f"FAIL {failure}")
        if failures:
            return 1
        out("\nThe card number stayed on this machine: no cloud stand-in received it.")
        return 0
    except (RuntimeError, OSError) as exc:
        out(f"demo failed: {exc}")
        return 1
    except KeyboardInterrupt:
        out("interrupted; stopping what the demo started")
        return 130
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
