"""`serve --log-format json`: application messages and one object per request
as JSON lines, carrying routing facts and timings but never prompt text."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MARKER = "zqx-marker-7f3a9c"  # in every prompt; must appear in no log line
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def clean_env() -> dict[str, str]:
    drop = ("OPENAI_API_KEY", "SARMALINK_API_KEY")
    return {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith("LLR_")
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_upstream.py"), "--port", "0"],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready
        yield proc.stdout.readline().decode().split(" listening on ")[1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    req.add_header("content-type", "application/json")
    try:
        with _http.open(req, timeout=30) as r:
            r.read()
            return r.status, {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def chat(text: str, **extra: object) -> bytes:
    body = {"model": "auto", "messages": [{"role": "user", "content": text}], **extra}
    return json.dumps(body).encode()


def serve(
    tmp_path: Path, fake: str, *flags: str
) -> tuple[str, subprocess.Popen[bytes]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"backends:\n  local: {{type: ollama, endpoint: '{fake}', model: llama3.2}}\n"
        "routes:\n  - name: private\n    match: {sensitivity: high}\n"
        "    backend: local\n  - default: local\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--policy", str(policy),
         "--port", str(port), "--db", "off", *flags],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with _http.open(base + "/health", timeout=2):
                return base, proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> list[str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert out == b""
    return err.decode().splitlines()


def test_json_logs_one_object_per_request_and_no_prompt_text(
    tmp_path: Path, fake: str
) -> None:
    base, proc = serve(tmp_path, fake, "--log-format", "json")
    try:
        url = base + "/v1/chat/completions"
        status, headers = post(url, chat(f"hello {MARKER}"), {"x-request-id": "t-1"})
        assert (status, headers["x-request-id"]) == (200, "t-1")
        status, _ = post(url, chat(f"stream {MARKER}", stream=True), {})
        assert status == 200
        card = f"{MARKER} charge my card 4111 1111 1111 1111"
        status, headers = post(url, chat(card), {"x-request-id": "t-3"})
        assert status == 200 and headers["x-llr-route"] == "private"
        status, _ = post(url, f'{{"model": "{MARKER}", "messages": 7}}'.encode(), {})
        assert status == 400
    finally:
        lines = stop(proc)
    assert lines and not any(MARKER in line for line in lines)
    records = [json.loads(line) for line in lines]  # every line is one object
    assert all({"ts", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["message"].startswith("serving ") for r in records)
    access = [r for r in records if r["logger"] == "router.access"]
    assert len(access) == 4
    first = next(r for r in access if r["request_id"] == "t-1")
    assert {
        k: first[k]
        for k in ("route", "backend", "model", "status", "pinned", "fallback", "api")
    } == {
        "route": "1",
        "backend": "local",
        "model": "llama3.2",
        "status": 200,
        "pinned": False,
        "fallback": False,
        "api": "chat",
    }
    for key in ("latency_ms", "ttfb_ms", "overhead_ms"):
        assert isinstance(first[key], float | int) and first[key] >= 0
    assert {"latency_shifted", "hedged", "fallback_from"} <= first.keys()
    pinned = next(r for r in access if r["request_id"] == "t-3")
    assert (pinned["route"], pinned["pinned"], pinned["sensitivity"]) == (
        "private",
        True,
        "high",
    )
    assert sorted(r["status"] for r in access) == [200, 200, 200, 400]
    assert next(r for r in access if r["status"] == 400)["backend"] is None


def test_a_level_above_info_logs_no_request_lines(tmp_path: Path, fake: str) -> None:
    base, proc = serve(tmp_path, fake, "--log-format", "json", "--log-level", "WARNING")
    try:
        status, _ = post(base + "/v1/chat/completions", chat("hello"), {})
        assert status == 200
    finally:
        lines = stop(proc)
    assert [json.loads(line)["level"] for line in lines] == []


def test_text_format_keeps_the_plain_lines(tmp_path: Path, fake: str) -> None:
    base, proc = serve(tmp_path, fake)
    try:
        status, _ = post(base + "/v1/chat/completions", chat(f"hello {MARKER}"), {})
        assert status == 200
    finally:
        lines = stop(proc)
    assert any(" router serving " in line for line in lines)
    assert not any(line.startswith("{") or MARKER in line for line in lines)
