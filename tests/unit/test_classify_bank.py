"""The hyperscan bank and the located matches built on it: the cache, the
scan answers, and `Matches` giving exactly `re.finditer`'s spans.

Skipped when the extension or hyperscan is not available.
"""

from __future__ import annotations

import importlib
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("router.classify._native")
pytest.importorskip("hyperscan")

import re

from router.classify import _native, bank
from router.classify._compiled import _ALL_PLANS, _longest
from router.classify.located import Matches, near_spans
from router.classify.patterns import BANK, BY_NAME, RE_FLAGS
from tests.unit.test_classify_diff import random_text


@pytest.fixture(scope="module")
def loaded() -> bank.Bank:
    return bank.Bank.load()


def cached_file() -> Path:
    return bank.default_cache_dir() / f"bank-{bank.cache_key()}.msgpack"


def test_counted_in_c_needs_no_positions() -> None:
    for name in bank.COUNTED_IN_C:
        i = bank.BY_NAME_INDEX[name]
        assert not bank.positioned(BANK[i]) and f"pos:{i}" not in bank.PLAN
        assert not any(bank.scanned(BANK[i], scope) for scope in bank.SCOPES)


def test_plan_covers_every_positioned_pattern() -> None:
    for i, p in enumerate(BANK):
        assert (f"pos:{i}" in bank.PLAN) == bank.positioned(p)
        for scope in bank.SCOPES:
            assert not bank.scanned(p, scope) or bank.positioned(p)
    assert set(bank.PLAN) >= {"sensitive", "task", "sensitive:presence"}
    assert all(name.startswith(("sensitive", "task", "pos:")) for name in bank.PLAN)


def test_gated_patterns_wait_for_their_keyword() -> None:
    gated = {p.name for p in BANK if p.near and p.group in ("high", "medium")}
    assert gated | {p.name for p in BANK if p.gate} == bank.GATED
    gated -= {p.name for p in BANK if p.gate}
    assert {"ssn_keyword_digits", "passport_number"} <= gated
    for scope, members in bank.MEMBERS.items():
        assert not members & gated, scope
        assert all(
            BY_NAME[name].near in members
            for name in gated
            if BY_NAME[name].group in bank.SCOPES[scope]
        )


def gate_texts() -> list[str]:
    from tests.unit.test_classify_diff import FRAGMENTS

    rng = random.Random(11)
    joined = ["".join(rng.choice(FRAGMENTS) for _ in range(8)) for _ in range(2000)]
    return [*scope_texts(5), *FRAGMENTS, *joined]


def test_every_match_holds_its_gate() -> None:
    gated = [p for p in BANK if p.gate is not None]
    assert gated
    for p in gated:
        rx, gate = re.compile(p.regex, RE_FLAGS), re.compile(p.gate or "", RE_FLAGS)
        seen = 0
        for text in gate_texts():
            for m in rx.finditer(text):
                seen += 1
                assert gate.search(text, m.start(), m.end()), (p.name, m.group())
        assert seen > 50, p.name


def test_a_marker_is_a_part_of_the_regex() -> None:
    """regex = prefix + marker + suffix, each a regex on its own, the whole
    not an alternation at its top level and the marker never empty: every
    match of the regex holds a match of the marker, which ends after the
    match starts and no later than it ends."""
    parser = importlib.import_module("re._parser")
    marked = [p for p in BANK if p.marker is not None]
    assert {"email", "sql_from"} <= {p.name for p in marked}
    for p in marked:
        assert p.marker and p.marker in p.regex, p.name
        at = p.regex.index(p.marker)
        for part in (p.regex[:at], p.marker, p.regex[at + len(p.marker) :]):
            re.compile(part, RE_FLAGS)
        ops = [op for op, _ in parser.parse(p.regex, RE_FLAGS)]
        assert ops and ops != [parser.BRANCH], p.name
        assert parser.parse(p.marker, RE_FLAGS).getwidth()[0] >= 1, p.name
        # No global inline flag in the prefix that the marker would not have.
        flags = re.compile(p.regex, RE_FLAGS).flags
        assert flags == re.compile(p.marker, RE_FLAGS).flags, p.name
        # Offsets inside a match will do for spans, not for a context's ends.
        assert bank.needs_positions(p) and p.name not in bank.NEAR_TARGETS, p.name


def test_every_match_holds_its_marker() -> None:
    for p in (p for p in BANK if p.marker is not None):
        rx, marker = re.compile(p.regex, RE_FLAGS), re.compile(p.marker or "", RE_FLAGS)
        seen = 0
        for text in gate_texts():
            for m in rx.finditer(text):
                seen += 1
                ends = {n.end() for n in marker.finditer(text, m.start(), m.end() + 1)}
                assert any(m.start() < e <= m.end() for e in ends), (p.name, m.group())
        assert seen > 50, p.name


