"""Record stage, per request: collects what each stage learned, then emits one
`RequestRecord` to every sink (the SQLite spool, Prometheus, live estimates).

The proxy fills a `Tracker` as the request moves through the pipeline and
calls `finish()` exactly once, whatever happened (success, error, client
gone). Sinks are synchronous and never await: the store only enqueues.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from router.classify.types import Classification
from router.decide import Decision
from router.dispatch import Outcome
from router.metrics.record import RequestRecord
from router.policy.model import Policy


def cost_usd(
    policy: Policy, backend: str | None, tokens_in: int, tokens_out: int
) -> float:
    b = policy.backends.get(backend or "")
    if b is None or b.cost is None:
        return 0.0
    return (tokens_in * b.cost.input_per_1m + tokens_out * b.cost.output_per_1m) / 1e6


@dataclass(slots=True)
class Tracker:
    api: str
    stream: bool
    request_id: str
    t0: float = field(default_factory=time.perf_counter)
    ts: float = field(default_factory=time.time)
    classification: Classification | None = None
    decision: Decision | None = None
    outcome: Outcome | None = None
    status: int = 0
    error_kind: str | None = None
    ttfb: float | None = None
    overhead_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0

    def first_byte(self) -> None:
        if self.ttfb is None:
            self.ttfb = time.perf_counter() - self.t0

    def take_usage(self, usage: dict[str, int]) -> None:
        """Token counts the backend reported (`in`, `out`), when it did."""
        self.tokens_in = usage.get("in", self.tokens_in)
        self.tokens_out = usage.get("out", self.tokens_out)

    def failed(self, status: int, kind: str) -> None:
        self.status = status
        self.error_kind = kind

    def hops(self) -> list[tuple[str, str, str]]:
        """(from, to, reason) for each move down the chain."""
        if self.outcome is None or not self.outcome.failed:
            return []
        moves = []
        tried = [a for a in self.outcome.failed if a.kind not in ("disabled", "pinned")]
        names = [a.backend for a in tried] + [self.outcome.hop.backend]
        for i, a in enumerate(tried):
            moves.append((a.backend, names[i + 1], a.kind))
        return moves

    def record(self, policy: Policy) -> RequestRecord:
        c, d, o = self.classification, self.decision, self.outcome
        latency = time.perf_counter() - self.t0
        backend = o.hop.backend if o is not None else None
        tokens_in = self.tokens_in or (
            c.tokens if c is not None and o is not None else 0
        )
        failed = [a.backend for a in o.failed] if o is not None else []
        return RequestRecord(
            ts=self.ts,
            request_id=self.request_id,
            api=self.api,
            stream=self.stream,
            route=d.route if d is not None else -1,
            route_name=d.route_name if d is not None else None,
            reason=d.reason if d is not None else "",
            backend=backend,
            model=o.hop.model if o is not None else None,
            status=self.status,
            error_kind=self.error_kind,
            fallback_from=",".join(failed) or None,
            latency_shifted=d.latency_shifted if d is not None else False,
            hedged=o.hedged if o is not None else False,
            pinned=d.pinned if d is not None else False,
            ttfb_ms=None if self.ttfb is None else self.ttfb * 1000,
            latency_ms=latency * 1000,
            overhead_us=int(self.overhead_s * 1e6),
            tokens_in=tokens_in,
            tokens_out=self.tokens_out,
            cost_usd=cost_usd(policy, backend, tokens_in, self.tokens_out),
            task=c.task if c is not None else "",
            complexity=c.complexity if c is not None else "",
            sensitivity=c.sensitivity if c is not None else "",
            modality=c.modality if c is not None else "",
            family=c.family if c is not None else "",
            tokens_est=c.tokens if c is not None else 0,
        )
