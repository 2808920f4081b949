"""What every benchmark records beside its figures (when, which commit, on
what CPU and Python), and how a result line is appended."""

from __future__ import annotations

import datetime
import platform
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def stamp() -> dict[str, str]:
    """The fields every result line starts with."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
    }


def append(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append one JSON line per row to `path` (created with its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        for row in rows:
            fh.write(msgspec.json.encode(row) + b"\n")
