"""Graceful shutdown of a real `llm-router serve`: SIGTERM with requests in
flight lets them finish, drains the queue, and leaves one row per request."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def test_sigterm_drains_in_flight_requests(tmp_path: Path) -> None:
    fake_port, port = free_port(), free_port()
    db = tmp_path / "m.db"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "backends:\n"
        f"  local: {{type: ollama, endpoint: 'http://127.0.0.1:{fake_port}',\n"
        "           models: [llama3.2, slow-2000]}\n"
        "routes:\n"
        "  - default: local\n"
    )
    e = env()
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_upstream.py"), "--port",
         str(fake_port), "--pulled", "llama3.2,slow-2000"],
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
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = [
                pool.submit(post, base + "/v1/chat/completions", "slow-2000")
                for _ in range(IN_FLIGHT)
            ]
            # All in flight (the fake has every one), none answered yet.
            received(f"http://127.0.0.1:{fake_port}", IN_FLIGHT + 1)
            router.send_signal(signal.SIGTERM)
            statuses = [f.result() for f in futures]
        out, _ = router.communicate(timeout=60)
    finally:
        router.kill()
        fake.terminate()
        fake.wait(timeout=30)
    assert router.returncode == 0, out.decode()
    assert statuses == [200] * IN_FLIGHT
    conn = sqlite3.connect(db)
    try:
        got = conn.execute("SELECT model, status FROM requests").fetchall()
    finally:
        conn.close()
    assert sorted(got) == sorted([("llama3.2", 200)] + [("slow-2000", 200)] * IN_FLIGHT)
