"""`llm-router check | explain | serve` as a user runs them (subprocesses)."""

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

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "policy.example.yaml"


def env() -> dict[str, str]:
    e = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "SARMALINK_API_KEY") and not k.startswith("LLR_")
    }
    e["PYTHONPATH"] = str(ROOT)
    return e


def run(
    *args: str, stdin: bytes | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env(),
        timeout=60,
    )


def test_check_ok() -> None:
    r = run("check", str(EXAMPLE))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == b"ok\n"


def test_check_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "backends:\n"
        "  local: {type: ollama, endpoint: http://localhost:11434, model: m, colour: red}\n"
        "routes:\n"
        "  - match: {task: cooking}\n"
        "    backend: nowhere\n"
        "  - default: local\n"
    )
    r = run("check", str(bad))
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert len(lines) >= 3
    for line in lines:
        file, lineno, col, _rest = line.split(":", 3)
        assert file == str(bad) and int(lineno) >= 1 and int(col) >= 1, line
    text = r.stdout.decode()
    assert f"{bad}:2:" in text and "backends.local.colour" in text
    assert f"{bad}:4:" in text and "routes[0].match.task" in text
    assert f"{bad}:5:" in text and "routes[0].backend" in text


def test_check_warns_about_locality_and_refuses_hosted_local(tmp_path: Path) -> None:
    policy = tmp_path / "lan.yaml"
    policy.write_text(
        "backends:\n"
        "  lan: {type: ollama, endpoint: 'http://192.168.7.7:11434', model: m}\n"
        "  pub: {type: ollama, endpoint: 'http://8.8.4.4:11434', model: m, local: true}\n"
        "routes:\n"
        "  - default: lan\n"
    )
    r = run("check", str(policy))
    assert r.returncode == 0 and r.stdout == b"ok\n", r.stderr
    warnings = r.stderr.decode().splitlines()
    assert (
        warnings[0].startswith(f"{policy}:2:")
        and "backends.lan.endpoint" in warnings[0]
    )
    assert warnings[1].startswith(f"{policy}:3:") and "8.8.4.4" in warnings[1]
    policy.write_text(
        "backends:\n"
        "  cloud: {type: ollama, endpoint: 'https://ollama.com', model: m, local: true}\n"
        "routes:\n"
        "  - default: cloud\n"
    )
    r = run("check", str(policy))
    assert r.returncode == 1 and b"backends.cloud.local" in r.stdout


def test_policy_cases_command(tmp_path: Path) -> None:
    cases = ROOT / "policy.example.cases.yaml"
    r = run("test", str(EXAMPLE), str(cases))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.decode().splitlines()[-1].endswith(" passed, 0 failed")
    bad = tmp_path / "cases.yaml"
    bad.write_text("- name: x\n  text: hello\n  expect: {route: 0}\n")
    r = run("test", str(EXAMPLE), str(bad))
    assert r.returncode == 1 and b"FAIL x" in r.stdout


def test_check_missing_file(tmp_path: Path) -> None:
    r = run("check", str(tmp_path / "absent.yaml"))
    assert r.returncode == 1 and str(tmp_path / "absent.yaml") in r.stdout.decode()


def test_explain_from_file_and_stdin(tmp_path: Path) -> None:
    body = {"model": "auto", "messages": [{"role": "user", "content": "hi there"}]}
    f = tmp_path / "body.json"
    f.write_text(json.dumps(body))
    a = run("explain", "--policy", str(EXAMPLE), str(f))
    b = run("explain", "--policy", str(EXAMPLE), "-", stdin=json.dumps(body).encode())
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    out = json.loads(a.stdout)
    assert out == json.loads(b.stdout)
    assert set(out) == {"classification", "decision"}
    assert out["decision"]["route"] == 2


def test_explain_uses_example_policy_by_default(tmp_path: Path) -> None:
    # No --policy, no LLR_POLICY, no ./policy.yaml: falls back to the example.
    (tmp_path / "policy.example.yaml").write_text(EXAMPLE.read_text())
    body = b'{"model": "auto", "input": "hello"}'
    r = run("explain", stdin=body, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["classification"]["task"] == "general"


def test_explain_bad_body_exits_1(tmp_path: Path) -> None:
    r = run("explain", "--policy", str(EXAMPLE), "-", stdin=b'{"model": 1}')
    assert r.returncode == 1
    assert b"Invalid request" in r.stderr and b"Traceback" not in r.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return bytes(r.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_metric(base: str, name: str, expected: float, wait_s: float = 30) -> float:
    """The sum of `name`'s samples once it reaches `expected` (or at the
    deadline, whatever it is then)."""
    deadline = time.monotonic() + wait_s
    while True:
        scraped = wait_http(base + "/metrics", deadline).decode()
        total = sum(
            s.value
            for family in text_string_to_metric_families(scraped)
            for s in family.samples
            if s.name == name
        )
        if total >= expected or time.monotonic() > deadline:
            return total
        time.sleep(0.1)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_starts_reloads_and_stops(tmp_path: Path, workers: int) -> None:
    port = free_port()
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE.read_text())
    e = env()
    e.update(LLR_PORT=str(port), LLR_POLICY=str(policy), LLR_DB=str(tmp_path / "m.db"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--workers", str(workers)],
        cwd=tmp_path,
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert json.loads(wait_http(base + "/health", time.monotonic() + 30)) == {
            "status": "ok"
        }
        req = urllib.request.Request(
            base + "/v1/route",
            method="POST",
            headers={"content-type": "application/json"},
            data=b'{"model":"auto","messages":[{"role":"user","content":"hi"}]}',
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.loads(r.read())["decision"]["route"] == 2
        chat = b'{"model":"auto","messages":[{"role":"user","content":"hi"}]}'
        for _ in range(6):  # no backend is up: each is a counted 502
            req = urllib.request.Request(
                base + "/v1/chat/completions",
                method="POST",
                headers={"content-type": "application/json"},
                data=chat,
            )
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(req, timeout=30)
            assert info.value.code == 502
            info.value.close()
        # Each worker applies its observations once a second: poll, never sleep.
        assert wait_metric(base, "llr_requests_total", 6) == 6
        policy.write_text("not: [valid\n")
        proc.send_signal(signal.SIGHUP)
        # Every worker has tried the reload (and kept the running policy).
        assert wait_metric(base, "llr_policy_reloads_total", workers) == workers
        assert (
            json.loads(wait_http(base + "/ready", time.monotonic() + 30))["status"]
            == "ready"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    log = out.decode()
    assert proc.returncode == 0, log
    assert "disabled: OPENAI_API_KEY unset" in log
    assert "disabled: SARMALINK_API_KEY unset" in log
    assert "policy reload failed; keeping the running policy" in log
    assert "Traceback" not in log
