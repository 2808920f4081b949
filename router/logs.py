"""Logging: application messages as text or JSON lines on stderr, and the
access log, one JSON object per finished client request.

`configure(format, level)` runs once per process before serving. The access
log is built from the request's `RequestRecord` (routing facts and timings,
never the prompt or the answer: the record holds neither) and is on only in
JSON format at level `info` or below; otherwise `access_log()` is None and
the request path does no logging work at all. When on, a request costs one
dict and one `orjson.dumps`; lines are written once per event-loop turn, not
once per request, and bypass `logging` (no LogRecord per request).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

import orjson

if TYPE_CHECKING:
    from router.metrics.record import RequestRecord

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(name)s %(message)s"
ACCESS_LOGGER = "router.access"
# POSIX PIPE_BUF: a write to a pipe of at most this many bytes is never
# interleaved with another process's.
ATOMIC_WRITE = 4096

_format: LogFormat = "text"


def _now() -> datetime:
    return datetime.now(UTC)


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message"}`, plus `exc` for a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, option=orjson.OPT_UTC_Z).decode()


def configure(
    log_format: LogFormat = "text", level: str = "info", stream: TextIO | None = None
) -> None:
    """Send every logger's records to `stream` (stderr) in `log_format`, at
    `level` and above."""
    global _format
    _format = log_format
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


class AccessLog:
    """Writes one JSON line per record to `stream`, batched per loop turn."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: list[bytes] = []

    def __call__(self, rec: RequestRecord) -> None:
        line = orjson.dumps(
            {
                "ts": _now(),
                "level": "info",
                "logger": ACCESS_LOGGER,
                "message": "request",
                "request_id": rec.request_id,
                "api": rec.api,
                "stream": rec.stream,
                "route": rec.route_name or str(rec.route),
                "reason": rec.reason,
                "backend": rec.backend,
                "model": rec.model,
                "status": rec.status,
                "error": rec.error_kind,
                "latency_ms": round(rec.latency_ms, 3),
                "ttfb_ms": None if rec.ttfb_ms is None else round(rec.ttfb_ms, 3),
                "overhead_ms": rec.overhead_us / 1000,
                "fallback": rec.fallback_from is not None,
                "fallback_from": rec.fallback_from,
                "latency_shifted": rec.latency_shifted,
                "hedged": rec.hedged,
                "pinned": rec.pinned,
                "tokens_in": rec.tokens_in,
                "tokens_out": rec.tokens_out,
                "task": rec.task,
                "complexity": rec.complexity,
                "sensitivity": rec.sensitivity,
            },
            option=orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE,
        )
        lines = self._lines
        lines.append(line)
        if len(lines) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write it now
                self.flush()

    def flush(self) -> None:
        """Write the held lines in writes of at most `ATOMIC_WRITE` bytes,
        each ending at a line's end: several workers share one stderr pipe,
        and a pipe keeps a write of that size whole."""
        lines, self._lines = self._lines, []
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) > ATOMIC_WRITE:
                self._write(chunk)
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            self._write(chunk)

    def _write(self, lines: list[bytes]) -> None:
        self._stream.write(b"".join(lines).decode())
        self._stream.flush()


def access_log(stream: TextIO | None = None) -> AccessLog | None:
    """The access log when `configure` chose JSON and `router.access` is
    enabled at info; else None (nothing is built per request)."""
    if _format != "json":
        return None
    if not logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO):
        return None
    return AccessLog(stream or sys.stderr)