def test_cache_dir_from_environment(tmp_path: Path) -> None:
    assert bank.default_cache_dir({"LLR_CACHE_DIR": str(tmp_path)}) == tmp_path
    xdg = bank.default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)})
    assert xdg == tmp_path / "local-llm-router"


def test_load_reads_the_cache(
    loaded: bank.Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(cached_file(), tmp_path / cached_file().name)

    def no_compiling(*_: object) -> None:
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(bank, "compile_database", no_compiling)
    text = "mail a@example.org"
    restored = bank.Bank.load(tmp_path)
    buffer = _native.Utf8(text)
    assert restored.scan("sensitive", buffer, text) == loaded.scan(
        "sensitive", buffer, text
    )


@pytest.mark.parametrize("content", [b"", b"\x00garbage"])
def test_unusable_cache_means_compiling(
    content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / cached_file().name).write_bytes(content)
    compiled: list[str] = []
    real = bank.compile_database

    def small(ids: tuple[int, ...], flags: tuple[int, ...]) -> object:
        compiled.append("x")
        return real(ids[:1], flags[:1])

    monkeypatch.setattr(bank, "compile_database", small)
    bank.Bank.load(tmp_path)
    assert len(compiled) == len(bank.PLAN)
    assert (tmp_path / cached_file().name).stat().st_size > 100  # rewritten


def test_unwritable_cache_dir_still_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    real = bank.compile_database
    monkeypatch.setattr(
        bank, "compile_database", lambda ids, flags: real(ids[:1], flags[:1])
    )
    assert bank.Bank.load(Path("/proc/no-such-dir"))


def scope_texts(seed: int) -> list[str]:
    """Random texts, half of them folded to ASCII."""
    rng = random.Random(seed)
    texts = [random_text(rng, rng.choice([50, 400, 3000])) for _ in range(60)]
    texts[::2] = [text.encode("ascii", "ignore").decode() for text in texts[::2]]
    return [*texts, "", "\ud800 4111 1111 1111 1111 中 a@b.io"]


@pytest.mark.parametrize("scope", bank.SCOPES)
def test_scan_and_presence_agree_with_re(loaded: bank.Bank, scope: str) -> None:
    """Present: the pattern (its marker, for one with a marker) matches;
    every end of a `scanned` pattern's matches (or of its marker's, one
    inside each match) is reported."""
    compiled = {i: re.compile(p.regex, RE_FLAGS) for i, p in enumerate(BANK)}
    looked_for = {
        i: re.compile(p.marker or p.regex, RE_FLAGS) for i, p in enumerate(BANK)
    }
    gates = {i: re.compile(p.gate, RE_FLAGS) for i, p in enumerate(BANK) if p.gate}
    for text in scope_texts(len(scope)):
        buffer = _native.Utf8(text)
        want = {
            i for i in compiled if BANK[i].name in bank.MEMBERS[scope]
            and looked_for[i].search(text)
        } | {
            bank.gate_id(i) for i, rx in gates.items()
            if BANK[i].group in bank.SCOPES[scope] and rx.search(text)
        }  # fmt: skip
        assert loaded.present(scope, buffer, text) == want
        found, flooded = loaded.scan(scope, buffer, text)
        assert found is not None and set(found) == want and not flooded
        for i, ends in found.items():
            if i < len(BANK) and bank.scanned(BANK[i], scope):
                for m in compiled[i].finditer(text):
                    assert any(m.start() < e <= m.end() for e in ends)
                assert ends == sorted(set(ends))


# Text put before and after a pattern's own matches: line starts after long
# and short lines (hyperscan 0.9.1 once missed `^[ \t]{0,16}def` after a line
# of 16 characters or more), blanks, words, and non-ASCII or not.
AROUND_BEFORE = [
    "",
    "x" * 16 + "\n",
    "x" * 40 + "\n",
    "é" * 16 + "\n",
    " " * 20 + "\n",
    "word " * 5,
]
AROUND_AFTER = ["", "\n", " x", "é"]


@pytest.mark.parametrize("index", [i for i, p in enumerate(BANK) if p.group != "tool"])
def test_databases_find_each_patterns_own_matches(
    loaded: bank.Bank, index: int
) -> None:
    """Texts built around matches of the pattern itself (hypothesis draws
    them from the regex), once or twice: every scope database that holds it
    says it is present exactly when `re` finds it (its marker, for one with
    a marker; its gate, for one with a gate), and every database that
    locates it reports an end inside each of `re`'s matches."""
    p = BANK[index]
    rx = re.compile(p.regex, RE_FLAGS)
    looked_for = re.compile(p.gate or p.marker or p.regex, RE_FLAGS)
    db_id = bank.gate_id(index) if p.gate else index
    scopes = [
        scope
        for scope, groups in bank.SCOPES.items()
        if p.name in bank.MEMBERS[scope] or (p.gate and p.group in groups)
    ]

    def located(ends: list[int], text: str) -> bool:
        return all(
            any(m.start() < e <= m.end() for e in ends) for m in rx.finditer(text)
        )

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.from_regex(rx, fullmatch=True, alphabet=st.characters(max_codepoint=127)))
    def check(sample: str) -> None:
        for before in AROUND_BEFORE:
            for after in AROUND_AFTER:
                for text in (before + sample + after, before + sample + " \n" + sample):
                    want = looked_for.search(text) is not None
                    buffer = _native.Utf8(text)
                    for scope in scopes:
                        assert (db_id in loaded.present(scope, buffer, text)) == want
                        found = loaded.scan(scope, buffer, text).found
                        assert found is not None and (db_id in found) == want, text
                        if bank.scanned(p, scope):
                            assert located(found.get(index, []), text), (scope, text)
                    if bank.positioned(p):
                        ends = loaded.ends(index, buffer, text)
                        assert ends is not None and located(ends, text), text

    check()


