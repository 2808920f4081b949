"""Dispatch stage, circuit breaker: one per backend, fed by every attempt.

Attempt outcomes in; whether the backend may be tried now out. Closed, a
backend takes every request. After `failures` consecutive health failures
(connect, timeout, 5xx, redirect, bad protocol), or when at least
`rate` of the last `window` attempts failed (with `window` seen), it opens
for a cool-down: dispatch skips it as if it had failed, so the chain moves
on and the privacy pin still decides what is eligible. Then half-open: at
most `probes` requests at a time are let through; one success closes it,
one failure opens it again with the cool-down doubled (up to `max_cooldown_s`).
A 429 or 503 whose `Retry-After` names a time opens it for that long.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Final, Literal

from router.policy.model import Circuit

State = Literal["closed", "open", "half_open"]
STATE_VALUE: Final = {"closed": 0, "open": 1, "half_open": 2}
RETRY_AFTER_MAX_S: Final = 600.0


class Breaker:
    __slots__ = (
        "_clock",
        "_cooldown",
        "_in_flight",
        "_recent",
        "_run",
        "_until",
        "config",
        "state",
    )

    def __init__(
        self, config: Circuit, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.state: State = "closed"
        self._clock = clock
        self._run = 0  # consecutive failures
        self._recent: deque[bool] = deque(maxlen=config.window)  # True = failed
        self._until = 0.0
        self._cooldown = config.cooldown_s
        self._in_flight = 0  # half-open probes under way

    def admit(self) -> bool:
        """Whether a request may be sent now; a half-open admission holds a
        probe slot until `record` or `release` is called for it."""
        if self.state == "closed":
            return True
        if self.state == "open":
            if self._clock() < self._until:
                return False
            self.state = "half_open"
            self._in_flight = 0
        if self._in_flight >= self.config.probes:
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        """An admitted request that ended without telling (cancelled)."""
        if self.state == "half_open" and self._in_flight > 0:
            self._in_flight -= 1

    def record(self, failed: bool, retry_after_s: float | None = None) -> State:
        """Learn from one admitted attempt; the state after it."""
        if self.state == "half_open":
            self._in_flight = max(0, self._in_flight - 1)
            if failed:
                self._cooldown = min(self._cooldown * 2, self.config.max_cooldown_s)
                self._open(retry_after_s)
            else:
                self._close()
            return self.state
        self._recent.append(failed)
        if not failed:
            self._run = 0
            return self.state
        self._run += 1
        c = self.config
        rate_tripped = (
            len(self._recent) == c.window and sum(self._recent) >= c.rate * c.window
        )
        if retry_after_s is not None or self._run >= c.failures or rate_tripped:
            self._open(retry_after_s)
        return self.state

    def _open(self, retry_after_s: float | None) -> None:
        self.state = "open"
        wait = self._cooldown if retry_after_s is None else retry_after_s
        self._until = self._clock() + wait

    def _close(self) -> None:
        self.state = "closed"
        self._run = 0
        self._recent.clear()
        self._cooldown = self.config.cooldown_s

    def opens_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 otherwise)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self._until - self._clock())


def retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header of delay-seconds (an HTTP date is
    not followed: backends send seconds), capped; None when absent or bad."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not seconds >= 0:  # also NaN
        return None
    return min(seconds, RETRY_AFTER_MAX_S)
