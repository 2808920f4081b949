"""Metrics store schema: the columns are the record fields and nothing that
could hold a prompt; migrations bring old files up to date, refuse newer ones,
and every query starts from an index."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from router.metrics import store_queries
from router.metrics.record import RequestRecord, ShadowRecord
from router.metrics.store import SCHEMA_VERSION, SchemaError, Store
from tests.unit.test_store_support import opened, req, rows, script, shadow

# Every column and its declared type. Text columns hold ids, names from the
# policy, enum values and the route's reason: nowhere to put a prompt or an
# answer. Adding a column means changing this list on purpose.
REQUEST_COLUMNS = [
    ("ts", "REAL"),
    ("request_id", "TEXT"),
    ("api", "TEXT"),
    ("stream", "INTEGER"),
    ("route", "INTEGER"),
    ("route_name", "TEXT"),
    ("reason", "TEXT"),
    ("backend", "TEXT"),
    ("model", "TEXT"),
    ("status", "INTEGER"),
    ("error_kind", "TEXT"),
    ("fallback_from", "TEXT"),
    ("latency_shifted", "INTEGER"),
    ("hedged", "INTEGER"),
    ("pinned", "INTEGER"),
    ("ttfb_ms", "REAL"),
    ("latency_ms", "REAL"),
    ("overhead_us", "INTEGER"),
    ("tokens_in", "INTEGER"),
    ("tokens_out", "INTEGER"),
    ("cost_usd", "REAL"),
    ("task", "TEXT"),
    ("complexity", "TEXT"),
    ("sensitivity", "TEXT"),
    ("modality", "TEXT"),
    ("family", "TEXT"),
    ("tokens_est", "INTEGER"),
]
SHADOW_COLUMNS = [
    ("ts", "REAL"),
    ("request_id", "TEXT"),
    ("primary", "TEXT"),
    ("candidate", "TEXT"),
    ("model", "TEXT"),
    ("status", "INTEGER"),
    ("error_kind", "TEXT"),
    ("ttfb_ms", "REAL"),
    ("latency_ms", "REAL"),
    ("tokens_out", "INTEGER"),
]
INDEXES = {
    ("requests", "requests_ts", "ts"),
    ("requests", "requests_backend_ts", "backend,ts"),
    ("requests", "requests_request_id", "request_id"),
    ("shadow", "shadow_ts", "ts"),
    ("shadow", "shadow_pair_ts", "primary,candidate,ts"),
    ("shadow", "shadow_request_id", "request_id"),
}

# Schema version 1 as it shipped, written here by hand so that a change to
# the migration code cannot change the fixture with it.
V1 = """
CREATE TABLE requests (
    ts REAL NOT NULL, request_id TEXT NOT NULL, api TEXT NOT NULL,
    stream INTEGER NOT NULL, route INTEGER NOT NULL, route_name TEXT,
    reason TEXT NOT NULL, backend TEXT, model TEXT, status INTEGER NOT NULL,
    error_kind TEXT, fallback_from TEXT, latency_shifted INTEGER NOT NULL,
    hedged INTEGER NOT NULL, pinned INTEGER NOT NULL, ttfb_ms REAL,
    latency_ms REAL NOT NULL, overhead_us INTEGER NOT NULL,
    tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL,
    cost_usd REAL NOT NULL, task TEXT NOT NULL, complexity TEXT NOT NULL,
    sensitivity TEXT NOT NULL, modality TEXT NOT NULL, family TEXT NOT NULL,
    tokens_est INTEGER NOT NULL);
CREATE TABLE shadow (
    ts REAL NOT NULL, request_id TEXT NOT NULL, "primary" TEXT NOT NULL,
    candidate TEXT NOT NULL, model TEXT NOT NULL, status INTEGER NOT NULL,
    error_kind TEXT, ttfb_ms REAL, latency_ms REAL NOT NULL,
    tokens_out INTEGER NOT NULL);
CREATE INDEX requests_ts ON requests (ts);
CREATE INDEX shadow_ts ON shadow (ts);
INSERT INTO requests VALUES (5.0, 'old', 'chat', 0, 0, 'code', 'r', 'local',
    'm', 200, NULL, NULL, 0, 0, 0, 1.0, 2.0, 3, 4, 5, 0.5, 'code', 'low',
    'low', 'text', 'qwen-coder', 6);
