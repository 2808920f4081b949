"""National identifiers: the checks of ids.py accept real-shaped numbers and
reject their look-alikes, the C twins (classifier_ext/ids.c) answer as they
do on every span tried, and a request holding one is `high` on both
classifier paths, keyword before or after the number."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import Classify, ids
from router.wire import ChatMessage, ChatRequest

# Per kind: a valid number as people write it, and its signal.
VALID = {
    "nino": ("AB 12 34 56 C", "pii:uk_nino"),
    "nhs": ("943 476 5919", "pii:uk_nhs"),
    "steuer_id": ("86095742719", "pii:de_tax_id"),
    "nir": ("1 72 02 32 013 121 26", "pii:fr_nir"),
    "dni": ("18034063Q", "pii:es_dni"),
    "nie": ("Y1978347Q", "pii:es_nie"),
    "codice_fiscale": ("BCCFRC15M25E852P", "pii:it_fiscal_code"),
    "bsn": ("214035797", "pii:nl_bsn"),
    "be_nrn": ("77.08.25-868.55", "pii:be_national_number"),
    "pesel": ("26070314173", "pii:pl_pesel"),
    "personnummer": ("961117-5820", "pii:se_personnummer"),
    "hetu": ("241002A584W", "pii:fi_hetu"),
    "dk_cpr": ("010190-1234", "pii:dk_cpr"),
    "aadhaar": ("2341 2341 2346", "pii:in_aadhaar"),
    "pan": ("ABCPE1234F", "pii:in_pan"),
    "au_tfn": ("123 456 782", "pii:au_tfn"),
    "au_medicare": ("2123 45670 1", "pii:au_medicare"),
    "ca_sin": ("278 018 460", "pii:ca_sin"),
    "cpf": ("187.244.670-14", "pii:br_cpf"),
    "cnpj": ("24.422.242/0001-31", "pii:br_cnpj"),
    "sg_nric": ("S1234567D", "pii:sg_nric"),
    "kr_rrn": ("910411-1777631", "pii:kr_rrn"),
    "aba": ("021000021", "pii:bank_routing"),
    "npi": ("1234567893", "phi:npi"),
    "dea": ("BJ6125341", "phi:dea_number"),
}
# Kinds with a check digit or letter last: changing it breaks the number
# (Medicare's check digit is the ninth, its last the card's issue number).
CHECKED = set(VALID) - {"nino", "pan", "dk_cpr", "kr_rrn", "au_medicare"}
# The keyword a sentence names each kind by.
KEYWORD = {
    "nino": "National Insurance number", "nhs": "NHS number", "steuer_id": "Steuer-ID",
    "nir": "numéro de sécurité sociale", "dni": "DNI", "nie": "NIE",
    "codice_fiscale": "codice fiscale", "bsn": "BSN",
    "be_nrn": "rijksregisternummer", "pesel": "PESEL", "personnummer": "personnummer",
    "hetu": "henkilötunnus", "dk_cpr": "CPR-nummer", "aadhaar": "Aadhaar",
    "pan": "PAN", "au_tfn": "TFN", "au_medicare": "Medicare number", "ca_sin": "SIN",
    "cpf": "CPF", "cnpj": "CNPJ", "sg_nric": "NRIC", "kr_rrn": "RRN",
    "aba": "routing number",
    "npi": "NPI",
    "dea": "DEA number",
}  # fmt: skip


def test_every_kind_has_a_case() -> None:
    assert set(VALID) == set(ids.ID_CHECKS)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_numbers_pass(kind: str) -> None:
    assert ids.ID_CHECKS[kind](VALID[kind][0])


def bump_last(value: str) -> str:
    """The value with its last digit or letter changed."""
    last = value[-1]
    alphabet = "0123456789" if last.isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return value[:-1] + alphabet[(alphabet.index(last) + 1) % len(alphabet)]


@pytest.mark.parametrize("kind", sorted(CHECKED))
def test_a_wrong_check_character_fails(kind: str) -> None:
    assert not ids.ID_CHECKS[kind](bump_last(VALID[kind][0]))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("nino", "GB 12 34 56 C"),  # prefix never allocated
        ("nino", "DA123456C"),  # D is no first letter
        ("nino", "AB123456E"),  # suffix A-D only
        ("steuer_id", "01234567890"),  # leading 0
        ("steuer_id", "12345678903"),  # every digit once
        ("nir", "3 72 02 32 013 121 26"),  # sex digit
        ("codice_fiscale", "BCCFRC15M75E852P"),  # day 75
        ("pesel", "26130314173"),  # month 13
        ("personnummer", "961317-5820"),  # month 13
        ("hetu", "241302A584W"),  # month 13
        ("dk_cpr", "320190-1234"),  # day 32
        ("aadhaar", "1341 2341 2346"),  # leading 1
        ("pan", "ABCDE1234F"),  # D is no holder type
        ("au_medicare", "7123 45670 1"),  # leading 7
        ("au_medicare", "2123 45671 1"),  # check digit
        ("ca_sin", "878 018 460"),  # leading 8
        ("cpf", "111.111.111-11"),  # one digit repeated
        ("sg_nric", "A1234567D"),  # no such series
        ("kr_rrn", "911311-1777631"),  # month 13
    ],
)
def test_malformed_numbers_fail(kind: str, value: str) -> None:
    assert not ids.ID_CHECKS[kind](value)


def test_corsican_nir() -> None:
    body = "1720" + "2" + "2A" + "013121"
    key = 97 - int(body.replace("2A", "19")) % 97
    assert ids.nir_ok(f"{body}{key:02d}")
    assert not ids.nir_ok(f"{body}{(key % 97) + 1:02d}")


# ------------------------------------------------------------------ C twins

native = pytest.importorskip("router.classify._native")
ALPHABET = "0123456789 .-/+ABCDEFGHJKLMSTUXYZabcx\t\x00é٣"


def span_kind(kind: str) -> int:
    from router.classify._compiled import SPAN_CHECKS

    return SPAN_CHECKS.index(kind)


def mutations(rng: random.Random, value: str) -> list[str]:
    out = [value, value.lower(), value.replace(" ", ""), value + "X", value[1:]]
    for _ in range(400):
        chars = list(value)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice(ALPHABET)
        out.append("".join(chars))
    return out


@pytest.mark.parametrize("kind", sorted(VALID))
def test_c_twin_on_near_misses(kind: str) -> None:
    rng = random.Random(kind)
    check = ids.ID_CHECKS[kind]
    passed = 0
    for span in mutations(rng, VALID[kind][0]):
        want = check(span)
        passed += want
        assert native.count_valid(span_kind(kind), [span], 1) == want, repr(span)
    assert passed >= 1


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(VALID)), st.text(alphabet=ALPHABET, max_size=24))
def test_c_twin_on_any_text(kind: str, span: str) -> None:
    want = ids.ID_CHECKS[kind](span)
    assert native.count_valid(span_kind(kind), [span], 1) == want


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(VALID)), st.text(max_size=20))
def test_c_twin_on_any_unicode(kind: str, span: str) -> None:
    want = ids.ID_CHECKS[kind](span)
    assert native.count_valid(span_kind(kind), [span], 1) == want


# ------------------------------------------------------------ classification


def level(classifier: Classify, text: str) -> tuple[str, tuple[str, ...]]:
    message = ChatMessage(role="user", content=text)
    got = classifier(ChatRequest(model="auto", messages=[message]))
    return got.sensitivity, got.signals


@pytest.mark.parametrize("kind", sorted(VALID))
def test_number_after_its_keyword_is_high(classifier: Classify, kind: str) -> None:
    value, signal = VALID[kind]
    sensitivity, signals = level(classifier, f"My {KEYWORD[kind]} is {value}, thanks.")
    assert sensitivity == "high" and signal in signals


@pytest.mark.parametrize("kind", sorted(VALID))
def test_number_before_its_keyword_is_high(classifier: Classify, kind: str) -> None:
    value, signal = VALID[kind]
    sensitivity, signals = level(classifier, f"Use {value} as my {KEYWORD[kind]}.")
    assert sensitivity == "high" and signal in signals


@pytest.mark.parametrize("kind", sorted(CHECKED))
def test_failing_look_alike_is_not_high(classifier: Classify, kind: str) -> None:
    value, signal = VALID[kind]
    text = f"My {KEYWORD[kind]} is {bump_last(value)}."
    assert signal not in level(classifier, text)[1]


@pytest.mark.parametrize(
    "text",
    [
        "Invoice 214035797 is due on 2024-03-01.",
        "Order 86095742719 shipped; tracking 9434765919.",
        "The build took 123456782 ns on port 8080.",
        "Call 278 018 460 for support? No: that is SKU 278-018-460.",
    ],
)
def test_bare_numbers_without_keyword_are_not_high(
    classifier: Classify, text: str
) -> None:
    assert level(classifier, text)[0] != "high"