def test_matches_are_finditer(loaded: bank.Bank) -> None:
    positioned = [p for p in _ALL_PLANS if bank.positioned(p.pattern)]
    for text in scope_texts(3):
        buffer = _native.Utf8(text)
        for plan in positioned:
            ends = loaded.ends(plan.at, buffer, text)
            want = [m.span() for m in plan.rx.finditer(text)]
            matches = Matches(plan.rx, text, ends, plan.width)
            assert list(matches) == want, (plan.pattern.name, text)
            if plan.pattern.marker is not None:
                continue  # offsets inside matches: no `last_end` (no context)
            for at in range(0, len(text) + 1, 7):
                before = [e for _, e in want if e <= at]
                expected = before[-1] if before and at - before[-1] <= 40 else None
                assert matches.last_end(at, 40) == expected


NEAR_PLANS = [p for p in _ALL_PLANS if p.chars is not None]


@pytest.mark.parametrize("plan", NEAR_PLANS, ids=lambda p: p.pattern.name)
def test_near_spans_are_the_finditer_spans_near_the_context(plan: Any) -> None:
    """`near_spans`, from `re` around the context's ends alone, is every
    `finditer` span that starts at most `window` after one of them (or
    None, when no position free of the pattern's alphabet is in reach)."""
    p = plan.pattern
    context = re.compile(BY_NAME[p.near].regex, RE_FLAGS)
    keyword = _sample_of(context)
    pieces = [keyword, " ", "-", ".", "(", ")", "\n", "x", "A", "1", "7", "0", "12 ",
              "4111 1111 1111 1111", "123456789", "AB", "; "]  # fmt: skip

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(pieces), max_size=40))
    def check(parts: list[str]) -> None:
        text = "".join(parts)
        ends = [m.end() for m in context.finditer(text)]
        got = near_spans(plan.rx, text, ends, p.window, plan.width, plan.chars, 64)
        if got is None:
            return
        regions = [(e, e + p.window) for e in ends]
        want = [
            m.span()
            for m in plan.rx.finditer(text)
            if any(a <= m.start() <= b for a, b in regions)
        ]
        assert got == want, text

    check()


def _sample_of(rx: re.Pattern[str]) -> str:
    """A short match of a keyword regex (its first branch, as written)."""
    for word in ("sin", "dea", "aadhaar", "cpr", "call", "member id", "mrn", "ssn",
                 "itin", "passport", "nhs", "bsn", "pesel", "routing", "npi",
                 "account number", "sort code", "driver's license", "private key",
                 "patient Smith", "my brother", "medicare", "tfn", "cpf", "cnpj",
                 "rrn", "steuer-id", "personnummer", "rijksregisternummer"):  # fmt: skip
        if rx.fullmatch(word):
            return word
    raise AssertionError(rx.pattern)


def test_matches_without_ends_is_plain_finditer() -> None:
    rx = re.compile(r"\b[0-9]{3}\b", RE_FLAGS)
    text = "123 4567 890 12 345"
    matches = Matches(rx, text, None, 3)
    assert list(matches) == [(0, 3), (9, 12), (16, 19)]
    assert matches.last_end(14, 5) == 12
    assert matches.last_end(18, 5) is None


def test_longest_match_is_re_width() -> None:
    assert _longest(r"a{2,5}b?") == 6
    assert all(0 < _longest(p.regex) < 400 for p in BANK)


def test_position_scan_gives_up_past_the_cap(loaded: bank.Bank) -> None:
    index = next(i for i, p in enumerate(BANK) if p.name == "card_compact")
    text = "4111111111111111 " * 50
    buffer = _native.Utf8(text)
    assert loaded.ends(index, buffer, text)
    assert loaded.scan("sensitive", buffer, text).found is not None
    small = bank.Bank(loaded._databases, bank.Limits(max_ends=5, scan_reports=8))
    assert small.ends(index, buffer, text) is None
    assert small.scan("sensitive", buffer, text) == (None, frozenset({index}))
