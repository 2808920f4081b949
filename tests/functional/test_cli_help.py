"""`llm-router --version`, every subcommand's `--help`, `explain --format table`."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import router

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        input=None if stdin is None else stdin.decode(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_version_is_the_package_version() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert router.__version__ == meta["version"]
    got = run("--version")
    assert (got.returncode, got.stdout) == (0, f"llm-router {meta['version']}\n")


@pytest.mark.parametrize(
    ("command", "must_say"),
    [
        ("serve", ["--policy", "--port", "--workers", "--watch", "--log-format",
                   "--log-level", "--db", "examples:", "SIGHUP"]),
        ("check", ["FILE:LINE:COL", "exits 1", "example:"]),
        ("test", ["expect", "Exits 0", "example:"]),
        ("explain", ["--format", "table", "/v1/route", "examples:"]),
    ],
)  # fmt: skip
def test_every_subcommand_explains_itself(command: str, must_say: list[str]) -> None:
    got = run(command, "--help")
    assert got.returncode == 0
    text = " ".join(got.stdout.split())
    for phrase in must_say:
        assert phrase in text, (phrase, got.stdout)


def test_top_level_help_lists_every_command() -> None:
    got = run("--help")
    assert got.returncode == 0
    for command in ("serve", "check", "test", "explain", "--version"):
        assert command in got.stdout


def test_explain_table_says_what_the_json_says() -> None:
    body = json.dumps(
        {
            "model": "auto",
            "messages": [{"role": "user", "content": "Card 4111 1111 1111 1111"}],
        }
    ).encode()
    policy = str(ROOT / "policy.example.yaml")
    table = run("explain", "--policy", policy, "--format", "table", "-", stdin=body)
    as_json = run("explain", "--policy", policy, "-", stdin=body)
    assert table.returncode == 0 and as_json.returncode == 0
    lines = dict(
        line.strip().split(None, 1)
        for line in table.stdout.splitlines()
        if line.startswith("  ")
    )
    out = json.loads(as_json.stdout)
    assert lines["sensitivity"] == out["classification"]["sensitivity"] == "high"
    assert lines["backend"] == out["decision"]["backend"]
    assert lines["pinned"] == "yes"
    assert table.stdout.splitlines()[0] == "classification"
