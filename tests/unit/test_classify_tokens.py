"""The token estimator: the documented algorithm, case by case."""

from __future__ import annotations

import pytest

from router.classify import tokens
from router.classify.kernels import Kernels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        (" ", 1),  # a lone space still counts as one token (the minimum)
        ("hello", 1),  # WORD 110 -> (110 + 50) // 100
        ("hello world", 2),  # 110 + 0 (single space) + 110
        ("internationalization", 4),  # 110 + 30 * (20 - 9) = 440
        ("1234567", 3),  # DIGIT ceil(7 / 3) groups
        ("What is 15 * 23?", 8),  # a space before digits is its own token
        ("日本の首都は東京です", 7),  # CJK 70 each
        ("(x)", 2),  # "(" folds into the word: 0 + 110 + 85
        ("...", 3),  # PUNCT 85 each -> 255
        ("a\n\n\nb", 3),  # SPACE run of 3 -> 100
        ("café", 1),  # one WORD, 3 ASCII + 1 non-ASCII letter: 120
        ("🙂🙂", 3),  # SYMBOL 125 each -> 250
        ("Привет", 2),  # 110 + 6 * 10
    ],
)
def test_documented_examples(text: str, expected: int, kernels: Kernels) -> None:
    assert kernels.estimate_tokens(text) == expected


def test_char_classes_follow_the_documented_order() -> None:
    assert tokens.char_class(" ") == tokens.SPACE
    assert tokens.char_class("\u3000") == tokens.SPACE  # ideographic space
    assert tokens.char_class("7") == tokens.DIGIT
    assert tokens.char_class("٣") == tokens.DIGIT  # Arabic-Indic digit
    assert tokens.char_class("中") == tokens.CJK
    assert tokens.char_class("カ") == tokens.CJK
    assert tokens.char_class("한") == tokens.CJK
    assert tokens.char_class("a") == tokens.WORD
    assert tokens.char_class("é") == tokens.WORD
    assert tokens.char_class("_") == tokens.PUNCT
    assert tokens.char_class("€") == tokens.SYMBOL


def test_cjk_table_is_sorted_and_disjoint() -> None:
    bounds = [b for r in tokens.CJK_RANGES for b in r]
    assert bounds == sorted(bounds)
    assert all(lo <= hi for lo, hi in tokens.CJK_RANGES)
    assert tokens.is_cjk(0x4E00) and tokens.is_cjk(0x9FFF)
    assert not tokens.is_cjk(0x4DC0) and not tokens.is_cjk(0x10FFFF)


def test_concatenation_is_roughly_additive(kernels: Kernels) -> None:
    a = "The quick brown fox jumps over the lazy dog. " * 20
    b = "def f(x):\n    return x + 1\n" * 20
    whole = kernels.estimate_tokens(a + b)
    parts = kernels.estimate_tokens(a) + kernels.estimate_tokens(b)
    assert abs(whole - parts) <= 2


def test_long_inputs_are_integers(kernels: Kernels) -> None:
    text = "word 123 中文 !? " * 10_000
    n = kernels.estimate_tokens(text)
    assert isinstance(n, int) and n > 0
    assert n == tokens.estimate_tokens(text)
