"""PHI: provider and prescriber numbers beside their words (NPI Luhn with
the 80840 prefix, DEA checksum), and conditions, diagnoses and medications
counted `high` only when a person is named in the same sentence; general
medical questions stay below `high`. Both classifier paths."""

from __future__ import annotations

import pytest

from router.classify import Classify, ids
from tests.conftest import classified


@pytest.mark.parametrize(
    ("number", "ok"),
    [("1234567893", True), ("1245319599", True), ("1234567890", False),
     ("3234567893", False), ("12345678", False)],
)  # fmt: skip
def test_npi(number: str, ok: bool) -> None:
    assert ids.npi_ok(number) is ok


@pytest.mark.parametrize(
    ("number", "ok"),
    [("AB1234563", True), ("BJ6125341", True), ("A91234563", True),
     ("AB1234564", False), ("IB1234563", False), ("AB123456", False)],
)  # fmt: skip
def test_dea(number: str, ok: bool) -> None:
    assert ids.dea_ok(number) is ok


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Prescriber NPI: 1234567893", "phi:npi"),
        ("1245319599 is the NPI of Dr. Jones", "phi:npi"),
        ("DEA number BJ6125341", "phi:dea_number"),
        ("My brother has type 2 diabetes and takes metformin.", "phi:condition"),
        ("Patient Alice Moore takes lisinopril daily", "phi:condition"),
        ("John Smith was diagnosed with lymphoma last May.", "phi:condition"),
        ("my mom was diagnosed last week", "phi:diagnosis"),
        ("I was diagnosed with HIV in 2019, what should I ask?", "phi:condition"),
        ("DOB 03/04/1990, history of epilepsy", "phi:condition"),
    ],
)
def test_phi_tied_to_a_person_is_high(
    classifier: Classify, text: str, signal: str
) -> None:
    level, signals = classified(classifier, text)
    assert level == "high" and signal in signals, signals


@pytest.mark.parametrize(
    "text",
    [
        "What are the early symptoms of diabetes?",
        "How does metformin lower blood sugar?",
        "Is asthma more common in cities? My brother asked me.",
        "Explain how chemotherapy targets dividing cells.",
        "Diabetes is diagnosed with an HbA1c test; insulin is a hormone.",
        "My kids use visual aids at school.",
        "NPI 1234567890 is what the form says",  # Luhn fails
        "order AB1234563 shipped",  # DEA shape, no word
    ],
)
def test_general_medical_text_is_not_high(classifier: Classify, text: str) -> None:
    assert classified(classifier, text)[0] != "high"
