"""Dispatch stage: walk a Decision's chain until a backend produces a first byte.

The only place that falls back. A connect error, timeout, 5xx, 408 or 429
before the first byte moves on down the chain; any other 4xx is the answer.
When the route's latency budget runs out before the primary's first byte,
the next hop is started too and the first to answer wins (the other is
cancelled). The privacy pin is enforced here again: a pinned request is only
ever handed to a local backend's adapter for a model that is not an Ollama
cloud model, whatever the chain says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from router.backends.base import (
    Adapter,
    Api,
    Call,
    Reply,
    UpstreamError,
    disabled_reason,
)
from router.decide import Decision, Hop
from router.errors import BackendFailed, BackendTimeout, InvalidRequest, PrivacyPinned
from router.policy.locality import is_cloud_model
from router.policy.model import Policy

log = logging.getLogger("router.dispatch")


@dataclass(slots=True)
class Attempt:
    backend: str
    kind: str
    message: str


@dataclass(slots=True)
class Outcome:
    reply: Reply
    hop: Hop
    failed: list[Attempt] = field(default_factory=list)
    hedged: bool = False


def eligible(
    d: Decision, policy: Policy, adapters: Mapping[str, Adapter]
) -> tuple[list[Hop], list[Attempt]]:
    """The hops that may be tried, and why the others may not."""
    hops: list[Hop] = []
    skipped: list[Attempt] = []
    for hop in d.chain:
        backend = policy.backends[hop.backend]
        if d.pinned and (not backend.local or is_cloud_model(hop.model)):
            # decide() never puts one here; refusing again is the fail-closed
            # guarantee against a bug upstream of this function (the adapter
            # refuses a third time, and asks Ollama whether the model is remote).
            log.error("privacy pin: refused to send to %s (%s)", hop.backend, hop.model)
            skipped.append(Attempt(hop.backend, "pinned", "not local; withheld"))
            continue
        why = disabled_reason(backend)
        if why is not None or hop.backend not in adapters:
            skipped.append(Attempt(hop.backend, "disabled", why or "no adapter"))
            continue
        hops.append(hop)
    return hops, skipped


async def _settle(tasks: set[asyncio.Task[Reply]]) -> None:
    """Cancel tasks that lost a race and release any reply they produced."""
    for t in tasks:
        t.cancel()
    for t in tasks:
        try:
            reply = await t
        except (asyncio.CancelledError, UpstreamError):
            continue
        except Exception:  # a loser's failure must not fail the winner
            log.exception("hedged request failed while cancelled")
            continue
        reply.close()


async def _race(
    tasks: dict[asyncio.Task[Reply], Hop], failed: list[Attempt]
) -> tuple[Reply, Hop] | None:
    """The first task to succeed; failures are appended to `failed`."""
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending, return_when=asyncio.FIRST_COMPLETED
            )
            winner: tuple[Reply, Hop] | None = None
            for t in done:
                try:
                    reply = t.result()
                except UpstreamError as exc:
                    failed.append(Attempt(tasks[t].backend, exc.kind, exc.message))
                    continue
                if winner is None:
                    winner = (reply, tasks[t])
                else:
                    reply.close()
            if winner is not None:
                return winner
        return None
    finally:
        await _settle(pending)


async def dispatch(
    d: Decision,
    policy: Policy,
    adapters: Mapping[str, Adapter],
    *,
    api: Api,
    body: dict[str, object],
    stream: bool,
    request_id: str,
    sensitivity: str,
) -> Outcome:
    hops, failed = eligible(d, policy, adapters)
    for entry in d.unavailable:
        name, _, why = entry.partition(": ")
        failed.insert(0, Attempt(name, "disabled", why))

    def start(hop: Hop) -> asyncio.Task[Reply]:
        call = Call(
            api=api,
            body=body,
            stream=stream,
            model=hop.model,
            request_id=request_id,
            pinned=d.pinned,
        )
        return asyncio.ensure_future(adapters[hop.backend].open(call))

    budget = d.latency_budget_ms
    hedged = False
    i = 0
    while i < len(hops):
        first = start(hops[i])
        tasks = {first: hops[i]}
        if budget is not None and i + 1 < len(hops):
            done, _ = await _wait_quietly(first, budget / 1000)
            if not done:
                tasks[start(hops[i + 1])] = hops[i + 1]
                hedged = True
        won = await _race(tasks, failed)
        if won is not None:
            reply, hop = won
            return Outcome(reply=reply, hop=hop, failed=failed, hedged=hedged)
        i += len(tasks)
    raise _all_failed(d, failed, sensitivity)


async def _wait_quietly(
    task: asyncio.Task[Reply], timeout: float
) -> tuple[set[asyncio.Task[Reply]], set[asyncio.Task[Reply]]]:
    try:
        return await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        raise


def _all_failed(d: Decision, failed: list[Attempt], sensitivity: str) -> Exception:
    summary = "; ".join(f"{a.backend}: {a.message}" for a in failed) or "no backend"
    if d.pinned:
        return PrivacyPinned(
            f"This request was kept on this machine (sensitivity {sensitivity}) and "
            f"no local backend could answer it: {summary}."
        )
    if failed and all(a.kind == "unsupported" for a in failed):
        return InvalidRequest(f"No backend can serve this request: {summary}.")
    if failed and all(a.kind == "timeout" for a in failed):
        return BackendTimeout(f"Every backend timed out: {summary}.")
    return BackendFailed(f"Every backend failed: {summary}.")
