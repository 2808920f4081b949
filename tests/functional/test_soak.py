"""The short soak: `bench/soak.py` for 30 s at a fixed rate on loopback
(half streamed, 1% faulty backend answers). Bounded generously, on errors
only: a busy machine may serve the rate late, never wrongly."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from tests.functional.test_cli import ROOT, env


@pytest.mark.timeout(180)
def test_thirty_seconds_at_a_fixed_rate() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--duration", "30",
         "--rate", "200", "--no-save", "--json"],
        env=env(), capture_output=True, timeout=170, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result = orjson.loads(done.stdout.splitlines()[-1])
    assert result["router_exit"] == 0
    assert result["sent"] > 1000 and result["done"] == result["sent"]
    assert result["errors"] <= result["sent"] // 100, result["error_kinds"]
    assert result["faults"] > 0  # the faulty answers were asked for ...
    # ... and given: each fell back, or its stream ended with an error.
    assert result["faults_seen"] == result["faults"], result
