"""A/B sampling and the promotion verdict."""

from __future__ import annotations

import pytest

from router.ab import percentile, sampled, verdict


def test_sampling_is_deterministic_and_near_rate() -> None:
    ids = [f"req-{i}" for i in range(20000)]
    picked = [i for i in ids if sampled(i, 0.05)]
    assert picked == [i for i in ids if sampled(i, 0.05)]
    assert 0.04 < len(picked) / len(ids) < 0.06
    assert not any(sampled(i, 0.0) for i in ids[:1000])
    assert all(sampled(i, 1.0) for i in ids[:1000])
    # a higher rate samples a superset: raising the rate never drops a sample
    assert set(picked) <= {i for i in ids if sampled(i, 0.2)}


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([float(i) for i in range(1, 101)], 50) == 50.0


def arm(n: int, ok: int, ms: float) -> list[tuple[bool, float]]:
    return [(i < ok, ms + i % 10) for i in range(n)]


def test_insufficient_data() -> None:
    v = verdict("local", "sarmalink", arm(50, 50, 100), arm(50, 50, 50), 200)
    assert v["verdict"] == "insufficient-data"
    assert "50 matched samples of the 200 needed" in v["reason"]
    assert v["candidate_samples"] == 50


def test_promote_when_not_worse() -> None:
    v = verdict("local", "sarmalink", arm(300, 294, 900), arm(300, 295, 400), 200)
    assert v["verdict"] == "promote", v["reason"]
    assert v["candidate_p95_ms"] < v["primary_p95_ms"]
    assert "success rate not worse" in v["reason"]


def test_hold_on_worse_success_rate() -> None:
    v = verdict("local", "sarmalink", arm(300, 297, 900), arm(300, 270, 400), 200)
    assert v["verdict"] == "hold"
    assert v["reason"].startswith("success rate worse")


def test_small_success_difference_is_not_worse() -> None:
    v = verdict("local", "sarmalink", arm(300, 297, 900), arm(300, 295, 400), 200)
    assert v["verdict"] == "promote", v["reason"]


def test_hold_on_worse_p95() -> None:
    v = verdict("local", "sarmalink", arm(300, 300, 400), arm(300, 300, 900), 200)
    assert v["verdict"] == "hold"
    assert v["reason"].startswith("p95 latency worse")


@pytest.mark.parametrize("ok", [0, 300])
def test_degenerate_rates(ok: int) -> None:
    v = verdict("a", "b", arm(300, ok, 100), arm(300, ok, 100), 200)
    assert v["verdict"] == "promote"
