"""Classifier stage, candidate validation: pure predicates on candidate strings.

In: a string a pattern found (digits, an IBAN, a token, an assigned value).
Out: a bool, "this really is a card number / IBAN / SSN / secret". The
span-level checks that `patterns.py` names are in `checks.py`, built on these.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

DIGITS = frozenset("0123456789")


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of an ASCII digit string 12 to 19 long; False otherwise."""
    if not 12 <= len(digits) <= 19 or not all(c in DIGITS for c in digits):
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes (IIN ranges) and the lengths each network issues.
_CARD_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # Amex
    (37, 37, frozenset({15})),
    (300, 305, frozenset({14, 16, 17, 18, 19})),  # Diners
    (309, 309, frozenset({14, 16, 17, 18, 19})),
    (36, 36, frozenset({14, 16, 17, 18, 19})),
    (38, 39, frozenset({14, 16, 17, 18, 19})),
    (6011, 6011, frozenset({16, 17, 18, 19})),  # Discover
    (644, 649, frozenset({16, 17, 18, 19})),
    (65, 65, frozenset({16, 17, 18, 19})),
    (35, 35, frozenset({16, 17, 18, 19})),  # JCB: any 35 (issued 3528-3589)
    (62, 62, frozenset({16, 17, 18, 19})),  # UnionPay
    (2200, 2204, frozenset({16, 17, 18, 19})),  # Mir
    (1800, 1800, frozenset({15})),  # JCB 15
    (2131, 2131, frozenset({15})),
    (81, 82, frozenset({16, 17, 18, 19})),  # RuPay, UnionPay 81
    (9792, 9792, frozenset({16})),  # Troy
    (50, 50, frozenset(range(12, 20))),  # Maestro, Dankort, Verve
    (56, 58, frozenset(range(12, 20))),
    (60, 60, frozenset(range(12, 20))),  # RuPay, Maestro
    (63, 63, frozenset(range(12, 20))),
    (67, 67, frozenset(range(12, 20))),
    (1, 1, frozenset({15})),  # UATP, unless a French NIR's shape (`nir_shaped`)
)


def nir_shaped(digits: str) -> bool:
    """15 digits as a man's French NIR starts: 1, a year, a month 01-12 (not
    JCB's 1800). Such a number is the NIR check's to judge, not a card."""
    return (
        len(digits) == 15
        and digits[0] == "1"
        and not digits.startswith("1800")
        and "01" <= digits[3:5] <= "12"
    )


def card_number_ok(digits: str, luhn: Callable[[str], bool] = luhn_ok) -> bool:
    """A known issuer prefix with one of its lengths, and a valid Luhn digit."""
    if not 12 <= len(digits) <= 19 or not digits.isascii() or not digits.isdigit():
        return False
    if nir_shaped(digits):
        return False
    head = int(digits[:4])
    for lo, hi, lengths in _CARD_RANGES:
        width = len(str(lo))
        if lo <= head // 10 ** (4 - width) <= hi and len(digits) in lengths:
            return luhn(digits)
    return False


# ISO 13616 registry: country code -> IBAN length.
IBAN_LENGTHS: Mapping[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

_IBAN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def iban_ok(iban: str) -> bool:
    """Compact IBAN: registered country, its exact length, mod-97 == 1."""
    if len(iban) < 15 or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    if not (iban[2:4].isdigit() and all(c in _IBAN_CHARS for c in iban)):
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def ssn_ok(digits: str) -> bool:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    if len(digits) != 9 or not all(c in DIGITS for c in digits):
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        area not in ("000", "666")
        and area[0] != "9"
        and group != "00"
        and serial != "0000"
    )


