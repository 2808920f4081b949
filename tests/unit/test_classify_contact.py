"""Contact PII (`medium`): phone numbers in the national and international
forms of US/CA, GB, DE, FR, ES, IT, NL, AU, IN and BR, ambiguous digit runs
only beside a phone word, and street addresses of the same countries; dates
and versions are not phones. Both classifier paths."""

from __future__ import annotations

import pytest

from router.classify import Classify
from tests.conftest import classified

PHONES = [
    "(415) 555-2671 ext. 204", "415.555.2671", "494-387-2194x9115",
    "361659488 is my number", "+1 416 555 0199",
    "call me on 020 7946 0958", "mobile 07700 900123", "+44 7700 900123",
    "Tel. 030 12345678", "0151 23456789", "089/1234567", "+49 30 12345678",
    "06.12.34.56.78", "01 23 45 67 89", "+33 6 12 34 56 78",
    "phone: 912 345 678", "+34 612 34 56 78", "chiamami al 333 123 4567",
    "+39 06 1234 5678", "06-12345678", "020-123 4567", "(02) 9123 4567",
    "0412 345 678", "+61 412 345 678", "whatsapp 98765 43210", "+91 98765 43210",
    "(11) 91234-5678", "+55 11 91234-5678",
]  # fmt: skip
ADDRESSES = [
    "1600 Pennsylvania Avenue NW", "221B Baker Street", "10 Downing Street",
    "42 Wallaby Way, Sydney", "Hauptstraße 5, 10115 Berlin", "Musterstr. 12",
    "12 rue de la Paix, 75002 Paris", "Calle Mayor 5, Madrid",
    "Via Roma 12, 00100 Roma", "Kalverstraat 12, 1012 AB Amsterdam",
    "24 Sussex Drive, Ottawa ON K1M 1M4", "MG Road 14, Bengaluru",
    "Rua Augusta 1500, São Paulo",
]  # fmt: skip


@pytest.mark.parametrize("text", PHONES)
def test_phones(classifier: Classify, text: str) -> None:
    level, signals = classified(classifier, text)
    assert level == "medium" and "pii:phone" in signals, signals


@pytest.mark.parametrize("text", ADDRESSES)
def test_addresses(classifier: Classify, text: str) -> None:
    level, signals = classified(classifier, text)
    assert level == "medium" and "pii:street_address" in signals, signals


@pytest.mark.parametrize(
    "text",
    ["on 01.02.2024 at 10:00", "version 0.12.3456", "see lines 120-345",
     "port 8080 and 8443", "ISBN 0-306-40615-2", "SKU 4006381333931"],
)  # fmt: skip
def test_not_phones(classifier: Classify, text: str) -> None:
    assert "pii:phone" not in classified(classifier, text)[1]
