"""Candidate validators: known-good and known-bad values for each."""

from __future__ import annotations

import base64
import re

import pytest

from router.classify import validators as v
from router.classify.checks import CHECKS
from router.classify.kernels import Kernels
from router.classify.patterns import BY_NAME, RE_FLAGS


@pytest.mark.parametrize(
    "digits",
    ["4111111111111111", "4012888888881881", "371449635398431", "5555555555554444",
     "30569309025904", "6011000400000000", "3528000700000000", "4222222222222",
     "6759649826438453", "5019717010103742", "122000000000003"],
)  # fmt: skip
def test_luhn_ok_accepts_test_cards(digits: str) -> None:
    assert v.luhn_ok(digits)


@pytest.mark.parametrize(
    "digits",
    ["4111111111111112", "4012888888881882", "411111111111", "41111111111111111111",
     "4111 1111 1111 1111", "4111-1111-1111-1111", "", "411111111111111a",
     "٤١١١١١١١١١١١١١١١"],
)  # fmt: skip
def test_luhn_ok_rejects(digits: str) -> None:
    assert not v.luhn_ok(digits)


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("2223003122003222", True),
        ("371449635398431", True),
        ("122000000000003", True),  # UATP, 15 digits
        ("135063818578391", False),  # UATP prefix and Luhn, but a French NIR's shape
        ("180012345678904", False),  # JCB 15 prefix: Luhn decides (fails)
        ("3506060437263525", True),  # JCB: any 35, 16 digits
        ("1748503543012", False),  # UATP prefix, wrong length
        ("36168002586008", False),  # Diners prefix, Luhn fails
        ("9111111111111111", False),  # no issuer starts with 9
        ("3714496353984310", False),  # Amex prefix, 16 digits
    ],
)
def test_card_number_ok(digits: str, ok: bool) -> None:
    assert v.card_number_ok(digits) is ok


@pytest.mark.parametrize(
    "iban",
    ["DE89370400440532013000", "GB29NWBK60161331926819", "AL47212110090000000235698741",
     "NO9386011117947", "MT84MALT011000012345MTLCAST001S", "BR9700360305000010009795493P1"],
)  # fmt: skip
def test_iban_ok_accepts(iban: str) -> None:
    assert v.iban_ok(iban)


@pytest.mark.parametrize(
    "iban",
    ["DE89370400440532013001", "DE8937040044053201300", "AB150120690000003111141",
     "AM47212110090000000235698740", "de89370400440532013000", "GB29 NWBK 6016 1331 9268 19",
     "GBXXNWBK60161331926819", ""],
)  # fmt: skip
def test_iban_ok_rejects(iban: str) -> None:
    assert not v.iban_ok(iban)


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("078051123", True),
        ("123456789", True),
        ("000123456", False),
        ("666123456", False),
        ("900123456", False),
        ("078001123", False),
        ("078050000", False),
        ("07805112", False),
        ("07805112a", False),
    ],
)
def test_ssn_ok(digits: str, ok: bool) -> None:
    assert v.ssn_ok(digits) is ok


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("911701234", True),
        ("911501234", True),
        ("911651234", True),
        ("911881234", True),
        ("911901234", True),
        ("911941234", True),
        ("911891234", False),
        ("911931234", False),
        ("911661234", False),
        ("911491234", False),
        ("811701234", False),
    ],
)
def test_itin_ok(digits: str, ok: bool) -> None:
    assert v.itin_ok(digits) is ok


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (_b64(b'{"alg":"HS256","typ":"JWT"}'), True),
        (_b64(b'{"typ":"JWT",\r\n"alg":"HS256"}'), True),
        (_b64(b'{"alg":"none"}'), True),
        (_b64(b'{"alg":"HS256","typ":"JWT"'), False),  # truncated object
        (_b64(b'{"kid":"abc"}'), False),  # neither alg nor typ
        (_b64(b"not json at all"), False),
        ("eyJAAAA", False),
        ("a", False),  # impossible base64 length
    ],
)
def test_jwt_header_ok(header: str, ok: bool) -> None:
    assert v.jwt_header_ok(header) is ok


def test_shannon_entropy() -> None:
    assert v.shannon_entropy("") == 0.0
    assert v.shannon_entropy("aaaa") == 0.0
    assert v.shannon_entropy("abcd") == pytest.approx(2.0)
    assert v.shannon_entropy("Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB") > 4.0


