"""Candidate floods: a short fragment that a validated pattern finds, repeated
far past `CHECK_CAP`, makes that pattern count (fail closed) on both paths,
with the same classification; below the cap the checks decide."""

from __future__ import annotations

import pytest

from router.classify import REFERENCE, Classify, _reference
from router.classify.patterns import BY_NAME
from router.wire import ChatMessage, ChatRequest
from tests.conftest import compiled

# Fragments whose every candidate fails its check (or its keyword window).
FLOODS = [
    "BSN 123456788 ", "NHS 943 476 5918 ", "123456788 is my BSN ", "12345678A ",
    "my password is the ", "pw: x ", "sessionid=abc ", "routing 021000022 ",
    "NPI 1234567890 ", "DEA AB1234564 ", "cc4111111111111112 ", "SSN 000000000 ",
]  # fmt: skip


def request(text: str) -> ChatRequest:
    return ChatRequest(model="auto", messages=[ChatMessage(role="user", content=text)])


def test_the_cap_bounds_sensitive_validated_patterns_only() -> None:
    assert _reference.is_capped(BY_NAME["bsn"])
    assert _reference.is_capped(BY_NAME["password_phrase"])
    assert not _reference.is_capped(BY_NAME["code_noun"])  # a task pattern
    assert not _reference.is_capped(BY_NAME["private_key"])  # presence only


def test_patterns_counted_in_c_are_not_capped() -> None:
    bank = pytest.importorskip("router.classify.bank")
    assert not any(_reference.is_capped(BY_NAME[name]) for name in bank.COUNTED_IN_C)


@pytest.mark.parametrize("fragment", FLOODS)
def test_below_the_cap_the_checks_decide(classifier: Classify, fragment: str) -> None:
    text = fragment * 20
    assert classifier(request(text)).sensitivity != "high"


@pytest.mark.parametrize("fragment", FLOODS)
def test_a_flood_fails_closed_on_both_paths(fragment: str) -> None:
    text = fragment * (2 * _reference.CHECK_CAP + 10)
    want = REFERENCE.classify(request(text))
    assert want.sensitivity == "high"
    implementation = compiled()
    if implementation is None:
        pytest.skip("the compiled classifier is not available")
    assert implementation.classify(request(text)) == want
