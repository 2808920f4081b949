"""The circuit breaker: opens on repeated or frequent failures, probes, closes."""

from __future__ import annotations

import random

import pytest

from router.backends.breaker import Breaker, retry_after
from router.policy.model import Circuit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(**kw: object) -> tuple[Breaker, Clock]:
    clock = Clock()
    return Breaker(Circuit(**kw), clock), clock  # type: ignore[arg-type]


def test_consecutive_failures_open_then_a_probe_closes() -> None:
    b, clock = breaker(failures=3, cooldown_s=10)
    for _ in range(2):
        assert b.admit() and b.record(True) == "closed"
    assert b.admit() and b.record(True) == "open"
    assert not b.admit() and b.opens_in() == pytest.approx(10)
    clock.now += 10
    assert b.admit() and b.state == "half_open"
    assert not b.admit()  # one probe at a time: no stampede
    assert b.record(False) == "closed"
    assert b.admit() and b.admit()


def test_a_success_resets_the_run() -> None:
    b, _ = breaker(failures=3, window=100)
    for failed in (True, True, False, True, True, False):
        b.admit()
        assert b.record(failed) == "closed"


def test_failure_rate_over_the_window_opens() -> None:
    b, _ = breaker(failures=100, rate=0.5, window=10)
    states = []
    for failed in [False, True] * 5:
        b.admit()
        states.append(b.record(failed))
    assert states[-1] == "open" and states[:-1] == ["closed"] * 9


def test_failed_probe_reopens_with_a_longer_cooldown() -> None:
    b, clock = breaker(failures=1, cooldown_s=10, max_cooldown_s=25)
    b.admit()
    b.record(True)
    for expected in (20, 25, 25):
        clock.now += 1000
        assert b.admit() and b.record(True) == "open"
        assert b.opens_in() == pytest.approx(expected)
    clock.now += 1000
    assert b.admit() and b.record(False) == "closed"
    b.admit()
    b.record(True)
    assert b.opens_in() == pytest.approx(10)  # the cool-down starts over


def test_retry_after_opens_for_that_long() -> None:
    b, clock = breaker(failures=5)
    b.admit()
    assert b.record(True, retry_after_s=30) == "open"
    clock.now += 29
    assert not b.admit()
    clock.now += 1
    assert b.admit()


def test_released_probe_frees_its_slot() -> None:
    b, clock = breaker(failures=1, probes=2)
    b.admit()
    b.record(True)
    clock.now += 60
    assert b.admit() and b.admit() and not b.admit()
    b.release()
    assert b.admit()


def test_random_outcomes_never_let_more_probes_than_allowed() -> None:
    rng = random.Random(5)
    b, clock = breaker(failures=2, probes=2, cooldown_s=1)
    in_flight = 0
    for _ in range(5000):
        clock.now += rng.choice([0.0, 0.3, 1.5])
        if rng.random() < 0.5 and b.admit():
            in_flight += 1
        if in_flight and rng.random() < 0.6:
            in_flight -= 1
            if rng.random() < 0.1:
                b.release()
            else:
                b.record(rng.random() < 0.5)
        if b.state == "half_open":
            assert b._in_flight <= 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), (" 1.5 ", 1.5), ("0", 0.0), ("99999", 600.0), ("soon", None)],
)
def test_retry_after_header(header: str, seconds: float | None) -> None:
    assert retry_after(header) == seconds
    assert retry_after(None) is None
    assert retry_after("nan") is None and retry_after("-3") is None