@pytest.mark.parametrize(
    "value",
    ["xxxxxxxx", "XXXX-XXXX", "<your token>", "${DB_PASSWORD}", "{{ secrets.KEY }}",
     "$API_KEY", "your_api_key_here", "changeme", "CHANGE_ME", "example", "my-example-key",
     "AKIAIOSFODNN7EXAMPLE", "placeholder", "********", "[PASSWORD]", "{SumoAccessKey}",
     "REDACTED", "aaaaaaaa", ""],
)  # fmt: skip
def test_is_placeholder(value: str) -> None:
    assert v.is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    ["Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "P@ssw0rd$1", "m{{h}o)p${e]nob(ody[finds>-_$#thisone}}", "s3cr3t-T0ken-value"],
)  # fmt: skip
def test_is_not_placeholder(value: str) -> None:
    assert not v.is_placeholder(value)


@pytest.mark.parametrize(
    ("key", "value", "quoted", "ok"),
    [
        ("password", "Tr0ub4dor&3xyz", True, True),
        ("api_key", "7f9c2ba4e88f827d616045507605853e", False, True),
        ("password", "correct horse battery staple", True, True),
        ("secrete", "A,.:-¨@*¿?!", False, True),
        ("password", "", True, False),
        ("password", "${DB_PASSWORD}", False, False),
        ("api_key", "your_api_key_here", True, False),
        ("password", "changeme", True, False),
        ("token", "tokens[i]", False, False),
        ("key_pair", "X25519.KeyPair", False, False),
        ("password", "real_key", False, False),
        ("password", "somefakekey", True, False),
        ("secret_length", "X7f9c2ba4e88f827d6160", False, False),
        ("LLM_SECRET_NAME", "NEXUS-GPT4-API-KEY", True, False),
        ("password", "null", False, False),
        ("PuttyPassword", "0", False, False),
        ("password", ",.:-¨@*¿?!", False, False),
        ("password", "value with spaces", False, False),
        ("credentials", "OPENAI_API_KEY", True, False),
    ],
)
def test_secret_value_ok(key: str, value: str, quoted: bool, ok: bool) -> None:
    assert v.secret_value_ok(key, value, quoted=quoted) is ok


@pytest.mark.parametrize(
    ("quad", "ok"),
    [("192.168.1.20", True), ("0.0.0.0", True), ("255.255.255.255", True),
     ("256.1.1.1", False), ("01.02.03.04", False), ("1.2.3", False), ("1.2.3.4.5", False)],
)  # fmt: skip
def test_ipv4_ok(quad: str, ok: bool) -> None:
    assert v.ipv4_ok(quad) is ok


@pytest.mark.parametrize(
    ("addr", "ok"),
    [("::1", True), ("fe80::1", True), ("2001:db8::ff00:42:8329", True),
     ("::ffff:192.0.2.1", True), ("1:2:3:4:5:6:7:8", True), ("a::b", False),
     ("10::20", False), ("12:34:56", False), ("00:1A:2B:3C:4D:5E", False), ("::", False),
     ("std::cout", False)],
)  # fmt: skip
def test_ipv6_ok(addr: str, ok: bool) -> None:
    assert v.ipv6_ok(addr) is ok


@pytest.mark.parametrize(
    ("domain", "ok"),
    [("example.org", True), ("xn--80ak6aa92e.com", True), ("xn--d1acufc.xn--p1ai", True),
     ("presidio.", False), ("localhost", False), ("example.c", False), ("a..b", False)],
)  # fmt: skip
def test_email_domain_ok(domain: str, ok: bool) -> None:
    assert v.email_domain_ok(domain) is ok


def test_date_ok() -> None:
    assert v.date_ok((1, 2), 1980)
    assert v.date_ok((31, 12), None)
    assert not v.date_ok((45, 45), 1990)
    assert not v.date_ok((1, 2), 1850)


@pytest.mark.parametrize(
    ("pattern", "text", "ok"),
    [
        ("card_grouped", "4111 1111 1111 1111 2025", True),
        ("card_grouped", "1234 4111 1111 1111 1111", True),
        ("card_grouped", "4111 1111-1111 1111", False),
        ("card_compact", "4111111111111111", True),
        ("iban_grouped", "VG96 VPVG 0000 0123 4567 8901 X", True),
        ("iban_grouped", "EE38 2200 2210  014 5686", False),
        ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.sig", True),
        ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 alone", False),
        ("url_credentials", "postgres://admin:S3cr3tPw@db:5432/app", True),
        ("url_credentials", "postgres://admin:${PGPASSWORD}@db/app", False),
        ("url_credentials", "https://example.com/a@b", False),
        ("cli_user", "curl -u elastic:P@ssw0rd$1 https://x", True),
        ("cli_user", "curl -u user:pass https://x", False),
        ("auth_header", "Authorization: Bearer cfcabd11c7ed9a41b1a3e063c32d5114", True),
        ("auth_header", "Authorization: Bearer <token>", False),
        ("ipv4", "version 1.2.3.4.5", False),
        ("ipv4", "host 10.1.2.3.", True),
        ("ipv6", "std::cout and a::b", False),
        ("email", "mail jane.doe@example.org.", True),
        ("date_of_birth", "DOB: 31/12/1999", True),
        (
            "secret_assignment",
            'pair("api_token", "dafa7817-e246-48f3-91a7-e87653d587b8")',
            True,
        ),
        ("secret_assignment", "max_tokens: 256", False),
        ("secret_comparison", 'if ("Tr0ub4dor&3xyz" == password) {', True),
        ("openai_key", "sk-learn-compatible-estimator-for-text-data-science", False),
    ],
)
def test_pattern_checks(pattern: str, text: str, ok: bool, kernels: Kernels) -> None:
    """A pattern's check on the first match of its locator in `text`."""
    record = BY_NAME[pattern]
    assert record.validator is not None
    m = re.compile(record.regex, RE_FLAGS).search(text)
    assert m is not None
    assert CHECKS[record.validator](text, m.start(), m.end(), kernels) is ok
