"""`make demo` end to end (bench/demo.py as a program), and the start-up hint
that names it when no backend can answer."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    drop = ("OPENAI_API_KEY", "SARMALINK_API_KEY")
    return {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith("LLR_")
    }


def refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.timeout(240)
def test_demo_routes_every_kind_and_leaves_nothing_listening() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "demo.py")],
        capture_output=True,
        cwd=ROOT,
        env=clean_env(),
        timeout=200,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    assert "FAIL" not in out
    rows: dict[str, str] = {}  # the first table's rows (the summary's come later)
    for line in out.splitlines():
        rows.setdefault(line.split("  ")[0], line)
    for name, route, backend in [
        ("code", "code", "local"),
        ("vision", "vision", "local"),
        ("web search", "web-search", "frontier"),
        ("long and hard (16k tokens)", "hard", "frontier"),
        ("cost-first (easy question)", "cost-first", "local"),
        ("A/B sampled", "general", "sarmalink"),
        ("sensitive (card number)", "private", "local"),
    ]:
        assert re.search(rf"\b200\s+{re.escape(route)}\s+{backend}\b", rows[name]), out
    stopped = rows["sensitive, local stopped"]
    assert re.search(r"\b503\s+private\s+-\s+-\s+yes\s+privacy_pinned", stopped), out
    assert "mirrored to local" in rows["A/B sampled"]
    assert "GET /v1/metrics" in out and "GET /v1/ab" in out
    ports = [int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", out)]
    assert len(ports) == 4, out
    assert all(refused(p) for p in ports)


def test_serve_names_make_demo_when_no_backend_can_answer(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens once the socket closes
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"backends:\n  local: {{type: ollama, endpoint: 'http://127.0.0.1:{dead}', "
        "model: m}\n  cloud: {type: openai, endpoint: 'https://api.openai.com/v1', "
        "model: gpt-4o}\nroutes:\n  - default: local\n    fallback: cloud\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--policy", str(policy),
         "--port", "0", "--db", "off"],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        seen = ""
        while "make demo" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            if not line:
                break
            seen += line
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert "no backend can answer" in seen and "`make demo`" in seen, (
        seen + rest.decode()
    )
