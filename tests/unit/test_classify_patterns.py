"""The pattern bank: well-formed records, hyperscan-compatible, and the same
match/no-match answer from hyperscan and Python `re`."""

from __future__ import annotations

import re
from pathlib import Path

import hyperscan
import msgspec
import pytest

from router.classify.checks import CHECKS
from router.classify.patterns import BANK, BY_NAME, HS_FLAG_NAMES, RE_FLAGS, Pattern

DATA = Path(__file__).resolve().parents[1] / "data" / "classify"
GROUPS = {"high", "medium", "context", "code", "reasoning", "time", "tool"}
SIGNAL_PREFIX = {
    "high": ("secret:", "pii:", "phi:"),
    "medium": ("pii:",),
    "code": ("code:",),
    "reasoning": ("reasoning:",),
    "time": ("time:",),
    "tool": ("code:", "task:"),
}
FORBIDDEN_RAW = {
    "lookahead": r"\(\?[=!]",
    "lookbehind": r"\(\?<[=!]",
    "atomic group": r"\(\?>",
    "backreference": r"\\[1-9]",
    "end of subject": r"\\Z",
}
# Checked on the regex with escapes and character classes removed.
FORBIDDEN_SKELETON = {
    "possessive quantifier": r"[*+?}]\+",
    "unbounded repeat": r"[*+]|\{[0-9]+,\}",
}


def skeleton(regex: str) -> str:
    """The regex without escaped characters and bracketed classes."""
    out: list[str] = []
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            i += regex.startswith("^", i)
            i += regex.startswith("]", i)
            while regex[i] != "]":
                i += 2 if regex[i] == "\\" else 1
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def hs_flags() -> int:
    flags = 0
    for name in HS_FLAG_NAMES:
        flags |= getattr(hyperscan, name)
    return flags


def test_skeleton_drops_escapes_and_classes() -> None:
    assert skeleton(r"a[+*]\+b[^]x]c[]d]e{1,2}") == "abce{1,2}"
    assert re.search(FORBIDDEN_SKELETON["unbounded repeat"], skeleton("a+"))


def test_ids_and_names_are_unique() -> None:
    assert len({p.id for p in BANK}) == len(BANK)
    assert len(BY_NAME) == len(BANK)


@pytest.mark.parametrize("pattern", BANK, ids=lambda p: p.name)
def test_record_is_consistent(pattern: Pattern) -> None:
    assert pattern.group in GROUPS
    assert pattern.validator is None or pattern.validator in CHECKS
    if pattern.group == "context":
        assert not pattern.signal and pattern.near is None
    else:
        assert pattern.signal.startswith(SIGNAL_PREFIX[pattern.group])
    if pattern.near is not None:
        assert BY_NAME[pattern.near].group == "context"
        assert pattern.window > 0
    assert pattern.min_count >= 1


@pytest.mark.parametrize("pattern", BANK, ids=lambda p: p.name)
def test_regex_keeps_to_the_common_subset(pattern: Pattern) -> None:
    for what, construct in FORBIDDEN_RAW.items():
        assert not re.search(construct, pattern.regex), f"{what} in {pattern.name}"
    bare = skeleton(pattern.regex)
    for what, construct in FORBIDDEN_SKELETON.items():
        assert not re.search(construct, bare), f"{what} in {pattern.name}"
    assert re.compile(pattern.regex, RE_FLAGS).match("") is None, "matches empty"


@pytest.fixture(scope="module")
def database() -> hyperscan.Database:
    """The whole bank in one block-mode database; compile errors fail here."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[p.regex.encode() for p in BANK],
        ids=[p.id for p in BANK],
        elements=len(BANK),
        flags=[hs_flags()] * len(BANK),
    )
    return db


def test_whole_bank_compiles_into_one_hyperscan_database(
    database: hyperscan.Database,
) -> None:
    assert database.info()


def _corpus() -> list[str]:
    rows = (DATA / "sensitivity.jsonl").read_bytes().splitlines()
    texts = [msgspec.json.decode(r)["text"] for r in rows if r]
    texts += (DATA / "code_samples.txt").read_text().split("\n=====\n")
    return [*texts, "naïve café 中文 078-05-1123 ünïcödé@exämple.org", ""]


def test_hyperscan_and_re_agree_on_which_patterns_match(
    database: hyperscan.Database,
) -> None:
    """The compiled classifier may ask the database which patterns match at
    all and run `re` only for those: the two engines must agree on that."""
    compiled = {p.id: re.compile(p.regex, RE_FLAGS) for p in BANK}
    for text in _corpus():
        reported: set[int] = set()
        if text:
            database.scan(
                text.encode(),
                match_event_handler=lambda pid, *_, seen=reported: seen.add(pid),
            )
        expected = {pid for pid, rx in compiled.items() if rx.search(text)}
        assert reported == expected, text
