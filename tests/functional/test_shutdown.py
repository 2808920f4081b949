"""Graceful shutdown of a real `llm-router serve`: SIGTERM with requests in
flight lets them finish, drains the queue, and leaves one row per request."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.functional.test_cli import ROOT, env, free_port, wait_http

IN_FLIGHT = 6


def post(url: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    req = urllib.request.Request(
        url, method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        return int(r.status)


def received(fake: str, count: int, wait_s: float = 30) -> None:
    """Wait until the fake upstream has received `count` requests."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(fake + "/_fake/requests", timeout=10) as r:
            if len(json.loads(r.read())) >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"the fake did not receive {count} requests")


class Served(NamedTuple):
    router: subprocess.Popen[bytes]
    base: str
    fake: str
    db: Path


@contextmanager
def served(tmp_path: Path, models: list[str], **extra_env: str) -> Iterator[Served]:
    """The fake upstream as a local Ollama that has pulled `models`, and a
    real `llm-router serve` in front of it, up and answering."""
    fake_port, port = free_port(), free_port()
    db = tmp_path / "m.db"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "backends:\n"
        f"  local: {{type: ollama, endpoint: 'http://127.0.0.1:{fake_port}',\n"
        f"           models: [{', '.join(models)}], timeoutMs: 60000}}\n"
        "routes:\n"
        "  - default: local\n"
    )
    e = {**env(), **extra_env}
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_upstream.py"), "--port",
         str(fake_port), "--pulled", ",".join(models)],
        env=e, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    router = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--policy", str(policy),
         "--port", str(port), "--db", str(db)],
        env=e, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health", time.monotonic() + 30)
        assert post(base + "/v1/chat/completions", "llama3.2") == 200
        yield Served(router, base, f"http://127.0.0.1:{fake_port}", db)
    finally:
        router.kill()
        fake.terminate()
        fake.wait(timeout=30)


def test_sigterm_drains_in_flight_requests(tmp_path: Path) -> None:
    with served(tmp_path, ["llama3.2", "slow-2000"]) as srv:
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = [
                pool.submit(post, srv.base + "/v1/chat/completions", "slow-2000")
                for _ in range(IN_FLIGHT)
            ]
            # All in flight (the fake has every one), none answered yet.
            received(srv.fake, IN_FLIGHT + 1)
            srv.router.send_signal(signal.SIGTERM)
            statuses = [f.result() for f in futures]
        out, _ = srv.router.communicate(timeout=60)
    assert srv.router.returncode == 0, out.decode()
    assert statuses == [200] * IN_FLIGHT
    conn = sqlite3.connect(srv.db)
    try:
        got = conn.execute("SELECT model, status FROM requests").fetchall()
    finally:
        conn.close()
    assert sorted(got) == sorted([("llama3.2", 200)] + [("slow-2000", 200)] * IN_FLIGHT)


GRACE_S = 1.0
MODEL = "slow-stream-2000"
STREAMS = {
    "/v1/chat/completions": {
        "model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}],
    },
    "/v1/responses": {"model": MODEL, "stream": True, "input": "hi"},
}  # fmt: skip


def _events(url: str, body: dict[str, object], started: threading.Event) -> list[dict]:
    """The `data:` events of a streamed answer, read to its end; `started`
    is set at the first one."""
    req = urllib.request.Request(
        url, method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    events = []
    with urllib.request.urlopen(req, timeout=30) as r:
        for line in r:
            if line.startswith(b"data: "):
                started.set()
                if line.strip() != b"data: [DONE]":
                    events.append(json.loads(line[6:]))
    return events


def _status(url: str, model: str) -> tuple[int, dict[str, object], str | None]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    req = urllib.request.Request(
        url, method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), json.loads(r.read()), r.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("Retry-After")


def test_sigterm_past_the_grace_ends_requests_with_clean_errors(tmp_path: Path) -> None:
    """Requests still running at `LLR_SHUTDOWN_GRACE_S` are not cut: one
    waiting for its backend gets a 503 `shutting_down`; a chat stream under
    way a last error object, a Responses one `error` and `response.failed`
    numbered on from its events. Each has its row, the router exits 0 soon
    after the grace and the port is free again."""
    with served(
        tmp_path, ["llama3.2", MODEL, "hang"], LLR_SHUTDOWN_GRACE_S=str(GRACE_S)
    ) as srv:
        with ThreadPoolExecutor(len(STREAMS) + 1) as pool:
            started = {path: threading.Event() for path in STREAMS}
            streams = {
                path: pool.submit(_events, srv.base + path, body, started[path])
                for path, body in STREAMS.items()
            }
            waiting = pool.submit(_status, srv.base + "/v1/chat/completions", "hang")
            received(srv.fake, len(STREAMS) + 2)
            for path, event in started.items():
                assert event.wait(30), f"{path}: the stream never started"
            t0 = time.monotonic()
            srv.router.send_signal(signal.SIGTERM)
            status, error, retry_after = waiting.result(timeout=30)
            chat, responses = (streams[p].result(timeout=30) for p in STREAMS)
        out, _ = srv.router.communicate(timeout=30)
        took = time.monotonic() - t0
    log = out.decode()
    assert srv.router.returncode == 0, log
    assert GRACE_S <= took < GRACE_S + 10, log
    assert "3 requests still running after 1 s ended with an error" in log, log
    assert status == 503 and retry_after == "1", error
    assert error["error"]["code"] == "shutting_down"  # type: ignore[index]
    assert chat[-1]["error"]["code"] == "shutting_down", chat
    *sent, cut, failed = responses
    assert cut["type"] == "error" and cut["code"] == "shutting_down", responses
    assert failed["type"] == "response.failed", responses
    assert failed["response"]["status"] == "failed"
    assert failed["response"]["id"] == sent[0]["response"]["id"]
    numbers = [ev["sequence_number"] for ev in responses]
    assert numbers == list(range(len(responses))), numbers
    conn = sqlite3.connect(srv.db)
    try:
        got = conn.execute("SELECT stream, status, error_kind FROM requests").fetchall()
    finally:
        conn.close()
    # The one cut before its backend answered has no model: none served it.
    assert sorted(got, key=repr) == [
        (0, 200, None),
        (0, 503, "shutting_down"),
        (1, 200, "shutdown"),
        (1, 200, "shutdown"),
    ]
    with socket.socket() as s:  # released: a new server can listen on it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(srv.base.rsplit(":", 1)[1])))
        s.listen()
