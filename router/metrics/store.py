"""Record stage, persistence: the SQLite spool for request and shadow records.

Records in (`submit()`, synchronous, from the request path), rows out (the
queries of `router.metrics.store_queries`). `submit()` only appends to a
bounded in-memory queue; one owned writer task drains it in batches, one
transaction per batch, and a retention task deletes old rows in small chunks.
Reads use a second connection, so a long scrape never holds up the writer
(WAL lets a reader and a writer work at once). `close()` writes every record
submitted before it, then stops both tasks and both connections.

One column per `RequestRecord` / `ShadowRecord` field: never the prompt, never
the answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import msgspec

from router.metrics import store_queries as queries
from router.metrics.record import RequestRecord, ShadowRecord
from router.metrics.store_queries import (
    BackendStats,
    PairSamples,
    RouteStats,
    Summary,
    Totals,
)
from router.metrics.store_schema import (
    INSERT_REQUEST,
    INSERT_SHADOW,
    SCHEMA_VERSION,
    SchemaError,
    atomic,
    migrate,
)

log = logging.getLogger("router.metrics.store")

Record = RequestRecord | ShadowRecord
DAY_S = 86_400.0
WAL_ATTEMPTS = 40  # about 8 s of backoff


async def _wal(conn: aiosqlite.Connection, where: str) -> None:
    """Switch the file to WAL. That needs the file to itself and SQLite does
    not wait for it on its own, so workers starting together retry a while."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            async with conn.execute("PRAGMA journal_mode = WAL") as cur:
                row = await cur.fetchone()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            await asyncio.sleep(0.01 * (attempt + 1))
            continue
        if row is None or row[0] != "wal":
            log.warning("metrics database %s: WAL unavailable (%s)", where, row)
        return
    raise SchemaError(f"{where}: the database stayed locked; cannot enable WAL")


async def _connect(path: str, *, read_only: bool) -> aiosqlite.Connection:
    # isolation_level=None: transactions are explicit (`atomic`), never implied.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        if not read_only:
            await _wal(conn, path)
        # In WAL mode NORMAL syncs at checkpoints only: a power cut may lose
        # the last batches, never corrupt the file.
        await conn.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _insert(conn: aiosqlite.Connection, batch: list[Record]) -> None:
    requests = [
        msgspec.structs.astuple(r) for r in batch if isinstance(r, RequestRecord)
    ]
    shadows = [msgspec.structs.astuple(r) for r in batch if isinstance(r, ShadowRecord)]
    if requests:
        await conn.executemany(INSERT_REQUEST, requests)
    if shadows:
        await conn.executemany(INSERT_SHADOW, shadows)


