"""Classifier stage, normalising the sensitive text before it is scanned
(`normalize`, the reference; the C twin is `_native.normalize`, equal on
every input).

A text that is all ASCII without a `%` is returned as it is (the fast
check). Otherwise, when it is not all ASCII, it is folded character by
character: each non-ASCII character becomes its NFKC form (full-width and
other compatibility digits and letters become ASCII), in which format
characters (Unicode Cf: zero-width spaces and joiners, soft hyphens, bidi
marks) are dropped, every dash (Pd, and the minus signs in `MINUS`) becomes
`-` and every space separator (Zs, the non-breaking ones included) a space.
Per character, not NFKC of the whole text: nothing the patterns look for
needs composition across characters, and a character's fold can be
remembered (CPython's whole-text NFKC costs about 150 ns a character on
CJK text with full-width punctuation).
Then, when it holds a `%`, each run of percent-encoded bytes (`%2D%41`)
that is valid UTF-8 is decoded, and a result that is not all ASCII is
folded again. So 078-05-1120 written with U+2011, full-width digits, a zero-width
space inside a number, a non-breaking space between card groups and
`078%2D05%2D1120` all read as the ASCII the patterns look for.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

# Minus signs that are not Pd: U+02D7 modifier minus, U+2043 hyphen bullet,
# U+2212 minus sign.
MINUS: Final = frozenset("\u02d7\u2043\u2212")
_RUN: Final = re.compile("(?:%[0-9A-Fa-f]{2})+")


def _char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    if category == "Pd" or ch in MINUS:
        return "-"
    if category == "Zs":
        return " "
    return ch


@functools.lru_cache(maxsize=1 << 16)
def fold_char(ch: str) -> str:
    """One character's NFKC form, format characters dropped, dashes and
    spaces unified."""
    nfkc = unicodedata.normalize("NFKC", ch)
    return "".join(c if c.isascii() else _char(c) for c in nfkc)


def fold(text: str) -> str:
    """Each non-ASCII character of `text` folded (`fold_char`)."""
    return "".join(ch if ch.isascii() else fold_char(ch) for ch in text)


def _decode_run(match: re.Match[str]) -> str:
    run = match.group()
    try:
        return bytes.fromhex(run.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return run


def normalize(text: str) -> str:
    """The text the sensitive patterns are scanned over."""
    if text.isascii() and "%" not in text:
        return text
    if not text.isascii():
        text = fold(text)
    if "%" in text:
        text = _RUN.sub(_decode_run, text)
        if not text.isascii():
            text = fold(text)
    return text
