"""ollama_options: keep_alive read as Ollama reads it (api/types.go, Duration),
and a client's options limited by its backend's `clientOptions`."""

from __future__ import annotations

import math
from typing import Any

import pytest

from router.policy.model import RUNNER_OPTIONS, SAMPLING_OPTIONS, ClientOptions
from router.translate.ollama_options import Adjusted, duration_s, limit


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (300, 300.0),
        (1.5, 1.5),
        (0, 0.0),
        (-1, math.inf),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1.5h", 5400.0),
        ("0", 0.0),
        ("-5m", math.inf),
        ("-1", None),  # Go's ParseDuration wants a unit
        ("5", None),
        ("5 m", None),
        ("", None),
        ("m", None),
        (True, None),
        (None, None),
        ([], None),
    ],
)
def test_durations_as_ollama_reads_them(value: Any, seconds: float | None) -> None:
    assert duration_s(value) == seconds


def test_defaults_pass_sampling_and_drop_the_machine() -> None:
    asked = {name: 1 for name in sorted(SAMPLING_OPTIONS | RUNNER_OPTIONS)}
    adjusted = Adjusted()
    kept, alive = limit(asked, "1h", ClientOptions(), adjusted)
    assert set(kept) == SAMPLING_OPTIONS
    assert set(adjusted.dropped) == RUNNER_OPTIONS | {"keep_alive"}
    assert alive is None and adjusted.capped == []


def test_maxima_cap_numbers_and_drop_what_is_not_a_number() -> None:
    limits = ClientOptions(
        allow=frozenset({"temperature"}),
        maximum={"num_ctx": 8192, "top_p": 0.5},
        keep_alive_max_s=600,
    )
    adjusted = Adjusted()
    kept, alive = limit(
        {"num_ctx": 10**9, "top_p": 0.9, "temperature": 2, "seed": 1},
        -1,
        limits,
        adjusted,
    )
    assert kept == {"num_ctx": 8192, "top_p": 0.5, "temperature": 2}
    assert alive == 600
    assert adjusted.capped == ["num_ctx", "top_p", "keep_alive"]
    assert adjusted.dropped == ["seed"]
    assert adjusted.headers() == {
        "x-llr-dropped-options": "seed",
        "x-llr-capped-options": "num_ctx, top_p, keep_alive",
    }
    adjusted = Adjusted()
    kept, alive = limit({"num_ctx": "big", "top_p": True}, "2m", limits, adjusted)
    assert kept == {} and alive == "2m"
    assert adjusted.dropped == ["num_ctx", "top_p"]
    adjusted = Adjusted()
    assert limit({}, "soon", limits, adjusted) == ({}, None)
    assert adjusted.dropped == ["keep_alive"]
