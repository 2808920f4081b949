"""Dispatch stage: walk a Decision's chain until a backend produces a first byte.

In: a Decision, the backend pool, the client's body. Out: an `Outcome`, the
reply that won and every `Attempt` made on the way (backend, model, start,
end, status, error kind), each fed to the pool as it ends, so live estimates
learn per attempt and never from another backend's time.

The only place that falls back. A connect error, timeout, redirect, 5xx, 408
or 429 before the first byte moves on down the chain, as does a model that
cannot take the request (Ollama: not pulled, a capability it lacks, a prompt
past its context); any other 4xx is the answer. When the route's latency
budget runs out before the primary's first byte, the next hop is started too
and the first to answer wins (the other is cancelled); with no budget, or on
the last hop, a hop is awaited directly.
The privacy pin is enforced here again: a pinned request is only ever handed
to a local backend's adapter for a model that is not an Ollama cloud model,
whatever the chain says, and the adapter checks once more.
"""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from router.backends.base import Api, Body, Call, Reply, UpstreamError
from router.backends.pool import Attempt, BackendPool
from router.decide import Decision, Hop
from router.errors import BackendFailed, BackendTimeout, InvalidRequest, PrivacyPinned
from router.policy.locality import is_cloud_model

log = logging.getLogger("router.dispatch")


class Outcome(msgspec.Struct, kw_only=True):
    reply: Reply
    hop: Hop
    attempts: list[Attempt] = msgspec.field(default_factory=list)
    hedged: bool = False

    @property
    def failed(self) -> list[Attempt]:
        """The attempts that did not serve, in the order they ended."""
        return [a for a in self.attempts if a.kind is not None]


def _skipped(hop: Hop, kind: str, message: str) -> Attempt:
    now = time.perf_counter()
    return Attempt(hop.backend, hop.model, now, now, kind, message)  # type: ignore[arg-type]


def eligible(d: Decision, pool: BackendPool) -> tuple[list[Hop], list[Attempt]]:
    """The hops that may be tried, and why the others may not."""
    hops: list[Hop] = []
    skipped: list[Attempt] = []
    for name, why in d.unavailable:
        skipped.append(_skipped(Hop(backend=name, model=""), "disabled", why))
    for hop in d.chain:
        backend = pool.policy.backends[hop.backend]
        if d.pinned and (not backend.local or is_cloud_model(hop.model)):
            # decide() never puts one here; refusing again is the fail-closed
            # guarantee against a bug upstream of this function.
            log.error("privacy pin: refused to send to %s (%s)", hop.backend, hop.model)
            skipped.append(_skipped(hop, "pinned", "not local; withheld"))
            continue
        if not pool.usable(hop.backend):
            why = pool.disabled.get(hop.backend, "no adapter")
            skipped.append(_skipped(hop, "disabled", why))
            continue
        hops.append(hop)
    return hops, skipped


