"""Classifier stage, token estimate: text in, an integer token count out.

A light stand-in for a BPE tokenizer (calibrated against o200k_base), written
so that a C twin can match it exactly: one left-to-right pass over code
points, integer arithmetic only, no regex.

Algorithm (the specification of the C twin):

1. Each code point c gets one class, tested in this order:
   SPACE  if c.isspace();
   DIGIT  if c.isdigit();
   CJK    if ord(c) lies in one of `CJK_RANGES` (inclusive bounds);
   WORD   if c.isalpha();
   PUNCT  if ord(c) < 128;
   SYMBOL otherwise.
2. Consecutive code points of the same class form a run. A WORD run also
   counts how many of its letters are non-ASCII (ord(c) >= 128).
3. When a run ends, it adds units (1 token = 100 units); `nxt` is the class of
   the run that follows, or none at the end of the text:
   WORD   (a ASCII letters, u non-ASCII letters):
          110 + 30 * max(0, a - 9) + 10 * u
   DIGIT  (n digits): 100 * ceil(n / 3), i.e. 100 * ((n + 2) // 3)
   CJK    (n): 70 * n
   PUNCT  (n): 85 * (n - 1) if nxt is WORD, else 85 * n
   SYMBOL (n): 125 * n
   SPACE  (n): n == 1: 100 if nxt is DIGIT else 0;
               n >= 2: 100, plus 100 if nxt is DIGIT
4. The estimate is (units + 50) // 100, at least 1 for a non-empty text, and
   0 for the empty text.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

# Han, Hiragana, Katakana, Hangul (inclusive code point ranges, sorted).
CJK_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0x20000, 0x323AF),  # CJK Unified Ideographs Extensions B-H, supplements
)
_CJK_STARTS: Final = tuple(lo for lo, _ in CJK_RANGES)

SPACE, DIGIT, CJK, WORD, PUNCT, SYMBOL = range(6)
NONE: Final = -1

WORD_BASE: Final = 110
WORD_FREE_ASCII: Final = 9
WORD_PER_ASCII: Final = 30
WORD_PER_NON_ASCII: Final = 10
DIGIT_GROUP: Final = 100
CJK_CHAR: Final = 70
PUNCT_CHAR: Final = 85
SYMBOL_CHAR: Final = 125
SPACE_RUN: Final = 100
SPACE_BEFORE_DIGIT: Final = 100
UNITS: Final = 100


def is_cjk(code: int) -> bool:
    """Whether a code point lies in `CJK_RANGES`."""
    i = bisect_right(_CJK_STARTS, code) - 1
    return i >= 0 and code <= CJK_RANGES[i][1]


def char_class(c: str) -> int:
    """The class of one code point (step 1 of the algorithm)."""
    if c.isspace():
        return SPACE
    if c.isdigit():
        return DIGIT
    if is_cjk(ord(c)):
        return CJK
    if c.isalpha():
        return WORD
    return PUNCT if ord(c) < 128 else SYMBOL


# The same classes for ASCII, precomputed: a lookup, not different semantics.
_ASCII_CLASS: Final = tuple(char_class(chr(i)) for i in range(128))


def _run_units(cls: int, n: int, non_ascii: int, nxt: int) -> int:
    if cls == WORD:
        ascii_letters = n - non_ascii
        extra = max(0, ascii_letters - WORD_FREE_ASCII) * WORD_PER_ASCII
        return WORD_BASE + extra + WORD_PER_NON_ASCII * non_ascii
    if cls == DIGIT:
        return DIGIT_GROUP * ((n + 2) // 3)
    if cls == CJK:
        return CJK_CHAR * n
    if cls == PUNCT:
        return PUNCT_CHAR * (n - 1 if nxt == WORD else n)
    if cls == SYMBOL:
        return SYMBOL_CHAR * n
    before_digit = SPACE_BEFORE_DIGIT if nxt == DIGIT else 0
    return before_digit if n == 1 else SPACE_RUN + before_digit


def estimate_tokens(text: str) -> int:
    """Estimate how many BPE tokens `text` is (see the module docstring)."""
    if not text:
        return 0
    units = 0
    cls = NONE
    n = 0
    non_ascii = 0
    for c in text:
        code = ord(c)
        k = _ASCII_CLASS[code] if code < 128 else char_class(c)
        if k != cls:
            if cls != NONE:
                units += _run_units(cls, n, non_ascii, k)
            cls, n, non_ascii = k, 0, 0
        n += 1
        if code >= 128 and k == WORD:
            non_ascii += 1
    units += _run_units(cls, n, non_ascii, NONE)
    return max(1, (units + UNITS // 2) // UNITS)
