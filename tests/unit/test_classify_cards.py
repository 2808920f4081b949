"""Payment cards: every network's issuer range and length, any separators,
and numbers glued to their keyword, on both classifier paths."""

from __future__ import annotations

import pytest

from router.classify import Classify, validators
from router.wire import ChatMessage, ChatRequest


def with_luhn(prefix: str, length: int) -> str:
    """`prefix` padded with zeros to `length`, its last digit the Luhn one."""
    body = prefix + "0" * (length - len(prefix) - 1)
    return next(body + d for d in "0123456789" if validators.luhn_ok(body + d))


NETWORKS = {
    "visa": ("4", 16), "visa_13": ("4", 13), "mastercard": ("51", 16),
    "mastercard_2_series": ("2221", 16), "amex": ("34", 15), "discover": ("6011", 16),
    "diners": ("36", 14), "jcb": ("3528", 16), "jcb_15": ("1800", 15),
    "jcb_15_2131": ("2131", 15), "maestro": ("6759", 19), "unionpay": ("62", 17),
    "mir": ("2200", 16), "rupay": ("8100", 16), "elo": ("6363", 16),
    "troy": ("9792", 16), "maestro_12": ("6759", 12),
}  # fmt: skip


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_every_network_passes_the_card_check(network: str) -> None:
    prefix, length = NETWORKS[network]
    number = with_luhn(prefix, length)
    assert validators.card_number_ok(number)
    assert not validators.card_number_ok(number[:-1] + str((int(number[-1]) + 1) % 10))


def sensitivity(classifier: Classify, text: str) -> tuple[str, tuple[str, ...]]:
    message = ChatMessage(role="user", content=text)
    got = classifier(ChatRequest(model="auto", messages=[message]))
    return got.sensitivity, got.signals


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_every_network_is_high(classifier: Classify, network: str) -> None:
    number = with_luhn(*NETWORKS[network])
    for text in (f"card {number} exp 12/29", f"{number} is my card"):
        level, signals = sensitivity(classifier, text)
        assert level == "high" and "pii:credit_card" in signals, text


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("cc4111111111111111", "pii:credit_card"),
        ("cc4111 1111 1111 1111", "pii:credit_card"),
        ("card_4111111111111111 please", "pii:credit_card"),
        ("ssn_078-05-1120", "pii:ssn"),
        ("SSN:078051120", "pii:ssn"),
    ],
)
def test_numbers_glued_to_their_keyword(
    classifier: Classify, text: str, signal: str
) -> None:
    level, signals = sensitivity(classifier, text)
    assert level == "high" and signal in signals


@pytest.mark.parametrize(
    "text",
    ["cc4111111111111112", "build 20240301123456789", "id 9111111111111111"],
)
def test_glued_look_alikes_stay_low(classifier: Classify, text: str) -> None:
    assert sensitivity(classifier, text)[0] != "high"