class Store:
    """The spool. Build it with `await Store.open(path)`; call `submit()` from
    the event loop's thread only."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        *,
        max_queue: int,
        retention_days: float,
        on_drop: Callable[[int], object] | None,
        clock: Callable[[], float],
        batch_size: int,
        linger_s: float,
        retention_interval_s: float,
        prune_chunk: int,
        warn_interval_s: float,
    ) -> None:
        self._wconn = writer
        self._rconn = reader
        self._max_queue = max_queue
        self._retention_s = retention_days * DAY_S if retention_days > 0 else None
        self._on_drop = on_drop
        self._clock = clock
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._retention_interval_s = retention_interval_s
        self._prune_chunk = prune_chunk
        self._warn_interval_s = warn_interval_s
        self._next_warning = 0.0
        self._pending: collections.deque[Record] = collections.deque()
        self._wake = asyncio.Event()
        self._hurry = asyncio.Event()  # a full batch, a flush or a close
        self._stop = asyncio.Event()
        self._write_lock = asyncio.Lock()  # one write transaction at a time
        self._close_lock = asyncio.Lock()
        self._closing = False
        self._closed = False
        self.dropped = 0  # records lost: queue full, store closed, write failed
        self.written = 0  # records committed
        self._accepted = 0  # records queued by submit()
        self._settled = 0  # records whose batch was committed or lost
        self._progress = asyncio.Event()
        self.pruned = 0  # rows deleted by retention
        self._writer = asyncio.create_task(self._write_loop(), name="store-writer")
        self._retention = asyncio.create_task(
            self._retention_loop(), name="store-retention"
        )

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        max_queue: int = 10_000,
        retention_days: float = 30,
        on_drop: Callable[[int], object] | None = None,
        clock: Callable[[], float] = time.time,
        batch_size: int = 500,
        linger_s: float = 0.05,
        retention_interval_s: float = 3600.0,
        prune_chunk: int = 5_000,
        warn_interval_s: float = 10.0,
    ) -> Store:
        """Create or migrate the database at `path`, then start the writer and
        the retention task. `on_drop(n)` is told of every `n` records lost
        (e.g. a Prometheus counter's `inc`). `retention_days <= 0` keeps
        rows forever. Raises `SchemaError` for a database it cannot use."""
        if str(path) == ":memory:":
            raise ValueError("the metrics store needs a file: it opens it twice")
        if max_queue < 1 or batch_size < 1 or prune_chunk < 1:
            raise ValueError("max_queue, batch_size and prune_chunk must be >= 1")
        where = os.fspath(path)
        Path(where).parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(where, read_only=False)
        try:
            found, now = await migrate(writer, where)
            if found != now:
                log.info("metrics database %s: schema %d -> %d", where, found, now)
            reader = await _connect(where, read_only=True)
        except BaseException:
            await writer.close()
            raise
        return cls(
            writer,
            reader,
            max_queue=max_queue,
            retention_days=retention_days,
            on_drop=on_drop,
            clock=clock,
            batch_size=batch_size,
            linger_s=linger_s,
            retention_interval_s=retention_interval_s,
            prune_chunk=prune_chunk,
            warn_interval_s=warn_interval_s,
        )

    @property
    def is_open(self) -> bool:
        """Accepting records and able to write them (for `/ready`)."""
        return not self._closing and not self._writer.done()

    @property
    def queued(self) -> int:
        return len(self._pending)

    # -- write side ---------------------------------------------------------

    def submit(self, record: Record) -> bool:
        """Queue one record for writing; never waits. False (and the record
        counted in `dropped`) when the queue is full or the store closed."""
        if self._closing:
            self._drop(1, "store closed")
            return False
        if len(self._pending) >= self._max_queue:
            self._drop(1, f"queue full ({self._max_queue} records)")
            return False
        self._pending.append(record)
        self._accepted += 1
        self._wake.set()
        if len(self._pending) >= self._batch_size:
            self._hurry.set()
        return True

    def _drop(self, n: int, why: str) -> None:
        self.dropped += n
        if self._on_drop is not None:
            self._on_drop(n)
        now = time.monotonic()
        if now >= self._next_warning:
            self._next_warning = now + self._warn_interval_s
            log.warning(
                "metrics store: %s; %d records dropped since start", why, self.dropped
            )

    async def _write_loop(self) -> None:
        """Write batches. A batch lingers up to `linger_s` for more records
        (unless it is full, or a flush or close hurries it): under load a
        transaction then carries hundreds of rows, not a few, and the writer
        thread is woken that much less often."""
        pending = self._pending
        while True:
            if not pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(pending) < self._batch_size and not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger_s):
                        await self._hurry.wait()
            self._hurry.clear()
            n = min(len(pending), self._batch_size)
            await self._write([pending.popleft() for _ in range(n)])

    async def _write(self, batch: list[Record]) -> None:
        """One transaction for the batch; if it fails, each record in its
        own, so one row that cannot be written never takes the others."""
        try:
            try:
                async with self._write_lock:
                    await atomic(self._wconn, functools.partial(_insert, batch=batch))
            except asyncio.CancelledError:
                self._drop(len(batch), "cancelled while writing a batch")
                raise
            except Exception as exc:
                if len(batch) == 1:
                    self._drop(1, f"write failed ({exc!r})")
                    return
                log.warning(
                    "metrics store: a batch of %d failed (%r); writing it row by row",
                    len(batch),
                    exc,
                )
                for i, record in enumerate(batch):
                    try:
                        await self._write_one(record)
                    except asyncio.CancelledError:
                        self._drop(len(batch) - i, "cancelled while writing rows")
                        raise
            else:
                self.written += len(batch)
        finally:
            self._settled += len(batch)
            self._progress.set()

    async def _write_one(self, record: Record) -> None:
        try:
            async with self._write_lock:
                await atomic(self._wconn, functools.partial(_insert, batch=[record]))
        except Exception as exc:
            self._drop(1, f"write failed ({exc!r})")
        else:
            self.written += 1

    async def flush(self) -> None:
        """Wait until every record accepted so far is committed (or lost to a
        write error). For tests and shutdown hooks; the request path never
        waits on the store."""
        target = self._accepted
        self._hurry.set()
        while self._settled < target and not self._writer.done():
            self._progress.clear()
            await self._progress.wait()

    # -- retention ----------------------------------------------------------

    async def _retention_loop(self) -> None:
        while not self._closing:
            try:
                await self.prune()
            except Exception as exc:
                log.warning("metrics store: retention sweep failed (%r)", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._retention_interval_s):
                    await self._stop.wait()

    async def prune(self) -> int:
        """Delete rows older than `retention_days` by the clock, a chunk per
        transaction so the writer gets the database between chunks; returns
        the rows deleted. Stops early once `close()` has begun."""
        if self._retention_s is None:
            return 0
        cutoff = self._clock() - self._retention_s
        deleted = 0
        for table in ("requests", "shadow"):
            chunk = functools.partial(self._delete, table=table, cutoff=cutoff)
            n = self._prune_chunk
            while n == self._prune_chunk and not self._closing:
                async with self._write_lock:
                    n = await atomic(self._wconn, chunk)
                deleted += n
                self.pruned += n
                await asyncio.sleep(0)
        return deleted

    async def _delete(
        self, conn: aiosqlite.Connection, table: str, cutoff: float
    ) -> int:
        cur = await conn.execute(
            f"DELETE FROM {table} WHERE rowid IN "
            f"(SELECT rowid FROM {table} WHERE ts < ? LIMIT ?)",
            (cutoff, self._prune_chunk),
        )
        return cur.rowcount

    # -- lifecycle ----------------------------------------------------------

    async def close(self) -> None:
        """Write everything submitted so far, stop the tasks, close the
        database. Later `submit()` calls are dropped. Idempotent."""
        async with self._close_lock:
            if self._closed:
                return
            self._closing = True
            self._wake.set()
            self._hurry.set()
            self._stop.set()
            tasks = (self._writer, self._retention)
            try:
                await asyncio.wait(tasks)
            finally:
                # Only when close() itself was cancelled are the tasks still
                # running; what they had not written is lost and counted.
                for task in tasks:
                    task.cancel()
                for result in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(result, Exception):
                        log.error("metrics store task failed", exc_info=result)
                if self._pending:
                    self._drop(len(self._pending), "closed before the queue drained")
                    self._pending.clear()
                self._progress.set()
                with contextlib.suppress(Exception):
                    await self._wconn.execute("PRAGMA optimize")
                await self._wconn.close()
                await self._rconn.close()
                self._closed = True

    # -- read side ----------------------------------------------------------

    async def summary(self, since: float, *, window: str = "") -> Summary:
        """Per route and per backend totals of the requests with `ts >= since`;
        `window` is echoed in the result (e.g. "1h")."""
        return await queries.summary(self._rconn, since, window)

    async def ab_pairs(self, since: float | None = None) -> list[PairSamples]:
        """Matched samples per (primary, candidate), pairs in name order."""
        return await queries.ab_pairs(self._rconn, since)

    async def recent_latencies(
        self, since: float
    ) -> dict[str, list[tuple[float, float]]]:
        """Per backend, (ts, ms to the first byte) of its successful requests,
        oldest first: what `LiveStats.warm` replays at start-up."""
        return await queries.recent_latencies(self._rconn, since)

    async def count(self) -> tuple[int, int]:
        """(request rows, shadow rows). Counts whole tables: not for hot paths."""
        return await queries.count(self._rconn)


__all__ = [
    "SCHEMA_VERSION",
    "BackendStats",
    "PairSamples",
    "Record",
    "RouteStats",
    "SchemaError",
    "Store",
    "Summary",
    "Totals",
]
