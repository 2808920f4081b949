"""dispatch(): fallback rules, hedging, and the fail-closed pin, with stub adapters."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

import aiohttp
import pytest

from router.backends.base import Body, Call, Reply, UpstreamError
from router.backends.ollama import OllamaAdapter
from router.backends.openai import OpenAIAdapter
from router.backends.pool import BackendPool
from router.classify.types import LEVELS, Classification
from router.decide import Decision, Hop, decide
from router.dispatch import Outcome, dispatch
from router.errors import BackendFailed, BackendTimeout, InvalidRequest, PrivacyPinned
from router.metrics.live import LiveStats
from router.policy.model import Backend, Policy, Privacy, Route


def backend(name: str, local: bool) -> Backend:
    return Backend(
        name=name,
        type="ollama" if local else "openai",
        endpoint="http://127.0.0.1:1",
        local=local,
        model=f"{name}-model",
        api_key_env=None,
    )


BACKENDS = {
    "l1": backend("l1", True),
    "l2": backend("l2", True),
    "c1": backend("c1", False),
    "c2": backend("c2", False),
}


@dataclass
class Stub:
    """An adapter whose outcome is scripted: ok, an error kind, or a delay."""

    backend: Backend
    outcome: str = "ok"
    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    closed: int = 0
    cancelled: int = 0
    remote_models: frozenset[str] = frozenset()
    absent_models: frozenset[str] = frozenset()

    async def open(self, call: Call) -> Reply:
        self.calls.append(call)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.outcome == "ok":
            return Reply(
                status=200,
                content_type="application/json",
                body=self.backend.name.encode(),
                close=self._close,
            )
        if self.outcome == "400":
            return Reply(status=400, content_type="application/json", body=b"{}")
        raise UpstreamError(self.outcome, f"{self.outcome} failure")  # type: ignore[arg-type]

    def _close(self) -> None:
        self.closed += 1


def decision(
    *names: str, pinned: bool = False, budget: float | None = None
) -> Decision:
    return Decision(
        route=0,
        route_name=None,
        reason="r",
        chain=tuple(Hop(backend=n, model=f"{n}-model") for n in names),
        pinned=pinned,
        latency_shifted=False,
        latency_budget_ms=budget,
    )


POLICY = Policy(
    backends=BACKENDS,
    routes=(Route(index=0, name=None, match=None, backend="l1", reason="d"),),
)


def pool_of(stubs: dict[str, Stub], policy: Policy = POLICY) -> BackendPool:
    # A still clock: estimates do not decay between observing and reading.
    return BackendPool(policy, stubs, LiveStats(clock=lambda: 0.0))


async def go(d: Decision, pool: BackendPool, sensitivity: str = "low") -> Outcome:
    return await dispatch(
        d,
        pool,
        api="chat",
        body=Body(b'{"model": "auto"}'),
        stream=False,
        request_id="r1",
        sensitivity=sensitivity,
    )


async def run(d: Decision, stubs: dict[str, Stub]) -> tuple[str, list[str], bool]:
    out = await go(d, pool_of(stubs))
    return out.hop.backend, [a.backend for a in out.failed], out.hedged


def stubs(**outcomes: str) -> dict[str, Stub]:
    return {n: Stub(BACKENDS[n], outcomes.get(n, "ok")) for n in BACKENDS}


async def test_first_hop_serves() -> None:
    s = stubs()
    assert await run(decision("c1", "l1"), s) == ("c1", [], False)
    assert not s["l1"].calls


@pytest.mark.parametrize(
    "kind", ["connect", "timeout", "status", "protocol", "unsupported"]
)
async def test_failure_before_first_byte_falls_back(kind: str) -> None:
    s = stubs(c1=kind)
    assert await run(decision("c1", "l1"), s) == ("l1", ["c1"], False)


async def test_client_error_is_returned_not_retried() -> None:
    s = stubs(c1="400")
    out = await go(decision("c1", "l1"), pool_of(s))
    assert out.reply.status == 400 and not s["l1"].calls


async def test_all_fail_is_502_naming_each() -> None:
    with pytest.raises(BackendFailed, match=r"c1: connect failure; l1: status failure"):
        await run(decision("c1", "l1"), stubs(c1="connect", l1="status"))


async def test_all_timeouts_is_504() -> None:
    with pytest.raises(BackendTimeout):
        await run(decision("c1", "l1"), stubs(c1="timeout", l1="timeout"))


async def test_all_unsupported_is_400() -> None:
    with pytest.raises(InvalidRequest):
        await run(decision("l1"), stubs(l1="unsupported"))


async def test_pinned_all_local_fail_is_503() -> None:
    with pytest.raises(PrivacyPinned, match="kept on this machine"):
        await run(decision("l1", "l2", pinned=True), stubs(l1="connect", l2="timeout"))


async def test_pinned_decision_with_cloud_hop_is_refused_at_dispatch() -> None:
    # A decide() bug that left a cloud hop in a pinned chain must not leak.
    s = stubs(l1="connect")
    with pytest.raises(PrivacyPinned):
        await run(decision("c1", "l1", pinned=True), s)
    assert not s["c1"].calls


async def test_pinned_decision_with_cloud_model_is_refused_at_dispatch() -> None:
    s = stubs()
    d = Decision(
        route=0,
        route_name=None,
        reason="r",
        chain=(
            Hop(backend="l1", model="gpt-oss:20b-cloud"),
            Hop(backend="l2", model="m"),
        ),
        pinned=True,
        latency_shifted=False,
    )
    assert await run(d, s) == ("l2", ["l1"], False)
    assert not s["l1"].calls and s["l2"].calls[0].pinned


async def test_pinned_calls_are_refused_by_the_adapter_itself() -> None:
    """The last line: an HTTP adapter refuses a pinned call for a non-local
    backend or a cloud model before it opens any connection."""
    async with aiohttp.ClientSession() as session:
        cloud = OpenAIAdapter(BACKENDS["c1"], session, "k")
        local = OllamaAdapter(BACKENDS["l1"], session, None)
        for adapter, model in ((cloud, "c1-model"), (local, "llama3:cloud")):
            call = Call(
                api="chat",
                body=Body(
                    b'{"model": "auto", "messages": [{"role": "user", "content": "x"}]}'
                ),
                stream=False,
                model=model,
                request_id="r",
                pinned=True,
            )
            with pytest.raises(UpstreamError) as info:
                await adapter.open(call)
            assert info.value.kind == "pinned"


async def test_hedge_after_budget_first_answer_wins_loser_cancelled() -> None:
    s = stubs()
    s["l1"].delay = 5.0
    assert await run(decision("l1", "c1", budget=20), s) == ("c1", [], True)
    assert s["l1"].cancelled == 1


async def test_no_hedge_when_primary_answers_in_budget() -> None:
    s = stubs()
    s["l1"].delay = 0.0
    s["c1"].delay = 0.0
    assert await run(decision("l1", "c1", budget=500), s) == ("l1", [], False)
    assert not s["c1"].calls


async def test_hedged_pair_both_failing_moves_on() -> None:
    s = stubs(l1="status", c1="connect")
    s["l1"].delay = 0.05
    assert await run(decision("l1", "c1", "l2", budget=10), s) == (
        "l2",
        ["c1", "l1"],
        True,
    )


async def test_hedge_never_crosses_the_pin() -> None:
    s = stubs()
    s["l1"].delay = 0.05
    assert await run(decision("l1", "c1", pinned=True, budget=10), s) == (
        "l1",
        ["c1"],
        False,
    )
    assert not s["c1"].calls


async def test_cancellation_cancels_upstream() -> None:
    s = stubs()
    s["l1"].delay = 10
    task = asyncio.ensure_future(run(decision("l1", "c1"), s))
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert s["l1"].cancelled == 1 and not s["c1"].calls


async def test_random_policies_and_faults_never_leak() -> None:
    rng = random.Random(4)
    names = list(BACKENDS)
    outcomes = ["ok", "connect", "timeout", "status", "protocol", "400"]
    for _ in range(300):
        chain = rng.sample(names, rng.randint(1, 4))
        budget = rng.choice([None, 1.0])
        policy = Policy(
            backends=BACKENDS,
            routes=(
                Route(
                    index=0,
                    name=None,
                    match=None,
                    backend=chain[0],
                    fallbacks=tuple(chain[1:]),
                    latency_budget_ms=budget,
                    reason="d",
                ),
            ),
            privacy=Privacy(pin=rng.choice(LEVELS)),
        )
        c = Classification(
            task="general",
            complexity="low",
            sensitivity=rng.choice(LEVELS),
            modality="text",
            family="llama",
            tokens=5,
        )
        d = decide(c, policy)
        s = {
            n: Stub(BACKENDS[n], rng.choice(outcomes), delay=rng.choice([0, 0.002]))
            for n in names
        }
        with contextlib.suppress(BackendFailed, BackendTimeout, PrivacyPinned):
            await go(d, pool_of(s, policy), c.sensitivity)
        if d.pinned:
            assert not s["c1"].calls and not s["c2"].calls


async def test_each_attempt_teaches_its_own_backend() -> None:
    """A rescued request does not make the rescuer look slow: each backend
    learns its own time, and a failure counts as a timeout against it."""
    s = stubs(l1="status")
    s["l1"].delay = 0.03
    pool = pool_of(s)
    out = await go(decision("l1", "l2"), pool)
    failed, served = out.attempts
    assert (failed.backend, failed.kind, served.backend, served.kind) == (
        "l1",
        "status",
        "l2",
        None,
    )
    assert served.start >= failed.end
    assert pool.live.expected_ms(BACKENDS["l2"]) == served.elapsed_ms
    assert pool.live.expected_ms(BACKENDS["l1"]) == BACKENDS["l1"].timeout_ms


async def test_hedge_winner_is_timed_from_its_own_start() -> None:
    s = stubs()
    s["l1"].delay = 5.0
    pool = pool_of(s)
    out = await go(decision("l1", "c1", budget=20), pool)
    assert out.hop.backend == "c1" and out.hedged
    (winner,) = [a for a in out.attempts if a.ok]
    (loser,) = [a for a in out.attempts if a.cancelled]
    assert loser.backend == "l1" and winner.start - loser.start >= 0.02
    assert pool.live.expected_ms(BACKENDS["c1"]) == winner.elapsed_ms
    assert pool.live.samples("l1") == 0  # cancelled: no time learned


async def test_unhedged_dispatch_starts_no_task() -> None:
    s = stubs(l1="connect")
    tasks_before = len(asyncio.all_tasks())
    seen: list[int] = []

    async def counting(call: Call) -> Reply:
        seen.append(len(asyncio.all_tasks()))
        return Reply(status=200, content_type="application/json", body=b"ok")

    s["l2"].open = counting  # type: ignore[method-assign]
    out = await go(decision("l1", "l2"), pool_of(s))
    assert out.hop.backend == "l2" and seen == [tasks_before]


class StillClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker_pool(s: dict[str, Stub], clock: StillClock) -> BackendPool:
    return BackendPool(POLICY, s, LiveStats(clock=lambda: 0.0), clock=clock)


async def test_open_circuit_is_skipped_like_a_failure_then_probed() -> None:
    clock = StillClock()
    s = stubs(l1="status")
    pool = breaker_pool(s, clock)
    for _ in range(5):  # the default: 5 consecutive failures open it
        assert (await go(decision("l1", "c1"), pool)).hop.backend == "c1"
    assert len(s["l1"].calls) == 5 and pool.open_circuits() == {"l1": "open"}
    out = await go(decision("l1", "c1"), pool)
    assert out.hop.backend == "c1" and len(s["l1"].calls) == 5
    assert [a.kind for a in out.attempts] == ["circuit_open", None]
    s["l1"].outcome = "ok"
    clock.now += 10  # the cool-down
    out = await go(decision("l1", "c1"), pool)
    assert out.hop.backend == "l1" and pool.open_circuits() == {}


async def test_open_local_circuit_makes_a_pinned_request_503_never_cloud() -> None:
    clock = StillClock()
    s = stubs(l1="connect")
    pool = breaker_pool(s, clock)
    for _ in range(5):
        with pytest.raises(PrivacyPinned):
            await go(decision("l1", pinned=True), pool)
    with pytest.raises(PrivacyPinned, match="circuit open"):
        await go(decision("l1", "c1", pinned=True), pool)
    assert len(s["l1"].calls) == 5 and not s["c1"].calls


async def test_cancelled_probe_releases_its_slot() -> None:
    clock = StillClock()
    s = stubs(l1="status")
    pool = breaker_pool(s, clock)
    for _ in range(5):
        await go(decision("l1", "c1"), pool)
    clock.now += 10
    s["l1"].outcome, s["l1"].delay = "ok", 10.0
    task = asyncio.ensure_future(go(decision("l1"), pool))
    await asyncio.sleep(0.02)
    assert pool.open_circuits() == {"l1": "half_open"}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    s["l1"].delay = 0.0
    assert (await go(decision("l1"), pool)).hop.backend == "l1"
    assert pool.open_circuits() == {}
