"""Record stage, fan-out: each finished record goes to Prometheus, once the
store is open onto the SQLite spool's queue, and to the access log when one
is on. Synchronous; never awaits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from router.metrics.prom import Metrics
from router.metrics.record import RequestRecord, ShadowRecord


class Spool(Protocol):
    def submit(self, record: RequestRecord | ShadowRecord) -> bool: ...


class Recorder:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.spool: Spool | None = None
        self.access: Callable[[RequestRecord], None] | None = None

    def record(self, rec: RequestRecord, hops: list[tuple[str, str, str]]) -> None:
        if self.spool is not None:
            self.spool.submit(rec)
        self.metrics.observe(rec, hops)
        if self.access is not None:
            self.access(rec)

    def shadow(self, rec: ShadowRecord) -> None:
        if self.spool is not None:
            self.spool.submit(rec)
        self.metrics.observe_shadow(rec)
