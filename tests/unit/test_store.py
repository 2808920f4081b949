"""Metrics store, write side: every submitted record becomes one row, a full
queue drops instead of blocking, close() drains, retention prunes old rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import msgspec
import pytest

from router.metrics.record import RequestRecord, ShadowRecord
from router.metrics.store import DAY_S, Store
from tests.unit.test_store_support import opened, req, rows, script, shadow


async def test_round_trip_every_field(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    full = req(
        request_id="a",
        stream=True,
        route=2,
        route_name="hard",
        backend="frontier",
        status=502,
        error_kind="backend_status",
        fallback_from="local,sarmalink",
        latency_shifted=True,
        hedged=True,
        pinned=True,
        ttfb_ms=12.5,
        latency_ms=1234.25,
        overhead_us=987,
        tokens_in=123_456,
        tokens_out=7,
        cost_usd=0.25,
        complexity="high",
        sensitivity="medium",
        modality="multi",
        family="gpt",
        tokens_est=99_999,
    )
    empty = req(
        request_id="b",
        route=-1,
        route_name=None,
        reason="",
        backend=None,
        model=None,
        status=400,
        error_kind="invalid_request_error",
        ttfb_ms=None,
        task="",
    )
    cut = shadow(status=0, error_kind="connect", ttfb_ms=None, tokens_out=0)
    async with opened(db) as store:
        assert all(store.submit(r) for r in (full, empty, shadow(), cut))

    got = [
        msgspec.convert(dict(r), RequestRecord, strict=False)
        for r in rows(db, "SELECT * FROM requests ORDER BY rowid")
    ]
    assert got == [full, empty]
    got_shadow = [
        msgspec.convert(dict(r), ShadowRecord, strict=False)
        for r in rows(db, "SELECT * FROM shadow ORDER BY rowid")
    ]
    assert got_shadow == [shadow(), cut]


async def test_close_writes_every_record_still_queued(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = await Store.open(db, batch_size=64, retention_days=0)
    for i in range(1_000):
        assert store.submit(req(request_id=f"r{i}"))
        if i % 10 == 0:
            assert store.submit(shadow(request_id=f"r{i}"))
    assert store.queued == 1_100  # nothing written yet: the loop never ran
    await store.close()
    assert (store.written, store.dropped, store.queued) == (1_100, 0, 0)
    ids = [r[0] for r in rows(db, "SELECT request_id FROM requests ORDER BY rowid")]
    assert ids == [f"r{i}" for i in range(1_000)]
    assert rows(db, "SELECT count(*) FROM shadow")[0][0] == 100


async def test_full_queue_drops_at_once_counts_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[int] = []
    caplog.set_level(logging.WARNING, logger="router.metrics.store")
    async with opened(tmp_path / "m.db", max_queue=5, on_drop=told.append) as store:
        accepted = [store.submit(req(request_id=f"r{i}")) for i in range(8)]
        assert accepted == [True] * 5 + [False] * 3
        assert (store.dropped, store.queued, told) == (3, 5, [1, 1, 1])
        await store.flush()
        assert store.submit(req(request_id="after"))  # room again once drained
        await store.flush()
        assert await store.count() == (6, 0)
    warnings = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(warnings) == 1


async def test_warning_repeats_after_its_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="router.metrics.store")
    async with opened(tmp_path / "m.db", max_queue=1, warn_interval_s=0.0) as store:
        for _ in range(3):
            store.submit(req())
    assert len([r for r in caplog.records if "queue full" in r.getMessage()]) == 2


async def test_submit_after_close_is_dropped_and_counted(tmp_path: Path) -> None:
    told: list[int] = []
    store = await Store.open(tmp_path / "m.db", on_drop=told.append)  # fmt: skip
    assert store.is_open
    await store.close()
    assert not store.is_open
    assert not store.submit(req())
    assert not store.submit(shadow())
    assert (store.dropped, told) == (2, [1, 1])


async def test_close_twice_and_concurrently(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "m.db", retention_days=0)
    store.submit(req())
    await asyncio.gather(store.close(), store.close())
    await store.close()
    assert store.written == 1
    assert rows(tmp_path / "m.db", "SELECT count(*) FROM requests")[0][0] == 1


async def test_a_failed_batch_is_retried_row_by_row_and_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    db = tmp_path / "m.db"
    told: list[int] = []
    async with opened(db, on_drop=told.append) as store:
        script(db, "ALTER TABLE shadow RENAME TO shadow_gone")
        store.submit(req(request_id="before"))
        store.submit(shadow())  # its table is gone: this row cannot be written
        store.submit(req(request_id="after"))
        await store.flush()
        assert (store.dropped, told, store.written) == (1, [1], 2)
        script(db, "ALTER TABLE shadow_gone RENAME TO shadow")
        store.submit(req(request_id="kept"))
        await store.flush()
        assert store.is_open
    ids = [r[0] for r in rows(db, "SELECT request_id FROM requests")]
    assert sorted(ids) == ["after", "before", "kept"]


async def test_flush_waits_for_the_writer(tmp_path: Path) -> None:
    async with opened(tmp_path / "m.db", batch_size=3) as store:
        for i in range(10):
            store.submit(req(request_id=f"r{i}"))
        await store.flush()
        assert store.written == 10
        assert await store.count() == (10, 0)


NOW = 100 * DAY_S


def _aged(days: float) -> list[RequestRecord | ShadowRecord]:
    ts = NOW - days * DAY_S
    return [req(ts=ts, request_id=f"d{days}"), shadow(ts=ts, request_id=f"d{days}")]


async def test_prune_deletes_rows_older_than_retention_only(tmp_path: Path) -> None:
    async with opened(
        tmp_path / "m.db",
        clock=lambda: NOW,
        retention_days=30,
        retention_interval_s=3600,
        prune_chunk=2,  # several chunks per table
    ) as store:
        for days in (45, 31, 30.5, 29.9, 1, 0):
            for r in _aged(days):
                store.submit(r)
        await store.flush()
        await store.prune()  # the sweep at open may have raced the writer
        assert store.pruned == 6
        assert await store.count() == (3, 3)
        assert await store.prune() == 0
        kept = rows(tmp_path / "m.db", "SELECT request_id FROM requests ORDER BY ts")
        assert [r[0] for r in kept] == ["d29.9", "d1", "d0"]


async def test_retention_runs_in_the_background_at_open(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    async with opened(db, retention_days=0) as store:  # 0: keep everything
        for days in (40, 10):
            for r in _aged(days):
                store.submit(r)
        await store.flush()
        assert await store.prune() == 0
    async with opened(db, clock=lambda: NOW, retention_days=30) as store:
        async with asyncio.timeout(10):
            while store.pruned < 2:
                await asyncio.sleep(0.005)
        assert await store.count() == (1, 1)


async def test_open_refuses_memory_and_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file"):
        await Store.open(":memory:")
    with pytest.raises(ValueError, match="max_queue"):
        await Store.open(tmp_path / "m.db", max_queue=0)


async def test_open_creates_missing_directories(tmp_path: Path) -> None:
    async with opened(tmp_path / "a" / "b" / "m.db") as store:
        assert store.is_open
    assert (tmp_path / "a" / "b" / "m.db").exists()


async def test_a_cancelled_close_counts_what_it_could_not_write(
    tmp_path: Path,
) -> None:
    db = tmp_path / "m.db"
    store = await Store.open(db, batch_size=10, retention_days=0)
    for i in range(1_000):
        store.submit(req(request_id=f"r{i}"))
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0.01)
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    await store.close()
    assert not store.is_open
    assert store.written + store.dropped == 1_000
    assert store.queued == 0
    assert rows(db, "SELECT count(*) FROM requests")[0][0] >= store.written
