"""Record stage types: one row per client request and one per shadow call.

What the proxy hands to the store and to Prometheus. Never the prompt, never
the answer: only routing facts, timings, token counts and the classification.
"""

from __future__ import annotations

import msgspec


class RequestRecord(msgspec.Struct, frozen=True, kw_only=True):
    ts: float  # unix seconds when the request arrived
    request_id: str
    api: str  # "chat" | "responses"
    stream: bool
    route: int  # -1 when the request failed before routing (e.g. bad JSON)
    route_name: str | None
    reason: str
    backend: str | None  # the backend that served; None if none did
    model: str | None
    status: int  # HTTP status the client got
    error_kind: str | None  # None on success; see router.metrics.ERROR_KINDS
    fallback_from: str | None  # backends that failed first, comma-separated
    latency_shifted: bool
    hedged: bool
    pinned: bool
    ttfb_ms: float | None  # until the first byte was sent to the client
    latency_ms: float  # until the last byte was sent
    overhead_us: int  # the router's own time, excluding the backend
    tokens_in: int
    tokens_out: int
    cost_usd: float
    task: str
    complexity: str
    sensitivity: str
    modality: str
    family: str
    tokens_est: int  # the classifier's estimate


class ShadowRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One A/B mirror call: the candidate's answer to a primary's request."""

    ts: float
    request_id: str  # the mirrored client request (joins RequestRecord)
    primary: str
    candidate: str
    model: str
    status: int  # 0 when no HTTP status was received
    error_kind: str | None
    ttfb_ms: float | None
    latency_ms: float
    tokens_out: int
