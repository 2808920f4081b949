"""Reload under traffic: a stream in flight finishes on the policy it started
with while new requests take the new one; with `--workers 2` a reload through
one worker reaches every worker, and a refused one changes none."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from router.app import create_app
from router.policy import load_policy
from router.settings import Settings
from tests.functional.conftest import Fakes

ROOT = Path(__file__).resolve().parents[2]
AiohttpClient = Any
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


async def test_a_stream_in_flight_keeps_its_policy(
    aiohttp_client: AiohttpClient, fakes: Fakes, backend_keys: None, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(fakes.policy("  - default: sarmalink\n"))
    app = create_app(load_policy(path), Settings(policy=str(path), db="off"))
    c = await aiohttp_client(app)
    slow = {
        "model": "slow-stream-150",
        "stream": True,
        "messages": [{"role": "user", "content": "one two three four five six"}],
    }
    r = await c.post("/v1/chat/completions", json=slow)
    assert r.status == 200 and r.headers["x-llr-backend"] == "sarmalink"
    first = await r.content.readany()  # the stream is under way
    assert first.startswith(b"data: ")

    path.write_text(fakes.policy("  - default: frontier\n"))
    reloaded = await c.post("/admin/reload")
    assert reloaded.status == 200
    fresh = await c.post(
        "/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert fresh.status == 200 and fresh.headers["x-llr-backend"] == "frontier"
    swapped = await reloaded.json()
    assert fresh.headers["x-llr-policy"] == swapped["policy_hash"]
    explained = await c.post("/v1/route", json={"model": "auto", "input": "hi"})
    assert explained.headers["x-llr-policy"] == swapped["policy_hash"]
    loaded_at = float(explained.headers["x-llr-policy-loaded-at"])
    assert loaded_at == pytest.approx(swapped["policy_loaded_at"], abs=1e-3)

    rest = first + await r.content.read()
    assert rest.rstrip().endswith(b"data: [DONE]")
    assert b'"error"' not in rest
    assert r.headers["x-llr-policy"] != fresh.headers["x-llr-policy"]
    assert len(fakes.sarmalink.requests) == 1
    assert [q.model for q in fakes.frontier.requests] == ["gpt-4o"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> Any:
    # A new connection each time, so SO_REUSEPORT spreads them over workers.
    req = urllib.request.Request(url, headers={"Connection": "close"})
    with _http.open(req, timeout=5) as r:
        return json.loads(r.read())


def post(url: str) -> tuple[int, Any]:
    req = urllib.request.Request(url, method="POST", data=b"")
    try:
        with _http.open(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def hashes(base: str, n: int = 30) -> set[str]:
    return {get(base + "/ready")["policy_hash"] for _ in range(n)}


@pytest.mark.timeout(120)
def test_every_worker_reloads(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    example = (ROOT / "policy.example.yaml").read_text()
    policy.write_text(example)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLR_")}
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--workers", "2", "--policy",
             str(policy), "--port", str(port), "--db", "off"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        # Both workers serving (each says so once it handles signals).
        while log.read_text().count(" router serving ") < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        old = hashes(base, 1)
        policy.write_text(example.replace("p50Ms: 600", "p50Ms: 650"))
        status, body = post(base + "/admin/reload")
        assert status == 200 and {body["policy_hash"]} != old
        new = {body["policy_hash"]}
        deadline = time.monotonic() + 30
        while hashes(base) != new:  # the other worker follows its SIGHUP
            assert time.monotonic() < deadline, "a worker kept the old policy"
            time.sleep(0.1)

        policy.write_text("routes: [\n")
        status, body = post(base + "/admin/reload")
        assert status == 400 and body["error"]["code"] == "policy_invalid"
        time.sleep(0.5)  # a refused reload must not reach any worker either
        assert hashes(base) == new
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