class _Run:
    """One dispatch: starts attempts, times them, feeds the pool."""

    __slots__ = ("attempts", "call", "pool")

    def __init__(self, pool: BackendPool, call: Call, attempts: list[Attempt]):
        self.pool = pool
        self.call = call
        self.attempts = attempts

    def _call(self, hop: Hop) -> Call:
        return msgspec.structs.replace(self.call, model=hop.model)

    def _ended(
        self, hop: Hop, start: float, exc: UpstreamError | None, cancelled: bool
    ) -> None:
        a = Attempt(hop.backend, hop.model, start, time.perf_counter())
        if exc is not None:
            a.kind, a.message, a.status = exc.kind, exc.message, exc.status
            a.retry_after_s, a.param = exc.retry_after_s, exc.param
        a.cancelled = cancelled
        self.attempts.append(a)
        self.pool.observe(a)

    async def one(self, hop: Hop) -> Reply | None:
        """Try `hop` alone: its reply, or None when it failed (or its circuit
        is open, which moves on exactly as a failure does)."""
        start = time.perf_counter()
        if not self.pool.admit(hop.backend):
            wait = self.pool.breakers[hop.backend].opens_in()
            message = f"circuit open after repeated failures; next try in {wait:.1f}s"
            self.attempts.append(
                Attempt(hop.backend, hop.model, start, start, "circuit_open", message)
            )
            return None
        try:
            reply = await self.pool.adapters[hop.backend].open(self._call(hop))
        except UpstreamError as exc:
            self._ended(hop, start, exc, False)
            return None
        except asyncio.CancelledError:
            self._ended(hop, start, None, True)
            raise
        self._ended(hop, start, None, False)
        return reply

    async def race(
        self, first: Hop, second: Hop, budget_s: float
    ) -> tuple[tuple[Reply, Hop] | None, bool]:
        """`first`, hedged by `second` once `budget_s` passes with no first
        byte: the winner (None when what ran failed), and whether `second`
        was started (when not, the caller goes on with `second`)."""
        tasks = {asyncio.ensure_future(self.one(first)): first}
        try:
            done, _ = await asyncio.wait(set(tasks), timeout=budget_s)
            if done:
                reply = next(iter(done)).result()
                return ((reply, first) if reply is not None else None), False
            tasks[asyncio.ensure_future(self.one(second))] = second
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(
                    pending, return_when=asyncio.FIRST_COMPLETED
                )
                won = None
                for t in done:
                    reply = t.result()
                    if reply is None:
                        continue
                    if won is None:
                        won = (reply, tasks[t])
                    else:
                        reply.close()
                if won is not None:
                    return won, True
            return None, True
        finally:
            await _settle([t for t in tasks if not t.done()])


async def _settle(tasks: list[asyncio.Task[Reply | None]]) -> None:
    """Cancel tasks that lost a race and release any reply they produced."""
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            reply = await t
        except asyncio.CancelledError:
            continue
        except Exception:  # a loser's failure must not fail the winner
            log.exception("hedged request failed while cancelled")
            continue
        if reply is not None:
            reply.close()


async def dispatch(
    d: Decision,
    pool: BackendPool,
    *,
    api: Api,
    body: Body,
    stream: bool,
    request_id: str,
    sensitivity: str,
    attempts: list[Attempt] | None = None,
) -> Outcome:
    """Walk `d`'s chain. Every attempt is appended to `attempts` (a new list
    unless given: a caller that must see them after a failure passes one)."""
    hops, skipped = eligible(d, pool)
    if attempts is None:
        attempts = skipped
    else:
        attempts.extend(skipped)
    base = Call(
        api=api,
        body=body,
        stream=stream,
        model="",
        request_id=request_id,
        pinned=d.pinned,
    )
    run = _Run(pool, base, attempts)
    budget = d.latency_budget_ms
    hedged = False
    i = 0
    while i < len(hops):
        hop = hops[i]
        if budget is None or i + 1 == len(hops):
            reply = await run.one(hop)
            won = (reply, hop) if reply is not None else None
            i += 1
        else:
            won, second = await run.race(hop, hops[i + 1], budget / 1000)
            hedged = hedged or second
            i += 2 if second else 1
        if won is not None:
            return Outcome(reply=won[0], hop=won[1], attempts=attempts, hedged=hedged)
    raise _all_failed(d, [a for a in attempts if a.kind is not None], sensitivity)


def _all_failed(d: Decision, failed: list[Attempt], sensitivity: str) -> Exception:
    summary = "; ".join(f"{a.backend}: {a.message}" for a in failed) or "no backend"
    tried = [a for a in failed if a.kind not in ("disabled", "pinned")]
    if tried and all(a.kind in ("unsupported", "model") for a in tried):
        # About the request, not the backends: a 400 even when pinned (a 503
        # would be retried by SDKs, in vain).
        param = next((a.param for a in tried if a.param), None)
        return InvalidRequest(
            f"No backend can serve this request: {summary}.", param=param
        )
    if d.pinned:
        return PrivacyPinned(
            f"This request was kept on this machine (sensitivity {sensitivity}) and "
            f"no local backend could answer it: {summary}."
        )
    if failed and all(a.kind == "timeout" for a in failed):
        return BackendTimeout(f"Every backend timed out: {summary}.")
    return BackendFailed(f"Every backend failed: {summary}.")
