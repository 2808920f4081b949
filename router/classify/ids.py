"""Classifier stage, national identifier validation: pure predicates on spans.

In: the text a government-ID pattern of `patterns.py` matched (the number,
possibly with its separators, and for a number written before its keyword
the words after it). Out: a bool, "this is a well-formed number of that
kind": its check digit, letter or key, and the dates or ranges it encodes.

Each check reads the span in one of two ways: `digits` (every ASCII digit,
for the all-digit numbers: their keywords hold no digits) or `compact` (the
span without blanks, dots, dashes and slashes, ASCII letters upper-cased,
cut to the number's length). `ID_CHECKS` names them; the C twins are in
classifier_ext/ids.c (tests/unit/test_classify_ids.py holds them equal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

_SEPARATORS: Final = frozenset(" \t.-/")


def digits(span: str) -> str:
    """The ASCII digits of `span`, in order."""
    return "".join(c for c in span if "0" <= c <= "9")


def compact(span: str, length: int) -> str:
    """`span` less separators, ASCII letters upper-cased, its first `length`."""
    out = [c.upper() if c.isascii() else c for c in span if c not in _SEPARATORS]
    return "".join(out[:length])


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _all_same(value: str) -> bool:
    return len(set(value)) <= 1


def _date_ok(day: int, month: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _weighted(value: str, weights: tuple[int, ...]) -> int:
    return sum(int(c) * w for c, w in zip(value, weights, strict=False))


# ------------------------------------------------------------------ Europe

_NINO_FIRST_BAD: Final = frozenset("DFIQUV")
_NINO_SECOND_BAD: Final = frozenset("DFIOQUV")
_NINO_PREFIX_BAD: Final = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_ok(span: str) -> bool:
    """UK National Insurance number: two prefix letters as HMRC allocates
    them, six digits, a suffix A-D."""
    v = compact(span, 9)
    return (
        len(v) == 9
        and v[:2].isascii()
        and v[:2].isalpha()
        and v[0] not in _NINO_FIRST_BAD
        and v[1] not in _NINO_SECOND_BAD
        and v[:2] not in _NINO_PREFIX_BAD
        and _is_digits(v[2:8])
        and v[8] in "ABCD"
    )


def nhs_ok(span: str) -> bool:
    """NHS number: ten digits, mod-11 check digit (weights 10 to 2)."""
    v = digits(span)
    if len(v) != 10 or _all_same(v):
        return False
    check = 11 - _weighted(v, (10, 9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return check != 10 and check % 11 == int(v[9])


def steuer_id_ok(span: str) -> bool:
    """German tax ID: eleven digits, no leading 0, one digit of the first
    ten twice or three times, ISO 7064 MOD 11,10 check digit."""
    v = digits(span)
    if len(v) != 11 or v[0] == "0":
        return False
    counts = sorted((v[:10].count(d) for d in set(v[:10])), reverse=True)
    if counts[0] not in (2, 3) or (len(counts) > 1 and counts[1] != 1):
        return False
    product = 10
    for c in v[:10]:
        total = (int(c) + product) % 10 or 10
        product = total * 2 % 11
    return (11 - product) % 10 == int(v[10])


def nir_ok(span: str) -> bool:
    """French NIR: sex 1/2, year, month 01-12 or 20-99, department (2A/2B
    for Corsica), commune, order, and the key 97 - number mod 97."""
    v = compact(span, 15)
    if len(v) != 15 or v[0] not in "12" or not _is_digits(v[1:5]):
        return False
    month = int(v[3:5])
    if not (1 <= month <= 12 or month >= 20):
        return False
    body = v[:13]
    if body[5:7] in ("2A", "2B"):
        body = body[:5] + ("19" if body[6] == "A" else "18") + body[7:]
    if not _is_digits(body) or not _is_digits(v[13:]):
        return False
    return 97 - int(body) % 97 == int(v[13:])


_DNI_LETTERS: Final = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(span: str) -> bool:
    """Spanish DNI: eight digits and the letter of their value mod 23."""
    v = compact(span, 9)
    return len(v) == 9 and _is_digits(v[:8]) and _DNI_LETTERS[int(v[:8]) % 23] == v[8]


def nie_ok(span: str) -> bool:
    """Spanish NIE: X, Y or Z (0, 1, 2), seven digits, the DNI letter."""
    v = compact(span, 9)
    if len(v) != 9 or v[0] not in "XYZ" or not _is_digits(v[1:8]):
        return False
    return _DNI_LETTERS[int("XYZ".index(v[0]) * 10**7 + int(v[1:8])) % 23] == v[8]


_CF_ODD: Final = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8,
                  12, 14, 16, 10, 22, 25, 24, 23)  # fmt: skip
_CF_MONTHS: Final = "ABCDEHLMPRST"
_CF_DIGIT_LETTERS: Final = "LMNPQRSTUV"  # omocodia: a digit replaced by a letter
_CF_DIGIT_AT: Final = (6, 7, 9, 10, 12, 13, 14)


def codice_fiscale_ok(span: str) -> bool:
    """Italian codice fiscale: 6 letters, year, month letter, day (+40 for
    women), municipality, and the check letter over odd and even places."""
    v = compact(span, 16)
    if len(v) != 16 or not v.isascii() or not v.isalnum():
        return False
    plain = list(v)
    for i in _CF_DIGIT_AT:
        if plain[i] in _CF_DIGIT_LETTERS:
            plain[i] = str(_CF_DIGIT_LETTERS.index(plain[i]))
    if not all(plain[i].isdigit() for i in _CF_DIGIT_AT):
        return False
    letters = (*range(6), 8, 11, 15)
    if not all(plain[i].isalpha() for i in letters) or v[8] not in _CF_MONTHS:
        return False
    day = int(plain[9] + plain[10])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return False
    total = 0
    for i, c in enumerate(v[:15]):
        n = int(c) if c.isdigit() else ord(c) - 65
        total += _CF_ODD[n] if i % 2 == 0 else n
    return chr(65 + total % 26) == v[15]


def bsn_ok(span: str) -> bool:
    """Dutch BSN: nine digits passing the 11-proof (last weight -1)."""
    v = digits(span)
    if len(v) != 9 or _all_same(v):
        return False
    return (_weighted(v, (9, 8, 7, 6, 5, 4, 3, 2)) - int(v[8])) % 11 == 0


def be_nrn_ok(span: str) -> bool:
    """Belgian national number: YYMMDD, order, 97 - mod 97 (2 prepended
    for births from 2000); month and day may be 0 when unknown."""
    v = digits(span)
    if len(v) != 11 or int(v[2:4]) > 12 or int(v[4:6]) > 31:
        return False
    check = int(v[9:])
    return check in (97 - int(v[:9]) % 97, 97 - int("2" + v[:9]) % 97)


_PESEL_WEIGHTS: Final = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


def pesel_ok(span: str) -> bool:
    """Polish PESEL: YYMMDD (month + 20/40/60/80 by century), serial, and
    the weighted check digit."""
    v = digits(span)
    if len(v) != 11 or _all_same(v):
        return False
    if not _date_ok(int(v[4:6]), int(v[2:4]) % 20):
        return False
    return (10 - _weighted(v, _PESEL_WEIGHTS) % 10) % 10 == int(v[10])


def _luhn(value: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(value)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def personnummer_ok(span: str) -> bool:
    """Swedish personnummer: (YY)YYMMDD and four digits, Luhn over the last
    ten; the day may be +60 (samordningsnummer)."""
    v = digits(span)
    if len(v) == 12:
        v = v[2:]
    if len(v) != 10 or _all_same(v):
        return False
    day = int(v[4:6])
    return _date_ok(day - 60 if day > 60 else day, int(v[2:4])) and _luhn(v)


_HETU_CHECK: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY: Final = "+-ABCDEFYXWVU"


def hetu_ok(span: str) -> bool:
    """Finnish HETU: DDMMYY, century sign, three digits, check character of
    the nine digits mod 31."""
    v = span[:11].upper() if span.isascii() else ""
    if len(v) != 11 or v[6] not in _HETU_CENTURY:
        return False
    number = v[:6] + v[7:10]
    if not _is_digits(number) or not _date_ok(int(v[:2]), int(v[2:4])):
        return False
    return _HETU_CHECK[int(number) % 31] == v[10]


def dk_cpr_ok(span: str) -> bool:
    """Danish CPR: DDMMYY and four digits (no check digit since 2007)."""
    v = digits(span)
    return len(v) == 10 and not _all_same(v) and _date_ok(int(v[:2]), int(v[2:4]))


# ------------------------------------------------------------ elsewhere

_VERHOEFF_D: Final = (
    "0123456789", "1234067895", "2340178956", "3401289567", "4012395678",
    "5987604321", "6598710432", "7659821043", "8765932104", "9876543210",
)  # fmt: skip
_VERHOEFF_P: Final = (
    "0123456789", "1576283094", "5803796142", "8916043527", "9453126870",
    "4286573901", "2793806415", "7046913258",
)  # fmt: skip


def verhoeff_ok(value: str) -> bool:
    """Verhoeff checksum of an ASCII digit string (the last is the check)."""
    c = 0
    for i, ch in enumerate(reversed(value)):
        c = int(_VERHOEFF_D[c][int(_VERHOEFF_P[i % 8][int(ch)])])
    return c == 0


def aadhaar_ok(span: str) -> bool:
    """Indian Aadhaar: twelve digits, not led by 0 or 1, Verhoeff."""
    v = digits(span)
    return len(v) == 12 and v[0] not in "01" and not _all_same(v) and verhoeff_ok(v)


def pan_ok(span: str) -> bool:
    """Indian PAN: five letters (the fourth the holder type), four digits,
    a letter."""
    v = compact(span, 10)
    return (
        len(v) == 10
        and v.isascii()
        and v[:5].isalpha()
        and v[3] in "ABCFGHJLPT"
        and _is_digits(v[5:9])
        and v[9].isalpha()
    )


def au_tfn_ok(span: str) -> bool:
    """Australian TFN: nine (or old eight) digits, weighted sum mod 11 == 0."""
    v = digits(span)
    if _all_same(v):
        return False
    if len(v) == 9:
        return _weighted(v, (1, 4, 3, 7, 5, 8, 6, 9, 10)) % 11 == 0
    return len(v) == 8 and _weighted(v, (10, 7, 8, 4, 6, 3, 5, 1)) % 11 == 0


def au_medicare_ok(span: str) -> bool:
    """Australian Medicare card: ten digits (an eleventh, the reference
    number, may follow), led by 2-6, weighted check digit ninth."""
    v = digits(span)
    if len(v) not in (10, 11) or v[0] not in "23456" or v[9] == "0":
        return False
    return _weighted(v, (1, 3, 7, 9, 1, 3, 7, 9)) % 10 == int(v[8])


def ca_sin_ok(span: str) -> bool:
    """Canadian SIN: nine digits, not led by 0 or 8, Luhn."""
    v = digits(span)
    return len(v) == 9 and v[0] not in "08" and not _all_same(v) and _luhn(v)


def _mod11_digit(value: str, top: int) -> int:
    total = sum(int(c) * (top - i) for i, c in enumerate(value))
    return total * 10 % 11 % 10


def cpf_ok(span: str) -> bool:
    """Brazilian CPF: nine digits and two mod-11 check digits."""
    v = digits(span)
    if len(v) != 11 or _all_same(v):
        return False
    return _mod11_digit(v[:9], 10) == int(v[9]) and _mod11_digit(v[:10], 11) == int(
        v[10]
    )


_CNPJ_WEIGHTS: Final = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _cnpj_digit(value: str) -> int:
    r = _weighted(value, _CNPJ_WEIGHTS[-len(value) :]) % 11
    return 0 if r < 2 else 11 - r


def cnpj_ok(span: str) -> bool:
    """Brazilian CNPJ: twelve digits and two weighted mod-11 check digits."""
    v = digits(span)
    if len(v) != 14 or _all_same(v):
        return False
    return _cnpj_digit(v[:12]) == int(v[12]) and _cnpj_digit(v[:13]) == int(v[13])


_NRIC_LETTERS: Final = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA",
                        "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK"}  # fmt: skip


def sg_nric_ok(span: str) -> bool:
    """Singapore NRIC/FIN: S, T, F or G, seven digits, the check letter."""
    v = compact(span, 9)
    if len(v) != 9 or v[0] not in _NRIC_LETTERS or not _is_digits(v[1:8]):
        return False
    total = _weighted(v[1:8], (2, 7, 6, 5, 4, 3, 2)) + (4 if v[0] in "TG" else 0)
    return _NRIC_LETTERS[v[0]][total % 11] == v[8]


_RRN_WEIGHTS: Final = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def kr_rrn_ok(span: str) -> bool:
    """Korean resident registration number: YYMMDD, a sex/century digit
    1-8, and (for numbers issued before October 2020) a check digit; later
    ones have none, so a valid date and sex digit are what is required."""
    v = digits(span)
    if len(v) != 13 or v[6] not in "12345678" or _all_same(v[7:]):
        return False
    return _date_ok(int(v[4:6]), int(v[2:4]))


_ABA_PREFIXES: Final = (
    frozenset(range(13)) | frozenset(range(21, 33)) | frozenset(range(61, 73)) | {80}
)


def aba_ok(span: str) -> bool:
    """US ABA routing number: a Federal Reserve prefix (00-12, 21-32, 61-72,
    80) and the 3-7-1 weighted sum mod 10 == 0."""
    v = digits(span)
    if len(v) != 9 or _all_same(v) or int(v[:2]) not in _ABA_PREFIXES:
        return False
    return _weighted(v, (3, 7, 1, 3, 7, 1, 3, 7, 1)) % 10 == 0


def npi_ok(span: str) -> bool:
    """US National Provider Identifier: ten digits led by 1 or 2, Luhn over
    the digits with the card-issuer prefix 80840 before them."""
    v = digits(span)
    return len(v) == 10 and v[0] in "12" and _luhn("80840" + v)


_DEA_TYPES: Final = frozenset("ABCDEFGHJKLMPRSTUX")


def dea_ok(span: str) -> bool:
    """US DEA registration: a registrant-type letter, a letter (or 9), seven
    digits whose 1st+3rd+5th plus twice 2nd+4th+6th ends in the 7th."""
    v = compact(span, 9)
    if len(v) != 9 or v[0] not in _DEA_TYPES or not _is_digits(v[2:]):
        return False
    if not (v[1] == "9" or ("A" <= v[1] <= "Z")):
        return False
    d = [int(c) for c in v[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


ID_CHECKS: Final[Mapping[str, Callable[[str], bool]]] = {
    "nino": nino_ok,
    "nhs": nhs_ok,
    "steuer_id": steuer_id_ok,
    "nir": nir_ok,
    "dni": dni_ok,
    "nie": nie_ok,
    "codice_fiscale": codice_fiscale_ok,
    "bsn": bsn_ok,
    "be_nrn": be_nrn_ok,
    "pesel": pesel_ok,
    "personnummer": personnummer_ok,
    "hetu": hetu_ok,
    "dk_cpr": dk_cpr_ok,
    "aadhaar": aadhaar_ok,
    "pan": pan_ok,
    "au_tfn": au_tfn_ok,
    "au_medicare": au_medicare_ok,
    "ca_sin": ca_sin_ok,
    "cpf": cpf_ok,
    "cnpj": cnpj_ok,
    "sg_nric": sg_nric_ok,
    "kr_rrn": kr_rrn_ok,
    "aba": aba_ok,
    "npi": npi_ok,
    "dea": dea_ok,
}
