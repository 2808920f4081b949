"""bench/bench_bank.py splits the bank by reading `re`'s parse tree: the
fewest digits a match holds and the longest literal run it must hold."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bank_bench() -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_bank", ROOT / "bench" / "bench_bank.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module


def tree(regex: str) -> Any:
    parser: Any = __import__("re._parser", fromlist=["parse"])
    return parser.parse(regex, re.ASCII | re.MULTILINE)


@pytest.mark.parametrize(
    ("regex", "digits"),
    [
        (r"\b[0-9]{13,19}\b", 13),
        (r"\b[0-9]{3}(?:-[0-9]{2}-| [0-9]{2} )[0-9]{4}\b", 9),
        (r"[0-9A-F]{4}", 0),
        (r"abc|1", 0),
        (r"x\d{2}", 2),
        (r"7(?:1|22)", 2),
        (r"(?i:dob)[ ]{0,3}[0-9]{1,2}?", 1),
        (r"(?i:dob)[ ]{0,3}[0-9]{0,2}", 0),
    ],
)
def test_min_digits(bank_bench: ModuleType, regex: str, digits: int) -> None:
    assert bank_bench.min_digits(tree(regex)) == digits


@pytest.mark.parametrize(
    ("regex", "run"),
    [
        (r"\bghp_[A-Za-z0-9]{30}", 4),
        (r"\b[0-9]{9}\b", 0),
        (r"x(?:abc)y", 5),
        (r"x(abc)y", 3),
        (r"(?:ab|cd)e", 1),
        (r"a{3}", 0),
    ],
)
def test_longest_literal(bank_bench: ModuleType, regex: str, run: int) -> None:
    assert bank_bench.longest_literal(tree(regex)) == run


def test_parts_cover_the_bank_once(bank_bench: ModuleType) -> None:
    from router.classify.patterns import BANK

    parts = bank_bench.parts()
    whole = parts.pop("whole bank")
    assert sorted(i for ids in parts.values() for i in ids) == whole
    assert whole == [i for i, p in enumerate(BANK) if p.group != "tool"]
    digit_led = {BANK[i].name for i in parts["digit-led"]}
    assert {"card_compact", "ssn_separated", "iban_compact"} <= digit_led
    assert "github_token" not in digit_led
