"""`GET /v1/metrics` and `GET /v1/ab`: reports computed from the metrics store.

Record stage, read side: the store answers with indexed window queries; this
module adds what the policy knows (cost against the baseline, the A/B pairs
it configures, the verdicts).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from aiohttp import web

from router.ab import verdict
from router.api.jsonio import json_response
from router.errors import InvalidRequest, NotReady
from router.policy.model import Policy
from router.state import POLICY, STORE

WINDOWS = {"15m": 15 * 60, "1h": 60 * 60, "24h": 24 * 60 * 60}


def _baseline_cost(policy: Policy, tokens_in: int, tokens_out: int) -> float | None:
    base = policy.backends.get(policy.baseline or "")
    if base is None or base.cost is None:
        return None
    c = base.cost
    return (tokens_in * c.input_per_1m + tokens_out * c.output_per_1m) / 1e6


def with_savings(policy: Policy, rows: list[dict[str, Any]]) -> None:
    """Add `baseline_cost_usd` and `saving_usd` to each row, in place: what
    the same tokens would have cost at the baseline backend's prices."""
    for row in rows:
        base = _baseline_cost(policy, row["tokens_in"], row["tokens_out"])
        row["baseline_cost_usd"] = base
        row["saving_usd"] = None if base is None else base - row["cost_usd"]


async def metrics_summary(request: web.Request) -> web.Response:
    window = request.query.get("window", "1h")
    if window not in WINDOWS:
        raise InvalidRequest(
            f"window must be one of {', '.join(WINDOWS)}; got {window!r}.",
            param="window",
        )
    store = request.app.get(STORE)
    if store is None or not store.is_open:
        raise NotReady("The metrics store is not open (or disabled with --db off).")
    since = time.time() - WINDOWS[window]
    summary = msgspec.to_builtins(await store.summary(since, window=window))
    policy = request.app[POLICY].current
    with_savings(policy, summary["routes"])
    with_savings(policy, summary["backends"])
    summary["baseline"] = policy.baseline
    return json_response(summary)


async def ab_report(request: web.Request) -> web.Response:
    policy = request.app[POLICY].current
    store = request.app.get(STORE)
    if store is None or not store.is_open:
        raise NotReady("The metrics store is not open (or disabled with --db off).")
    samples = {(p.primary, p.candidate): p for p in await store.ab_pairs()}
    pairs = []
    for primary, candidate in policy.ab.candidates.items():
        got = samples.get((primary, candidate))
        pairs.append(
            verdict(
                primary,
                candidate,
                got.primary_arm if got is not None else [],
                got.candidate_arm if got is not None else [],
                policy.ab.min_samples,
            )
        )
    return json_response({"enabled": policy.ab.enabled, "pairs": pairs})


def setup(app: web.Application) -> None:
    app.router.add_get("/v1/metrics", metrics_summary)
    app.router.add_get("/v1/ab", ab_report)
