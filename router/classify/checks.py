"""Classifier stage, span checks: confirm or reject one pattern match.

In: the scanned text, the span `[start, end)` a pattern matched, the kernels.
Out: a bool. `CHECKS` maps the validator names of `patterns.py` to these.
Patterns are short locators (hyperscan's start-of-match mode cannot carry long
bounded repeats), so a check may read to the right of `end` (the rest of a
token, a quoted value, the authority of a URL) and at most two characters
before `start`. Every read is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from router.classify import validators as v
from router.classify.ids import ID_CHECKS

if TYPE_CHECKING:
    from router.classify.kernels import Kernels

Check = Callable[[str, int, int, "Kernels"], bool]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
TOKEN_CHARS = _ALNUM + "_-"
KEY_CHARS = TOKEN_CHARS + "."
_B64 = TOKEN_CHARS + "/+="
_DOMAIN = _ALNUM + ".-"
_TOKEN_MIXED_CHARS = TOKEN_CHARS + ".~="
_RUN_BREAKS = str.maketrans("_-.~=", "     ")
_HEADER_VALUE = _B64 + ".~:@!"
_QUOTES = "\"'`"
_ENDS = " \t\r\n\"'`)]}"
_OPERATORS = ("===", "!==", ":=", "=>", "==", "!=", "=", ":", ",")
# How far a check may read past the matched span: tokens, JWT headers,
# quoted values, bare values.
MAX_TOKEN = 512
MAX_EXTEND = 2048
MAX_BARE = 256


def extend(text: str, end: int, chars: str, limit: int = MAX_EXTEND) -> int:
    """Index just past the run of `chars` that starts at `end` (bounded)."""
    segment = text[end : end + limit]
    return end + len(segment) - len(segment.lstrip(chars))


def _first_word(text: str, pos: int, limit: int) -> str:
    """The run of non-space characters at `pos` (bounded), "" at a space."""
    segment = text[pos : pos + limit]
    if not segment or segment[0].isspace():
        return ""
    return segment.split(None, 1)[0]


def _skip_blanks(text: str, pos: int) -> int:
    return extend(text, pos, " \t", 64)


def _read_value(text: str, pos: int, *, need_quotes: bool) -> tuple[str, bool] | None:
    """The value at `pos`: a same-line quoted string, or a bare run that ends
    at a space, a quote, or a `,`/`;` followed by a space, bracket or end."""
    if pos < len(text) and text[pos] in _QUOTES:
        close = text.find(text[pos], pos + 1, pos + 1 + MAX_EXTEND)
        if close < 0 or text.find("\n", pos + 1, close) >= 0:
            return None
        return text[pos + 1 : close], True
    if need_quotes:
        return None
    word = _first_word(text, pos, MAX_BARE)
    cut = min((i for i in map(word.find, _QUOTES) if i >= 0), default=len(word))
    word = word[:cut]
    for sep in ",;":
        i = word.find(sep)
        while i >= 0:
            following = word[i + 1 : i + 2] or text[pos + i + 1 : pos + i + 2]
            if not following or following in _ENDS:
                word = word[:i]
                break
            i = word.find(sep, i + 1)
    return word, False


def check_assignment(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`password = "..."`, `api_key: ...`, `secret := ...`, `token => ...`,
    `"api_token", "..."`, `password "..."`, `password is ...`."""
    key_end = extend(text, start, KEY_CHARS, 64)
    key = text[start:key_end]
    quoted_key = text[key_end : key_end + 1] in tuple(_QUOTES)
    pos = key_end
    while pos < len(text) and pos < key_end + 2 and text[pos] in "\"'`]":
        pos += 1
    pos = _skip_blanks(text, pos)
    op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
    if op is not None:
        pos += len(op)
    elif text[pos : pos + 3].lower() == "is " or text[pos : pos + 4].lower() == "was ":
        op = "is"
        pos = text.index(" ", pos)
    if op == "," and not quoted_key:
        return False
    read = _read_value(text, _skip_blanks(text, pos), need_quotes=op in (None, ","))
    return read is not None and v.secret_value_ok(key, read[0], quoted=read[1])