def itin_ok(digits: str) -> bool:
    """US ITIN: area 9xx, group 50-65, 70-88, 90-92 or 94-99."""
    if len(digits) != 9 or not all(c in DIGITS for c in digits) or digits[0] != "9":
        return False
    group = int(digits[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or group >= 94


def b64url_decode(segment: str) -> bytes | None:
    """Decode unpadded base64url; None when it is not valid base64url."""
    if len(segment) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def jwt_header_ok(segment: str) -> bool:
    """A JWT header decodes to a JSON object that names `alg` or `typ`.

    The check is on the object's shape (braces, a quoted key) rather than a
    full JSON parse, so a header with one mangled byte still counts.
    """
    raw = b64url_decode(segment)
    if raw is None:
        return False
    raw = raw.strip()
    return (
        raw.startswith(b"{")
        and raw.endswith(b"}")
        and (b'"alg"' in raw or b'"typ"' in raw)
    )


def shannon_entropy(value: str) -> float:
    """Bits per character of `value` (0.0 for the empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(k / n * math.log2(k / n) for k in Counter(value).values())


PLACEHOLDER_WORDS = frozenset(
    {"example", "examples", "sample", "placeholder", "changeme", "dummy", "your",
     "yours", "redacted", "insert", "fixme", "replace", "xxx"}
)  # fmt: skip
_PLACEHOLDER_PARTS = ("xxxx", "****", "changeme", "change_me", "placeholder",
                      "your_", "your-", "yourapi", "yourpass", "redacted")  # fmt: skip
_TEMPLATE_OPENERS = ("${", "{{", "$(", "%(", "%s", "#{", "[", "{%")


def has_word(low: str, word: str) -> bool:
    """Whether `word` occurs in `low` with no ASCII letter on either side."""
    i = low.find(word)
    while i >= 0:
        before = low[i - 1 : i]
        after = low[i + len(word) : i + len(word) + 1]
        if not ("a" <= before <= "z") and not ("a" <= after <= "z"):
            return True
        i = low.find(word, i + 1)
    return False


def is_placeholder(value: str) -> bool:
    """True for documentation stand-ins: `xxxx`, `<token>`, `${VAR}`, `$VAR`,
    `your_api_key`, `changeme`, a whole word `example`, a single repeated
    character. A placeholder word only counts as a whole word, so a random
    key that happens to contain `EXAMPLE` mid-run is not excused."""
    v = value.strip().strip("\"'`")
    low = v.lower()
    if not v or len(set(low)) == 1:
        return True
    if low.startswith(_TEMPLATE_OPENERS) or any(p in low for p in _PLACEHOLDER_PARTS):
        return True
    if (v[0], v[-1]) in (("<", ">"), ("{", "}")) and v[1:-1].isidentifier():
        return True
    if v[0] == "<" and v[-1] == ">":
        return True
    if v[0] == "$" and len(v) > 1 and (v[1:].replace("_", "a").isalnum()):
        return True
    return any(has_word(low, w) for w in PLACEHOLDER_WORDS)


def char_classes(value: str) -> int:
    """How many of lower, upper, digit, other a value uses."""
    return (
        (value != value.upper())
        + (value != value.lower())
        + any(map(str.isdigit, value))
        + (not value.isalnum())
    )


def looks_random(value: str, min_len: int = 8) -> bool:
    """Entropy or length gate for a secret value that has no known prefix."""
    if len(value) < min_len or not any(map(str.isalnum, value)):
        return False
    if value.isdigit() and len(value) < 12:
        return False
    if len(value) >= 16 and any(map(str.isdigit, value)):
        return any(map(str.isalpha, value))
    return shannon_entropy(value) >= 3.0 or char_classes(value) >= 3


_METADATA_SUFFIXES = (
    "name", "id", "ids", "len", "length", "size", "count", "type", "types", "file",
    "path", "dir", "url", "uri", "field", "env", "var", "prefix", "format", "policy",
    "manager", "store", "regex", "pattern", "header", "param", "label", "hint",
    "ttl", "timeout", "limit", "expiry", "expires", "expiration", "endpoint",
)  # fmt: skip
_NULLISH = frozenset({"none", "null", "nil", "undefined", "true", "false", "empty"})


_ANY_CAPITALIZED = tuple(s.capitalize() for s in _METADATA_SUFFIXES)


def has_metadata_suffix(key: str) -> bool:
    """`secret_length`, `LLM_SECRET_NAME`, `tokenType`: names about a secret."""
    low = key.lower().rstrip("_.-")
    if not low.endswith(_METADATA_SUFFIXES) and not key.endswith(_ANY_CAPITALIZED):
        return False  # the loop below would find none (one C call, not 70)
    for s in _METADATA_SUFFIXES:
        if low.endswith(s) and len(low) > len(s) and not low[-len(s) - 1].isalpha():
            return True
        if key.endswith(s.capitalize()):
            return True
    return False


def is_code_reference(value: str) -> bool:
    """`X25519.KeyPair`, `tokens[i]`, `getpass()`, `real_key`: code, not data."""
    head = value.split("(", 1)[0].split("[", 1)[0]
    parts = head.split(".")
    if (
        head
        and all(p.isidentifier() for p in parts)
        and (len(parts) > 1 or head != value)
    ):
        return True
    return value.isidentifier() and not any(map(str.isdigit, value))


def is_constant_name(value: str) -> bool:
    """`OPENAI_API_KEY`, `NEXUS-GPT4-API-KEY`: an upper-case name, not data."""
    bare = value.replace("_", "").replace("-", "")
    return (
        bare != value
        and bare.isalnum()
        and value == value.upper()
        and sum(map(str.isdigit, value)) <= 2
    )


def secret_value_ok(key: str, value: str, *, quoted: bool) -> bool:
    """Whether `key <op> value` assigns a real secret: not empty, not a
    placeholder or template, not a code reference, and random-looking
    (entropy or character-class gate) or a quoted multi-word passphrase."""
    value = value.strip()
    if value.lower() in _NULLISH or has_metadata_suffix(key) or is_constant_name(value):
        return False
    if not quoted and is_code_reference(value.rstrip(")]};,")):
        return False
    if " " in value:
        real = quoted and len(value) >= 8 and any(map(str.isalnum, value))
    else:
        real = looks_random(value, 8) or (len(value) >= 6 and char_classes(value) >= 3)
    return real and not is_placeholder(value)


def ipv4_ok(quad: str) -> bool:
    """Four dot-separated decimal octets 0-255 without leading zeros."""
    parts = quad.split(".")
    return len(parts) == 4 and all(
        p.isdigit() and len(p) <= 3 and int(p) <= 255 and (p == "0" or p[0] != "0")
        for p in parts
    )


def ipv6_ok(candidate: str) -> bool:
    """A parseable IPv6 address that is not a short scope-like `a::b`: `::1`,
    or at least three groups, or a group of three or more hex digits."""
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = [g for g in candidate.split(":") if g]
    return candidate == "::1" or len(groups) >= 3 or any(len(g) >= 3 for g in groups)


def email_domain_ok(domain: str) -> bool:
    """At least two non-empty labels and an alphabetic or punycode TLD."""
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    tld = labels[-1]
    return (tld.isalpha() and tld.isascii() and 2 <= len(tld) <= 24) or (
        tld.lower().startswith("xn--") and len(tld) > 4
    )


def date_ok(day_month: tuple[int, int], year: int | None) -> bool:
    """A plausible calendar date (either order of day and month)."""
    a, b = day_month
    valid = (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)
    return valid and (year is None or year < 100 or 1900 <= year <= 2100)


def basic_ok(value: str) -> bool:
    """A Basic credential: base64 of printable `user:password`, both sides
    non-empty."""
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, colon, password = raw.partition(b":")
    return (
        bool(colon and user and password)
        and raw.isascii()
        and raw.decode().isprintable()
    )


# Words that follow "my password is" without being one.
_NOT_PASSWORD_WORDS = """
    a an the not no none null empty blank same different wrong incorrect invalid
    correct right expired locked lost forgotten missing required needed reset changed
    weak strong short long too very so also still now just only being been set saved
    stored hashed encrypted hidden shown visible secure insecure ok okay fine good bad
    working rejected accepted valid case below above here there attached following in
    on at for of with and or but because that this it what which when where mine yours
    his hers ours theirs your my our their all please stars asterisks unknown
    string str int bool text char varchar optional password passwd secret"""
_NOT_PASSWORDS = frozenset(_NOT_PASSWORD_WORDS.split())


def password_word_ok(word: str) -> bool:
    """A word after "my password is": 4 to 64 characters, not a placeholder,
    not code (`get_password()`, `cfg.password`, `real_key`) and not an
    English word about passwords (`expired`, `wrong`, `the`)."""
    if not 4 <= len(word) <= 64 or word.lower() in _NOT_PASSWORDS:
        return False
    if (
        "(" in word
        or "[" in word
        or ("." in word and all(p.isidentifier() for p in word.split(".")))
    ):
        return False
    if word.isidentifier() and "_" in word.strip("_") and word.islower():
        return False
    return not is_placeholder(word) and any(map(str.isalnum, word))


@cache
def bip39_words() -> frozenset[str]:
    """The BIP-0039 English word list (bip39_english.txt, MIT: see
    bip39_english.LICENSE beside it)."""
    path = Path(__file__).with_name("bip39_english.txt")
    return frozenset(path.read_text(encoding="ascii").split())


def seed_words_ok(text: str) -> bool:
    """Twelve words in a row of the list, at least nine of them distinct (as
    random draws from 2048 words are); words are split at blanks, commas and
    numbering (`1. abandon 2. ability`)."""
    listed = bip39_words()
    run: list[str] = []
    for raw in text.replace(",", " ").split():
        word = raw.strip(".):;").lower()
        if word.isdigit():
            continue
        if word in listed:
            run.append(word)
            if len(run) >= 12 and len(set(run[-12:])) >= 9:
                return True
        else:
            run = []
    return False


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def crypto_key_ok(token: str) -> bool:
    """Bitcoin WIF (51 characters led by 5, 52 led by K or L) or an extended
    private key (xprv/tprv, 111 characters), mixing letters and digits."""
    n = len(token)
    shaped = (
        (n == 51 and token[0] == "5")
        or (n == 52 and token[0] in "KL")
        or (n == 111 and token[:4] in ("xprv", "tprv", "yprv", "zprv"))
    )
    return (
        shaped
        and any(map(str.isdigit, token))
        and any(map(str.isalpha, token))
        and len(set(token)) > 12
    )
