"""Real processes on loopback for the tests that need them: the fake upstream
(`bench/fake_upstream.py`) and `llm-router serve` in front of it, started
on free ports and stopped by SIGTERM, with the router's output kept."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.functional.test_cli import ROOT, env, free_port, wait_http

START_S = 60.0
BACKEND_KEYS = {"OPENAI_API_KEY": "sk-proc-frontier-0123456789"}


@dataclass
class Router:
    proc: subprocess.Popen[bytes]
    url: str
    db: Path
    out: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def policy_text(fake_url: str, models: Sequence[str] = ()) -> str:
    """A local Ollama and an OpenAI-type cloud backend, both the one fake;
    sensitive requests stay local, the rest go to the cloud with the local
    one as fallback. `models` adds behaviour models both serve."""
    extra = "".join(f", {m}" for m in models)
    return (
        "backends:\n"
        f"  local: {{type: ollama, endpoint: '{fake_url}', "
        f"models: [llama3.2{extra}], timeoutMs: 5000}}\n"
        f"  frontier: {{type: openai, endpoint: '{fake_url}/v1', model: gpt-4o, "
        f"models: [gpt-4o{extra}], timeoutMs: 5000}}\n"
        "routes:\n"
        "  - match: {sensitivity: high}\n"
        "    backend: local\n"
        "  - default: frontier\n"
        "    fallback: local\n"
    )


@contextmanager
def fake_upstream(*args: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_upstream.py"), "--port",
         str(port), *args],
        env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/v1/models", time.monotonic() + START_S)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def router(
    tmp: Path,
    policy: str,
    *args: str,
    environ: dict[str, str] | None = None,
) -> Iterator[Router]:
    """`llm-router serve` on a free port with `policy`; stopped on exit
    (killed if it outlives its SIGTERM)."""
    port = free_port()
    path = tmp / "policy.yaml"
    path.write_text(policy)
    db, out = tmp / "metrics.db", tmp / "router.log"
    e = {**env(), **BACKEND_KEYS, **(environ or {})}
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--policy", str(path),
             "--port", str(port), "--db", str(db), *args],
            env=e, cwd=tmp, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    r = Router(proc, f"http://127.0.0.1:{port}", db, out)
    try:
        wait_http(r.url + "/health", time.monotonic() + START_S)
        yield r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
