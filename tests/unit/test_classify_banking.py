"""Bank details: IBANs in any case and grouping, US routing numbers (ABA
checksum) and account numbers beside their words, UK sort code + account,
on both classifier paths; look-alikes stay below `high`."""

from __future__ import annotations

import pytest

from router.classify import Classify, ids
from tests.conftest import classified


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("send it to de89 3704 0044 0532 0130 00 today", "pii:iban"),
        ("IBAN: gb29nwbk60161331926819", "pii:iban"),
        ("FR76 30006 00001 12345678901 89", "pii:iban"),
        ("NL91-ABNA-0417-1643-00", "pii:iban"),
        ("routing 021000021, account number 123456789", "pii:bank_routing"),
        ("021000021 is the routing number", "pii:bank_routing"),
        ("ABA: 3222-7162-7", "pii:bank_routing"),
        ("checking account 000123456789", "pii:bank_account"),
        ("sort code 12-34-56", "pii:bank_account"),
        ("pay 12-34-56 41234567 by Friday", "pii:bank_account"),
        ("sort code 12-34-56, account no. 41234567", "pii:bank_account"),
    ],
)
def test_bank_details_are_high(classifier: Classify, text: str, signal: str) -> None:
    level, signals = classified(classifier, text)
    assert level == "high" and signal in signals, signals


@pytest.mark.parametrize(
    "text",
    [
        "de89 3704 0044 0532 0130 01",  # mod-97 fails
        "routing 021000022",  # ABA checksum fails
        "order 021000021 shipped",  # no routing word
        "the meeting on 12-34-56 at 10",  # sort-code shape, no word or account
        "account 2024 plan",  # no account-number word
        "xx12 abcd efgh ijkl mnop",  # not a registered country
    ],
)
def test_look_alikes_are_not_high(classifier: Classify, text: str) -> None:
    assert classified(classifier, text)[0] != "high"


@pytest.mark.parametrize(
    ("number", "ok"),
    [("021000021", True), ("011000015", True), ("121000358", True),
     ("021000022", False), ("991000021", False), ("000000000", False)],
)  # fmt: skip
def test_aba_checksum(number: str, ok: bool) -> None:
    assert ids.aba_ok(number) is ok
