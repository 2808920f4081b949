"""Record stage, fan-out: each finished record goes to Prometheus and, once
the store is open, onto the SQLite spool's queue. Synchronous; never awaits.
"""

from __future__ import annotations

from typing import Protocol

from router.metrics.prom import Metrics
from router.metrics.record import RequestRecord, ShadowRecord


class Spool(Protocol):
    def submit(self, record: RequestRecord | ShadowRecord) -> bool: ...


class Recorder:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.spool: Spool | None = None

    def record(self, rec: RequestRecord, hops: list[tuple[str, str, str]]) -> None:
        if self.spool is not None:
            self.spool.submit(rec)
        self.metrics.observe(rec, hops)

    def shadow(self, rec: ShadowRecord) -> None:
        if self.spool is not None:
            self.spool.submit(rec)
        self.metrics.observe_shadow(rec)