INSERT INTO shadow VALUES (6.0, 'old', 'local', 'sarmalink', 'smart', 200,
    NULL, 1.0, 3.0, 5);
PRAGMA user_version = 1;
"""


def columns(db: Path, table: str) -> list[tuple[str, str]]:
    return [(r["name"], r["type"]) for r in rows(db, f"PRAGMA table_info({table})")]


def indexes(db: Path) -> set[tuple[str, str, str]]:
    found = set()
    for r in rows(db, "SELECT tbl_name, name FROM sqlite_master WHERE type='index'"):
        cols = [c["name"] for c in rows(db, f"PRAGMA index_info({r['name']})")]
        found.add((r["tbl_name"], r["name"], ",".join(cols)))
    return found


def version(db: Path) -> int:
    return int(rows(db, "PRAGMA user_version")[0][0])


async def test_fresh_file_has_the_whole_schema(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    async with opened(db):
        pass
    assert version(db) == SCHEMA_VERSION == 2
    assert columns(db, "requests") == REQUEST_COLUMNS
    assert columns(db, "shadow") == SHADOW_COLUMNS
    assert indexes(db) == INDEXES
    assert rows(db, "PRAGMA journal_mode")[0][0] == "wal"
    tables = rows(db, "SELECT name FROM sqlite_master WHERE type='table'")
    assert sorted(r[0] for r in tables) == ["requests", "shadow"]


def test_columns_are_exactly_the_record_fields() -> None:
    assert tuple(n for n, _ in REQUEST_COLUMNS) == RequestRecord.__struct_fields__
    assert tuple(n for n, _ in SHADOW_COLUMNS) == ShadowRecord.__struct_fields__


async def test_migrates_a_v1_file_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    script(db, V1)
    async with opened(db) as store:
        assert await store.count() == (1, 1)
        pairs = await store.ab_pairs()
        assert [(p.primary_arm, p.candidate_arm) for p in pairs] == [
            ([(True, 2.0)], [(True, 3.0)])
        ]
        store.submit(req(request_id="new"))
    assert version(db) == SCHEMA_VERSION
    assert indexes(db) == INDEXES
    assert [r[0] for r in rows(db, "SELECT request_id FROM requests ORDER BY ts")] == [
        "old",
        "new",
    ]


async def test_refuses_a_file_from_a_newer_router(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    script(db, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match=r"version 3 is newer .* supports \(2\)"):
        await Store.open(db)
    assert version(db) == SCHEMA_VERSION + 1
    assert rows(db, "SELECT count(*) FROM sqlite_master")[0][0] == 0


async def test_refuses_a_file_it_cannot_migrate(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    script(db, "CREATE TABLE requests (prompt TEXT)")
    with pytest.raises(SchemaError, match="from schema version 0 to 1"):
        await Store.open(db)
    assert version(db) == 0
    assert columns(db, "requests") == [("prompt", "TEXT")]  # rolled back whole


async def test_workers_opening_one_file_at_once_migrate_it_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "m.db"
    stores = await asyncio.gather(*(Store.open(db, retention_days=0) for _ in range(3)))
    for i, store in enumerate(stores):
        store.submit(req(request_id=f"w{i}"))
    await asyncio.gather(*(s.close() for s in stores))
    assert version(db) == SCHEMA_VERSION
    assert rows(db, "SELECT count(*) FROM requests")[0][0] == 3


@pytest.mark.parametrize("name", ["SUMMARY_SQL", "PAIRS_SQL", "RECENT_SQL"])
async def test_queries_search_an_index_never_scan_a_table(
    tmp_path: Path, name: str
) -> None:
    db = tmp_path / "m.db"
    async with opened(db) as store:
        store.submit(req())
        store.submit(shadow())
    sql = getattr(store_queries, name)
    plan = [
        r[3] for r in rows(db, "EXPLAIN QUERY PLAN " + sql, *[1.0] * sql.count("?"))
    ]
    tables = [p for p in plan if p.startswith(("SEARCH", "SCAN"))]
    assert tables
    assert all(p.startswith("SEARCH") for p in tables), plan
