"""Record stage, per request: the typed context one request carries through
decode -> classify -> decide -> dispatch -> stream, and the one record built
from it at the end.

Each stage's result is set once on the `RequestContext` (the decoded request,
the classification, the decision, the dispatch outcome); the stream stage
owns a `Delivery` (status, first byte, tokens, how it ended). `record()`
turns the whole into one `RequestRecord` and the fallback moves, whatever
happened (success, error, client gone). Sinks never await: the store only
enqueues.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from router.backends.base import Api
from router.classify.types import Classification
from router.decide import Decision
from router.dispatch import Outcome
from router.metrics.record import RequestRecord
from router.policy.model import Policy

# Attempts that were never sent are not moves down the chain.
_NOT_TRIED = frozenset({"disabled", "pinned"})


def cost_usd(
    policy: Policy, backend: str | None, tokens_in: int, tokens_out: int
) -> float:
    b = policy.backends.get(backend or "")
    if b is None or b.cost is None:
        return 0.0
    return (tokens_in * b.cost.input_per_1m + tokens_out * b.cost.output_per_1m) / 1e6


class Delivery(msgspec.Struct, kw_only=True, gc=False):
    """What the client got: set by the stream stage as bytes go out."""

    status: int
    error_kind: str | None = None
    first_byte: float | None = None  # perf_counter seconds
    overhead_s: float = 0.0
    usage: dict[str, int] = msgspec.field(default_factory=dict)


class RequestContext(msgspec.Struct, kw_only=True):
    api: Api
    request_id: str
    t0: float = msgspec.field(default_factory=time.perf_counter)
    ts: float = msgspec.field(default_factory=time.time)
    stream: bool = False
    request: Any = None  # the decoded ChatRequest or ResponsesRequest
    classification: Classification | None = None
    decision: Decision | None = None
    outcome: Outcome | None = None
    delivery: Delivery | None = None
    # Set when the request ended before (or instead of) a delivery.
    failure: tuple[int, str] | None = None

    def hops(self) -> list[tuple[str, str, str]]:
        """(from, to, reason) for each move down the chain."""
        o = self.outcome
        if o is None:
            return []
        tried = [a for a in o.failed if a.kind not in _NOT_TRIED]
        names = [a.backend for a in tried] + [o.hop.backend]
        return [(a.backend, names[i + 1], str(a.kind)) for i, a in enumerate(tried)]

    def record(self, policy: Policy) -> RequestRecord:
        c, d, o, dl = self.classification, self.decision, self.outcome, self.delivery
        latency = time.perf_counter() - self.t0
        backend = o.hop.backend if o is not None else None
        status, kind = (dl.status, dl.error_kind) if dl is not None else (0, None)
        if self.failure is not None:
            status, kind = self.failure
        usage = dl.usage if dl is not None else {}
        tokens_out = usage.get("out", 0)
        tokens_in = usage.get("in", 0) or (
            c.tokens if c is not None and o is not None else 0
        )
        ttfb = dl.first_byte if dl is not None else None
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
            status=status,
            error_kind=kind,
            fallback_from=",".join(a.backend for a in o.failed) or None
            if o is not None
            else None,
            latency_shifted=d.latency_shifted if d is not None else False,
            hedged=o.hedged if o is not None else False,
            pinned=d.pinned if d is not None else False,
            ttfb_ms=None if ttfb is None else (ttfb - self.t0) * 1000,
            latency_ms=latency * 1000,
            overhead_us=int(dl.overhead_s * 1e6) if dl is not None else 0,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd(policy, backend, tokens_in, tokens_out),
            task=c.task if c is not None else "",
            complexity=c.complexity if c is not None else "",
            sensitivity=c.sensitivity if c is not None else "",
            modality=c.modality if c is not None else "",
            family=c.family if c is not None else "",
            tokens_est=c.tokens if c is not None else 0,
        )
