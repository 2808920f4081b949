"""router.logs: the JSON formatter, and the access log's on/off and batching."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import orjson
import pytest

from router import logs
from router.metrics.record import RequestRecord

RECORD = RequestRecord(
    ts=1.0, request_id="r-1", api="chat", stream=False, route=2, route_name=None,
    reason="default route", backend="local", model="m", status=200,
    error_kind=None, fallback_from="sarmalink", latency_shifted=False,
    hedged=False, pinned=False, ttfb_ms=1.5, latency_ms=2.25, overhead_us=310,
    tokens_in=3, tokens_out=4, cost_usd=0.0, task="general", complexity="low",
    sensitivity="low", modality="text", family="llama", tokens_est=3,
)  # fmt: skip


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logs._format = "text"


def test_access_log_is_off_in_text_format_and_above_info() -> None:
    logs.configure("text", "info", io.StringIO())
    assert logs.access_log() is None
    logs.configure("json", "warning", io.StringIO())
    assert logs.access_log() is None
    logs.configure("json", "info", io.StringIO())
    assert logs.access_log() is not None


async def test_access_lines_are_written_once_per_loop_turn() -> None:
    out = io.StringIO()
    access = logs.AccessLog(out)
    access(RECORD)
    access(RECORD)
    assert out.getvalue() == ""
    await asyncio.sleep(0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    got = json.loads(lines[0])
    assert got["ts"].endswith("Z")
    assert {k: got[k] for k in ("route", "fallback", "fallback_from")} == {
        "route": "2",
        "fallback": True,
        "fallback_from": "sarmalink",
    }
    assert (got["latency_ms"], got["ttfb_ms"], got["overhead_ms"]) == (2.25, 1.5, 0.31)


def test_json_formatter_lines() -> None:
    out = io.StringIO()
    logs.configure("json", "info", out)
    log = logging.getLogger("router.test")
    log.debug("not shown")
    log.info("hello %s", "there")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert {k: first[k] for k in ("level", "logger", "message")} == {
        "level": "info",
        "logger": "router.test",
        "message": "hello there",
    }
    assert second["level"] == "error" and "ValueError: boom" in second["exc"]


class Writes(io.StringIO):
    """A stream that remembers each flushed write, as a pipe would see it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_a_batch_goes_out_in_whole_lines_of_at_most_one_pipe_buffer() -> None:
    out = Writes()
    access = logs.AccessLog(out)
    for i in range(200):
        access._lines.append(orjson.dumps({"i": i, "pad": "é" * 40}) + b"\n")
    access.flush()
    assert len(out.writes) > 1
    assert all(len(w.encode()) <= logs.ATOMIC_WRITE for w in out.writes)
    assert all(w.endswith("\n") for w in out.writes)
    assert [json.loads(line)["i"] for line in out.getvalue().splitlines()] == list(
        range(200)
    )