def check_reversed_assignment(
    text: str, start: int, end: int, kernels: Kernels
) -> bool:
    """`"..." == password`: the literal comes first, the name after."""
    read = _read_value(text, start, need_quotes=True)
    if read is None:
        return False
    pos = _skip_blanks(text, start + len(read[0]) + 2)
    while pos < len(text) and text[pos] in "=!":
        pos += 1
    pos = _skip_blanks(text, pos)
    key = text[pos : extend(text, pos, KEY_CHARS, 64)]
    return v.secret_value_ok(key, read[0], quoted=True)


def check_token(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """A provider token: the whole run of token characters, not a placeholder."""
    return not v.is_placeholder(text[start : extend(text, end, TOKEN_CHARS, MAX_TOKEN)])


def check_token_mixed(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """A token whose longest alphanumeric run mixes letters and digits (the
    random part, not the prefix; `ntn_000...` and `...-TokenHere` fail)."""
    token = text[start : extend(text, end, _TOKEN_MIXED_CHARS, MAX_TOKEN)]
    longest = max(token.translate(_RUN_BREAKS).split(), key=len, default="")
    return (
        not v.is_placeholder(token)
        and any(map(str.isdigit, longest))
        and any(map(str.isalpha, longest))
    )


def check_openai(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`sk-...`: the `T3BlbkFJ` marker, or a body of 40+ mixing three classes."""
    token = text[start : extend(text, end, TOKEN_CHARS, MAX_TOKEN)]
    body = token[3:]
    for kind in ("proj-", "svcacct-", "admin-"):
        body = body.removeprefix(kind)
    if body.startswith("ant-"):
        return False
    letters = body.replace("-", "").replace("_", "")
    if "T3BlbkFJ" not in token and (len(body) < 40 or v.char_classes(letters) < 3):
        return False
    return not v.is_placeholder(token)


def check_anthropic(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`sk-ant-api03-...AA`: the documented body length and `AA` terminator."""
    token = text[start : extend(text, end, TOKEN_CHARS, MAX_TOKEN)]
    body = token.split("-", 3)[-1]
    return len(body) >= 90 and token.endswith("AA") and not v.is_placeholder(token)


def check_aws_secret(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """An AWS secret access key assignment: exactly 40 base64 characters."""
    value = text[end - 1 : extend(text, end, _B64, 64)].rstrip("=")
    return len(value) == 40 and not v.is_placeholder(value)


def check_jwt(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`eyJ<header>.eyJ<payload>[.<sig>]` whose header names alg or typ."""
    header_end = extend(text, start, TOKEN_CHARS)
    return text.startswith(".eyJ", header_end) and v.jwt_header_ok(
        text[start:header_end]
    )


def check_card(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """12-19 digits, plain or in groups with one separator kind: any run of
    whole groups starting with a 4-digit group that is a valid card number
    (issuer prefix, length, Luhn through the kernels). A span may open with
    the one non-digit that stands before a number glued to its keyword."""
    span = text[start:end]
    if span and not "0" <= span[0] <= "9":
        span = span[1:]
    groups = span.replace("-", " ").split(" ")
    if len(groups) == 1:
        return v.card_number_ok(span, kernels.luhn_ok)
    seps = [c for c in span if c in " -"]
    for i in range(len(groups)):
        if len(groups[i]) != 4:
            continue
        size = 0
        for j in range(i, len(groups)):
            if j > i and seps[j - 1] != seps[i]:
                break
            size += len(groups[j])
            if size > 19:
                break
            if size >= 12 and v.card_number_ok(
                "".join(groups[i : j + 1]), kernels.luhn_ok
            ):
                return True
    return False


def check_iban(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """Compact, or grouped by spaces or dashes: the leading whole groups that
    add up to the country's length must pass mod-97 (a trailing word in
    capitals may have been caught as one more group). Any case."""
    span = text[start:end].upper()
    want = v.IBAN_LENGTHS.get(span[:2])
    if want is None:
        return False
    total = 0
    groups = span.replace("-", " ").split(" ")
    for k, group in enumerate(groups):
        total += len(group)
        if total == want:
            return v.iban_ok("".join(groups[: k + 1]))
        if total > want:
            break
    return False


def _digits(span: str) -> str:
    return "".join(c for c in span if "0" <= c <= "9")


def _numbers(span: str) -> list[int]:
    return [
        int(n) for n in "".join(c if "0" <= c <= "9" else " " for c in span).split()
    ]


def check_ssn(text: str, start: int, end: int, kernels: Kernels) -> bool:
    return v.ssn_ok(_digits(text[start:end]))


def check_itin(text: str, start: int, end: int, kernels: Kernels) -> bool:
    return v.itin_ok(_digits(text[start:end]))


def check_url_credentials(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`scheme://user:password@host` with a password that is not a template,
    a mask or empty (`end` is just past `://`)."""
    authority = _first_word(text, end, MAX_TOKEN)
    cut = min((i for i in map(authority.find, "/?#\"'<>`") if i >= 0), default=-1)
    userinfo, at, host = authority[: cut if cut >= 0 else None].rpartition("@")
    if not at or not host or not (host[0].isalnum() or host[0] == "["):
        return False
    _, colon, password = userinfo.partition(":")
    if not colon or not password or password[0] in "${<%[":
        return False
    return not v.is_placeholder(password) and set(password) != {"*"}


def check_cli_user(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`curl -u user:pass` / `--user 'user:pass'`: the password (or the user
    part when the password is empty) must look like a real secret."""
    credential = _first_word(text, _skip_blanks(text, end), MAX_TOKEN)
    user, colon, password = credential.partition(":")
    secret = (password or user).strip("\"'")
    if secret.startswith("{") and secret.endswith("}") and "{{" not in secret:
        secret = secret[1:-1]
    if not colon or not secret or secret[0] in "${<%[":
        return False
    return not v.is_placeholder(secret) and (
        v.looks_random(secret, 8) or (len(secret) >= 6 and v.char_classes(secret) >= 3)
    )


def check_auth_header(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`Authorization: [Bearer|Basic|Token] <credential>` with a real value;
    a Basic one counts when it decodes to `user:password`, however short."""
    pos = _skip_blanks(text, end)
    scheme_end = extend(text, pos, TOKEN_CHARS, 16)
    scheme = text[pos:scheme_end].lower()
    if scheme in ("bearer", "basic", "token", "api-token"):
        pos = _skip_blanks(text, scheme_end)
    value = text[pos : extend(text, pos, _HEADER_VALUE, 1024)]
    if v.is_placeholder(value):
        return False
    return v.looks_random(value, 8) or (scheme == "basic" and v.basic_ok(value))


def check_password_phrase(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`my password is X`, `pw: X`, `passcode X`: the word after the phrase
    (bounded) is a plausible password, not an English word about one."""
    word = _first_word(text, _skip_blanks(text, end), MAX_BARE).strip("\"'`.,;:!?)")
    return v.password_word_ok(word)


def check_cookie(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """A session cookie or token value after its name: 16+ token characters
    mixing letters and digits, not code (`requests.Session()`)."""
    pos = _skip_blanks(text, end)
    pos += text[pos : pos + 1] in tuple(_QUOTES)
    value = text[pos : extend(text, pos, _HEADER_VALUE + "%", MAX_TOKEN)]
    return (
        len(value) >= 16
        and any(map(str.isdigit, value))
        and any(map(str.isalpha, value))
        and not v.is_code_reference(value)
        and not v.is_placeholder(value)
    )


def check_seed_phrase(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """After a seed-phrase keyword (the span), within a few lines: twelve
    words in a row, every one of the BIP-39 list."""
    return v.seed_words_ok(text[end : end + MAX_BARE * 2])


def check_hex_key(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """A 64-hex-digit key (0x optional): exactly that run, letters and digits."""
    token = text[start : extend(text, end, "0123456789abcdefABCDEF", 128)]
    token = token.removeprefix("0x")
    return (
        len(token) == 64
        and any(map(str.isdigit, token))
        and any(map(str.isalpha, token))
        and not v.is_placeholder(token)
    )


def check_crypto_key(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """A base58 WIF or extended private key: the whole run of base58
    characters at its issued length, mixing letters and digits."""
    token = text[start : extend(text, end, v.BASE58, MAX_TOKEN)]
    return v.crypto_key_ok(token)


def check_email(text: str, start: int, end: int, kernels: Kernels) -> bool:
    at = text.index("@", start, end)
    domain = text[at + 1 : extend(text, end, _DOMAIN, 256)].rstrip(".-")
    local = text[start:at]
    return ".." not in local and not local.endswith(".") and v.email_domain_ok(domain)


def check_phone_intl(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """`+CC ...`: 8 to 15 digits in all (E.164)."""
    return 8 <= len(_digits(text[start:end])) <= 15


def check_ipv4(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """Valid octets, and not four parts of a longer dotted number (`1.2.3.4.5`)."""
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return False
    if text.startswith(".", end) and text[end + 1 : end + 2].isdigit():
        return False
    return v.ipv4_ok(text[start:end])


def check_ipv6(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """The match may begin with one context character; the address must not
    run on into a word (`dead::beefy`) and must parse as IPv6."""
    span = text[start:end]
    if span[0] not in "0123456789abcdefABCDEF:":
        span = span[1:]
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        return False
    span = span.rstrip(".")
    if span.endswith(":") and not span.endswith("::"):
        span = span[:-1]
    return v.ipv6_ok(span)


def check_date(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """The date after a birth keyword is a plausible calendar date."""
    numbers = _numbers(text[start:end])
    year = next((n for n in numbers if n >= 100), None)
    small = [n for n in numbers if n < 100]
    if len(small) >= 2:
        return v.date_ok((small[0], small[1]), year)
    return len(small) == 1 and 1 <= small[0] <= 31 and year is not None


def check_medical_id(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """At least five digits, not one digit repeated."""
    digits = _digits(text[start:end])
    return len(digits) >= 5 and len(set(digits)) > 1


# An IBAN's start and whole groups, just before a number: the number is that
# IBAN's tail, which the IBAN check judges (a look-alike is not an account).
_IBAN_HEAD: Final = re.compile(
    r"\b[A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]{4})*[ -]?$", re.ASCII
)


def check_account(text: str, start: int, end: int, kernels: Kernels) -> bool:
    """An account number next to its words: `medical_id`'s digits, and not
    the rest of an IBAN-shaped run that starts before it."""
    head = text[max(0, start - 40) : start]
    return check_medical_id(text, start, end, kernels) and not _IBAN_HEAD.search(head)


def _id_check(valid: Callable[[str], bool]) -> Check:
    """A span check of ids.py: it reads the matched span only."""
    return lambda text, start, end, kernels: valid(text[start:end])


CHECKS: Mapping[str, Check] = {
    "assignment": check_assignment,
    "reversed_assignment": check_reversed_assignment,
    "token": check_token,
    "token_mixed": check_token_mixed,
    "openai": check_openai,
    "anthropic": check_anthropic,
    "aws_secret": check_aws_secret,
    "jwt": check_jwt,
    "card": check_card,
    "iban": check_iban,
    "ssn": check_ssn,
    "itin": check_itin,
    "url_credentials": check_url_credentials,
    "cli_user": check_cli_user,
    "auth_header": check_auth_header,
    "password_phrase": check_password_phrase,
    "cookie": check_cookie,
    "seed_phrase": check_seed_phrase,
    "crypto_key": check_crypto_key,
    "hex_key": check_hex_key,
    "email": check_email,
    "phone_intl": check_phone_intl,
    "ipv4": check_ipv4,
    "ipv6": check_ipv6,
    "date": check_date,
    "medical_id": check_medical_id,
    "account": check_account,
    **{name: _id_check(valid) for name, valid in ID_CHECKS.items()},
}
