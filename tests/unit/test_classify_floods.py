"""Candidate floods: a short fragment that a validated pattern finds, repeated
past `CHECK_CAP`, makes that pattern count and the request `high` with the
signal `limit:<pattern>` (fail closed) on both paths, with the same
classification; candidates of several patterns past `REQUEST_CAP` together
do the same with `limit:request`; below the caps the checks decide."""

from __future__ import annotations

import pytest

from router.classify import REFERENCE, Classify, scanner
from router.classify.patterns import BY_NAME, is_capped
from router.wire import ChatMessage, ChatRequest
from tests.conftest import compiled

# Fragments whose every candidate fails its check (or its keyword window).
FLOODS = [
    "BSN 123456788 ", "NHS 943 476 5918 ", "123456788 is my BSN ", "12345678A ",
    "my password is the ", "pw: x ", "sessionid=abc ", "routing 021000022 ",
    "NPI 1234567890 ", "DEA AB1234564 ", "cc4111111111111112 ", "SSN 000000000 ",
]  # fmt: skip
# Fragments of different patterns, each repeated below CHECK_CAP.
MIXED = ["BSN 123456788 ", "NPI 1234567890 ", "DEA AB1234564 ", "12345678A ",
         "pw: x ", "sessionid=abc "]  # fmt: skip


def request(text: str) -> ChatRequest:
    return ChatRequest(model="auto", messages=[ChatMessage(role="user", content=text)])


def limits(signals: tuple[str, ...]) -> list[str]:
    return [s for s in signals if s.startswith("limit:")]


def test_the_caps_bound_sensitive_validated_patterns_only() -> None:
    assert is_capped(BY_NAME["bsn"])
    assert is_capped(BY_NAME["password_phrase"])
    assert not is_capped(BY_NAME["code_noun"])  # a task pattern
    assert not is_capped(BY_NAME["private_key"])  # presence only
    assert not is_capped(BY_NAME["card_grouped"])  # counted in C
    assert scanner.CHECK_CAP < scanner.REQUEST_CAP


def test_patterns_counted_in_c_are_not_capped() -> None:
    bank = pytest.importorskip("router.classify.bank")
    assert bank.COUNTED_IN_C
    assert not any(is_capped(BY_NAME[name]) for name in bank.COUNTED_IN_C)


@pytest.mark.parametrize("fragment", FLOODS)
def test_below_the_cap_the_checks_decide(classifier: Classify, fragment: str) -> None:
    c = classifier(request(fragment * 20))
    assert c.sensitivity != "high"
    assert not limits(c.signals)


@pytest.mark.parametrize("fragment", FLOODS)
def test_a_flood_fails_closed_on_both_paths(fragment: str) -> None:
    text = fragment * (2 * scanner.CHECK_CAP + 10)
    want = REFERENCE.classify(request(text))
    assert want.sensitivity == "high"
    assert limits(want.signals)
    assert "limit:request" not in want.signals
    implementation = compiled()
    if implementation is None:
        pytest.skip("the compiled classifier is not available")
    assert implementation.classify(request(text)) == want


def test_a_flood_of_a_medium_pattern_is_high() -> None:
    text = "a.b@example..com " * (2 * scanner.CHECK_CAP)
    want = REFERENCE.classify(request(text))
    assert want.sensitivity == "high"
    assert "limit:email" in want.signals
    implementation = compiled()
    if implementation is not None:
        assert implementation.classify(request(text)) == want


def test_the_request_cap_bounds_candidates_of_all_patterns() -> None:
    each = scanner.CHECK_CAP - 6
    assert each * len(MIXED) > scanner.REQUEST_CAP
    text = "".join(fragment * each for fragment in MIXED)
    want = REFERENCE.classify(request(text))
    assert want.sensitivity == "high"
    assert "limit:request" in want.signals
    assert len(limits(want.signals)) == 2  # the request and the pattern it ran out in
    implementation = compiled()
    if implementation is not None:
        assert implementation.classify(request(text)) == want


def test_under_the_request_cap_nothing_is_limited(classifier: Classify) -> None:
    text = "".join(fragment * 20 for fragment in MIXED)
    c = classifier(request(text))
    assert not limits(c.signals)
    assert c.sensitivity != "high"
