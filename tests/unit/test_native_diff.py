"""The C kernels agree with their pure-Python twins on every input tried.

Seeded generators plus hypothesis over arbitrary Unicode, in the spirit of
uvloop running every test on both loops. Skipped when the extension was not
built (LLR_NO_EXTENSIONS=1 at build time).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import tokens, validators

native = pytest.importorskip("router.classify._native")

ALPHABETS = [
    "0123456789",
    "0123456789 -",
    "abc XYZ_09,.;:!?()[]{}\n\t  ",
    "def f(x):\n    return x + 1  # ok\n",
    "你好世界こんにちはカタカナ한국어",
    "naïve café Ωμέγα привет 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ٠١٢٣ ²³ ⅷ \u00a0\u2028\u3000",
    "🙂👍🏽\u200d\ufe0f",
]


def random_text(rng: random.Random) -> str:
    alphabet = rng.choice(ALPHABETS) + rng.choice(ALPHABETS)
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))


def test_estimate_tokens_seeded() -> None:
    rng = random.Random(1125)
    for _ in range(5000):
        text = random_text(rng)
        assert native.estimate_tokens(text) == tokens.estimate_tokens(text), repr(text)


@settings(max_examples=1500, deadline=None)
@given(st.text())
def test_estimate_tokens_any_unicode(text: str) -> None:
    assert native.estimate_tokens(text) == tokens.estimate_tokens(text)


def test_luhn_seeded() -> None:
    rng = random.Random(4111)
    for _ in range(20000):
        n = rng.randint(0, 22)
        s = "".join(rng.choice("0123456789") for _ in range(n))
        if rng.random() < 0.1 and s:
            i = rng.randrange(len(s))
            s = s[:i] + rng.choice("a -٣²") + s[i + 1 :]
        assert native.luhn_ok(s) == validators.luhn_ok(s), repr(s)


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4012888888881881",
        "371449635398431",
        "5555555555554444",
        "6011000400000000",
        "3528000700000000",
    ],
)
def test_luhn_known_cards(card: str) -> None:
    assert native.luhn_ok(card) and validators.luhn_ok(card)
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not native.luhn_ok(bad) and not validators.luhn_ok(bad)


def test_type_errors() -> None:
    with pytest.raises(TypeError):
        native.luhn_ok(b"4111111111111111")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.estimate_tokens(None)  # type: ignore[arg-type]
