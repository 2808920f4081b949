"""Record stage, persistence: the metrics database's schema and its migrations.

An empty or older database file in, the current schema out. The version lives
in `PRAGMA user_version`; `MIGRATIONS[i]` takes version i to i + 1 and runs in
one transaction with the version bump, so a crash leaves either the old or the
new version, never half of a step. Steps are history: never edit one that has
shipped, append a new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiosqlite

from router.errors import RouterError
from router.metrics.record import RequestRecord, ShadowRecord

T = TypeVar("T")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: one column per record field (never the prompt or the answer), and the
    # time indexes every window query and the retention sweep start from.
    (
        """CREATE TABLE requests (
            ts REAL NOT NULL,
            request_id TEXT NOT NULL,
            api TEXT NOT NULL,
            stream INTEGER NOT NULL,
            route INTEGER NOT NULL,
            route_name TEXT,
            reason TEXT NOT NULL,
            backend TEXT,
            model TEXT,
            status INTEGER NOT NULL,
            error_kind TEXT,
            fallback_from TEXT,
            latency_shifted INTEGER NOT NULL,
            hedged INTEGER NOT NULL,
            pinned INTEGER NOT NULL,
            ttfb_ms REAL,
            latency_ms REAL NOT NULL,
            overhead_us INTEGER NOT NULL,
            tokens_in INTEGER NOT NULL,
            tokens_out INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            task TEXT NOT NULL,
            complexity TEXT NOT NULL,
            sensitivity TEXT NOT NULL,
            modality TEXT NOT NULL,
            family TEXT NOT NULL,
            tokens_est INTEGER NOT NULL
        )""",
        """CREATE TABLE shadow (
            ts REAL NOT NULL,
            request_id TEXT NOT NULL,
            "primary" TEXT NOT NULL,
            candidate TEXT NOT NULL,
            model TEXT NOT NULL,
            status INTEGER NOT NULL,
            error_kind TEXT,
            ttfb_ms REAL,
            latency_ms REAL NOT NULL,
            tokens_out INTEGER NOT NULL
        )""",
        "CREATE INDEX requests_ts ON requests (ts)",
        "CREATE INDEX shadow_ts ON shadow (ts)",
    ),
    # 2: per-backend windows and A/B matching (shadow row -> its request row).
    (
        "CREATE INDEX requests_backend_ts ON requests (backend, ts)",
        "CREATE INDEX requests_request_id ON requests (request_id)",
        'CREATE INDEX shadow_pair_ts ON shadow ("primary", candidate, ts)',
        "CREATE INDEX shadow_request_id ON shadow (request_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

REQUEST_COLUMNS: tuple[str, ...] = RequestRecord.__struct_fields__
SHADOW_COLUMNS: tuple[str, ...] = ShadowRecord.__struct_fields__


def _insert(table: str, columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"


INSERT_REQUEST = _insert("requests", REQUEST_COLUMNS)
INSERT_SHADOW = _insert("shadow", SHADOW_COLUMNS)


class SchemaError(RouterError):
    """The database file cannot be used: written by a newer router, or not a
    metrics database this router's migrations can bring up to date."""


async def atomic(
    conn: aiosqlite.Connection, work: Callable[[aiosqlite.Connection], Awaitable[T]]
) -> T:
    """Run `work` in one write transaction (taken at once, so two processes
    sharing the file queue up on the busy timeout instead of deadlocking)."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        result = await work(conn)
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
    return result


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def _step(conn: aiosqlite.Connection, where: str) -> tuple[int, int]:
    """Apply the next migration, if any; returns (version found, version now)."""
    version = await user_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{where}: metrics database schema version {version} is newer than "
            f"this router supports ({SCHEMA_VERSION}); upgrade the router or give "
            "it another database file (--db / LLR_DB)"
        )
    if version < SCHEMA_VERSION:
        try:
            for statement in MIGRATIONS[version]:
                await conn.execute(statement)
        except aiosqlite.Error as exc:
            raise SchemaError(
                f"{where}: cannot migrate the metrics database from schema "
                f"version {version} to {version + 1}: {exc}"
            ) from exc
        await conn.execute(f"PRAGMA user_version = {version + 1}")
        return version, version + 1
    return version, version


async def migrate(conn: aiosqlite.Connection, where: str) -> tuple[int, int]:
    """Bring the database to `SCHEMA_VERSION`, one step per transaction; returns
    (version found, version now). Each step re-reads the version inside its
    transaction, so workers opening the same file at once apply it once."""
    found, now = await atomic(conn, lambda c: _step(c, where))
    while now < SCHEMA_VERSION:
        _, now = await atomic(conn, lambda c: _step(c, where))
    return found, now
