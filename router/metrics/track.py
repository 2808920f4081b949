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
# What the record says of a stage the request never reached.
_NO_CLASSIFICATION = ("", "", "", "", "", 0)
_NO_DECISION = (-1, None, "", False, False)
_NO_USAGE: dict[str, int] = {}


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
    # The router's own id for this request (A/B sampling keys on it).
    sample_id: str = ""
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
        if o is None or len(o.attempts) < 2:  # served by the only attempt
            return []
        tried = [a for a in o.failed if a.kind not in _NOT_TRIED]
        names = [a.backend for a in tried] + [o.hop.backend]
        return [(a.backend, names[i + 1], str(a.kind)) for i, a in enumerate(tried)]

    def record(self, policy: Policy) -> RequestRecord:
        """The request's one row: what each stage returned, or what the
        stage it failed in left unset."""
        c, d, o, dl = self.classification, self.decision, self.outcome, self.delivery
        end = time.perf_counter()
        task, complexity, sensitivity, modality, family, estimate = (
            _NO_CLASSIFICATION
            if c is None
            else (c.task, c.complexity, c.sensitivity, c.modality, c.family, c.tokens)
        )
        route, route_name, reason, shifted, pinned = (
            _NO_DECISION
            if d is None
            else (d.route, d.route_name, d.reason, d.latency_shifted, d.pinned)
        )
        backend = model = fallback_from = None
        hedged = False
        if o is not None:
            backend, model, hedged = o.hop.backend, o.hop.model, o.hedged
            if len(o.attempts) > 1:
                fallback_from = ",".join(a.backend for a in o.failed) or None
        status, kind, ttfb_ms, overhead_us, usage = 0, None, None, 0, _NO_USAGE
        if dl is not None:
            status, kind, usage = dl.status, dl.error_kind, dl.usage
            overhead_us = int(dl.overhead_s * 1e6)
            if dl.first_byte is not None:
                ttfb_ms = (dl.first_byte - self.t0) * 1000
        if self.failure is not None:
            status, kind = self.failure
        tokens_out = usage.get("out", 0)
        tokens_in = usage.get("in", 0) or (estimate if o is not None else 0)
        return RequestRecord(
            ts=self.ts,
            request_id=self.request_id,
            api=self.api,
            stream=self.stream,
            route=route,
            route_name=route_name,
            reason=reason,
            backend=backend,
            model=model,
            status=status,
            error_kind=kind,
            fallback_from=fallback_from,
            latency_shifted=shifted,
            hedged=hedged,
            pinned=pinned,
            ttfb_ms=ttfb_ms,
            latency_ms=(end - self.t0) * 1000,
            overhead_us=overhead_us,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd(policy, backend, tokens_in, tokens_out),
            task=task,
            complexity=complexity,
            sensitivity=sensitivity,
            modality=modality,
            family=family,
            tokens_est=estimate,
        )
