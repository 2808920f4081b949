"""Helpers for the metrics store tests: records with every field set, the
store opened and always closed, and rows read back from the file."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from router.metrics.record import RequestRecord, ShadowRecord
from router.metrics.store import Store

REQUEST: dict[str, Any] = {
    "ts": 1_000.0,
    "request_id": "req-1",
    "api": "chat",
    "stream": False,
    "route": 0,
    "route_name": "code",
    "reason": "Cheap code questions stay local",
    "backend": "local",
    "model": "qwen2.5-coder:7b",
    "status": 200,
    "error_kind": None,
    "fallback_from": None,
    "latency_shifted": False,
    "hedged": False,
    "pinned": False,
    "ttfb_ms": 10.0,
    "latency_ms": 100.0,
    "overhead_us": 250,
    "tokens_in": 10,
    "tokens_out": 20,
    "cost_usd": 0.001,
    "task": "code",
    "complexity": "low",
    "sensitivity": "low",
    "modality": "text",
    "family": "qwen-coder",
    "tokens_est": 12,
}
SHADOW: dict[str, Any] = {
    "ts": 1_001.0,
    "request_id": "req-1",
    "primary": "local",
    "candidate": "sarmalink",
    "model": "smart",
    "status": 200,
    "error_kind": None,
    "ttfb_ms": 5.0,
    "latency_ms": 80.0,
    "tokens_out": 18,
}


def req(**fields: Any) -> RequestRecord:
    return RequestRecord(**{**REQUEST, **fields})


def shadow(**fields: Any) -> ShadowRecord:
    return ShadowRecord(**{**SHADOW, **fields})


@contextlib.asynccontextmanager
async def opened(path: Path, **options: Any) -> AsyncIterator[Store]:
    """The records here are from 1970: retention is off unless asked for."""
    store = await Store.open(path, **{"retention_days": 0, **options})
    try:
        yield store
    finally:
        await store.close()


def rows(path: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    """Read the file directly, as an operator's sqlite3 shell would."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, args).fetchall()


def script(path: Path, sql: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(sql)
