"""Record stage (in memory): live latency estimates per backend, read by decide.

Observations in, `expected_ms(backend)` out. Each backend keeps an
exponentially weighted mean of observed latencies. The estimate recovers by
itself: as the last observation ages, its weight decays (half-life
`stale_half_life_s`) and the estimate slides back to the backend's `p50Ms`
hint. A backend shifted away from by a latency budget therefore gets traffic
again once its bad estimate has gone stale, and is re-measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from router.policy.model import Backend


class _Estimate:
    __slots__ = ("last", "mean", "samples")

    def __init__(self, value: float, now: float) -> None:
        self.mean = value
        self.last = now
        self.samples = 1


class LiveStats:
    """Implements `router.decide.LiveView` from observed latencies."""

    def __init__(
        self,
        *,
        alpha: float = 0.2,
        stale_half_life_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        if stale_half_life_s <= 0:
            raise ValueError("stale_half_life_s must be positive")
        self._alpha = alpha
        self._half_life = stale_half_life_s
        self._clock = clock
        self._by_backend: dict[str, _Estimate] = {}

    def warm(
        self,
        samples: dict[str, list[tuple[float, float]]],
        *,
        wall_now: float | None = None,
    ) -> int:
        """Replay (unix ts, latency ms) samples from the store, oldest first, so
        a restart keeps what recent traffic taught; their age still decays."""
        wall = time.time() if wall_now is None else wall_now
        now = self._clock()
        count = 0
        for backend, rows in samples.items():
            for ts, ms in rows:
                self.observe(backend, ms, at=now - max(0.0, wall - ts))
                count += 1
        return count

    def observe(
        self, backend: str, latency_ms: float, *, at: float | None = None
    ) -> None:
        now = self._clock() if at is None else at
        est = self._by_backend.get(backend)
        if est is None:
            self._by_backend[backend] = _Estimate(latency_ms, now)
            return
        est.mean += self._alpha * (latency_ms - est.mean)
        est.last = now
        est.samples += 1

    def samples(self, backend: str) -> int:
        est = self._by_backend.get(backend)
        return 0 if est is None else est.samples

    def expected_ms(self, backend: Backend) -> float:
        est = self._by_backend.get(backend.name)
        if est is None:
            return backend.p50_ms
        age = max(0.0, self._clock() - est.last)
        weight: float = 0.5 ** (age / self._half_life)
        return weight * est.mean + (1.0 - weight) * backend.p50_ms
