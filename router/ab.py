"""A/B: mirror a sample of a primary backend's traffic to its candidate, and
judge the pair from matched samples.

Sampling is a deterministic hash of the id the router issued for the
request (never the client's `x-request-id`, which a client could choose to
be mirrored or not). Mirror calls run as owned background tasks after the client's
answer is complete, bounded by `maxConcurrent` (a full set skips, never
queues), and never for a pinned request unless the candidate is local.

The verdict compares the candidate with the primary on the same requests:
success rate by a one-sided two-proportion z-test at the 5% level (the
candidate is worse when z < -1.645), latency by p95 (the candidate must not
be slower). Below `minSamples` matched samples the answer is
`insufficient-data`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from router.backends.base import Body, StreamBroken
from router.backends.pool import Attempt, BackendPool
from router.decide import Decision, shadow_hop
from router.dispatch import dispatch
from router.errors import HTTPError
from router.metrics.record import ShadowRecord
from router.metrics.recorder import Recorder
from router.metrics.track import RequestContext

log = logging.getLogger("router.ab")

Z_5PCT_ONE_SIDED = 1.645


def sampled(request_id: str, rate: float) -> bool:
    """Whether `request_id` falls in the first `rate` of the hash space."""
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2**64


class Mirror:
    """Owns every shadow task; `close()` lets them finish, then cancels."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._tasks: set[asyncio.Task[None]] = set()
        self.skipped: dict[str, int] = {}

    def _skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def maybe(self, ctx: RequestContext, pool: BackendPool, body: Body) -> bool:
        """Start a mirror call when this finished request is sampled; True if
        started. The call is a one-hop dispatch through the same code as the
        client's, with the same pin."""
        policy = pool.policy
        ab = policy.ab
        if not ab.enabled:
            return False
        c, d, o = ctx.classification, ctx.decision, ctx.outcome
        if c is None or d is None or o is None:
            return False
        primary = o.hop.backend
        candidate = ab.candidates.get(primary)
        key = ctx.sample_id or ctx.request_id
        if candidate is None or not sampled(key, ab.sample_rate):
            return False
        if d.pinned and not policy.backends[candidate].local:
            self._skip("pinned")
            return False
        if not pool.usable(candidate):
            self._skip("disabled")
            return False
        model = ctx.request.model if ctx.request is not None else "auto"
        shadow = shadow_hop(
            d,
            c,
            policy,
            candidate,
            model=model,
            remote=pool.remote,
            absent=pool.absent,
        )
        if shadow is None:
            self._skip("pinned")
            return False
        if len(self._tasks) >= ab.max_concurrent:
            self._skip("busy")
            return False
        task = asyncio.create_task(
            self._run(shadow, pool, ctx, body, primary, c.sensitivity)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run(
        self,
        d: Decision,
        pool: BackendPool,
        ctx: RequestContext,
        body: Body,
        primary: str,
        sensitivity: str,
    ) -> None:
        hop = d.chain[0]
        ts, t0 = time.time(), time.perf_counter()
        status, kind, ttfb, tokens_out = 0, None, None, 0
        attempts: list[Attempt] = []
        try:
            outcome = await dispatch(
                d,
                pool,
                api=ctx.api,
                body=body,
                stream=ctx.stream,
                request_id=f"{ctx.request_id}-shadow",
                sensitivity=sensitivity,
                attempts=attempts,
            )
            reply = outcome.reply
            ttfb = (time.perf_counter() - t0) * 1000
            status = reply.status
            try:
                if reply.rest is not None:
                    async for _ in reply.rest:
                        pass
            except StreamBroken:
                kind = "stream_broken"
            finally:
                reply.close()
            tokens_out = reply.usage.get("out", 0)
            if status >= 400:
                kind = "backend_status"
        except HTTPError as exc:
            last = attempts[-1] if attempts else None
            kind = str(last.kind) if last is not None else exc.code or exc.type
            status = (last.status or 0) if last is not None else 0
        except asyncio.CancelledError:
            kind = "cancelled"
            raise
        except Exception:
            log.exception("shadow call to %s failed", hop.backend)
            kind = "internal"
        finally:
            self._recorder.shadow(
                ShadowRecord(
                    ts=ts,
                    request_id=ctx.request_id,
                    primary=primary,
                    candidate=hop.backend,
                    model=hop.model,
                    status=status,
                    error_kind=kind,
                    ttfb_ms=ttfb,
                    latency_ms=(time.perf_counter() - t0) * 1000,
                    tokens_out=tokens_out,
                )
            )

    async def close(self, grace_s: float = 5.0) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _worse_success(ok_c: int, n_c: int, ok_p: int, n_p: int) -> tuple[bool, float]:
    """One-sided two-proportion z-test: is the candidate's rate lower?"""
    p_c, p_p = ok_c / n_c, ok_p / n_p
    pooled = (ok_c + ok_p) / (n_c + n_p)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_p))
    if se == 0:
        return p_c < p_p, 0.0
    z = (p_c - p_p) / se
    return z < -Z_5PCT_ONE_SIDED, z


def verdict(
    primary: str,
    candidate: str,
    primary_arm: Sequence[tuple[bool, float]],
    candidate_arm: Sequence[tuple[bool, float]],
    min_samples: int,
) -> dict[str, Any]:
    """One pair of `/v1/ab`: samples, rates, latencies, verdict and reason."""
    n_p, n_c = len(primary_arm), len(candidate_arm)
    ok_p = sum(ok for ok, _ in primary_arm)
    ok_c = sum(ok for ok, _ in candidate_arm)
    p95_p = percentile([ms for _, ms in primary_arm], 95)
    p95_c = percentile([ms for _, ms in candidate_arm], 95)
    out: dict[str, Any] = {
        "primary": primary,
        "candidate": candidate,
        "primary_samples": n_p,
        "candidate_samples": n_c,
        "primary_success_rate": ok_p / n_p if n_p else None,
        "candidate_success_rate": ok_c / n_c if n_c else None,
        "primary_p50_ms": percentile([ms for _, ms in primary_arm], 50),
        "candidate_p50_ms": percentile([ms for _, ms in candidate_arm], 50),
        "primary_p95_ms": p95_p,
        "candidate_p95_ms": p95_c,
    }
    if n_c < min_samples or n_p < min_samples:
        out["verdict"] = "insufficient-data"
        out["reason"] = (
            f"{min(n_c, n_p)} matched samples of the {min_samples} needed (minSamples)"
        )
        return out
    worse, z = _worse_success(ok_c, n_c, ok_p, n_p)
    assert p95_c is not None and p95_p is not None
    if worse:
        out["verdict"] = "hold"
        out["reason"] = (
            f"success rate worse: {ok_c / n_c:.3f} vs {ok_p / n_p:.3f} "
            f"(one-sided z = {z:.2f} < -{Z_5PCT_ONE_SIDED})"
        )
    elif p95_c > p95_p:
        out["verdict"] = "hold"
        out["reason"] = f"p95 latency worse: {p95_c:.0f} ms vs {p95_p:.0f} ms"
    else:
        out["verdict"] = "promote"
        out["reason"] = (
            f"success rate not worse (one-sided z = {z:.2f} >= -{Z_5PCT_ONE_SIDED}) "
            f"and p95 latency not worse ({p95_c:.0f} ms vs {p95_p:.0f} ms)"
        )
    return out
