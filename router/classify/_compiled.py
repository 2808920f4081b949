"""Classifier stage, compiled implementation: a decoded request in, the same
`Classification` as `_reference.classify` out, on every input.

The per-request work moves out of Python; what decides stays shared:

1. `_native.gather` (C twin of `_reference.gather`) walks the Structs once:
   the task texts, the token estimate, the facts. `_native.read_body` (twin
   of `body.read_body`) walks the raw body bytes once for the sensitive
   text, which `_native.normalize` (twin of `normalize.normalize`)
   normalises.
2. One hyperscan scan per scope (bank.py: sensitive, task) says which patterns
   match it at all and where the positioned ones' matches end. The `GATED`
   ones (digit-led `near` patterns of the sensitive groups, and those with a
   `gate`) are not in that scan: they are candidates when their keyword or
   gate is present. Only the patterns present are counted: a presence-only
   one counts 1 without `re`; the line-shaped patterns (fences, numbered
   items, lines ending in `;`) and grouped card numbers are counted in C
   (`COUNTED_IN_C`); a `near` pattern whose context is absent
   counts 0; one whose signal already fired in the scope adds nothing and
   is skipped.
3. The rest take their matches from `re`, as the reference's `scan` does,
   but searched only where hyperscan says a match ends (`located.Matches`):
   the spans, checks and `near` windows are the reference's.
4. `assemble.assemble` turns the counts into the `Classification`; the
   stages are a `scanner.Scanner` (`CompiledScanner`), run by the same
   `scanner.classify_with` as the reference's.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final, NamedTuple

from router.classify import _native
from router.classify._reference import _near
from router.classify.assemble import DEFAULT_CONFIG, DEFAULT_UNREADABLE, Gathered
from router.classify.bank import GATED, SCOPES, Bank, keyword_gated, scanned, trigger
from router.classify.checks import CHECKS
from router.classify.ids import ID_CHECKS
from router.classify.kernels import Kernels
from router.classify.located import Matches, alphabet, near_spans
from router.classify.patterns import (
    BANK,
    RE_FLAGS,
    SENSITIVE_GROUPS,
    Pattern,
    is_capped,
    needs_positions,
)
from router.classify.scanner import (
    TASK_GROUPS,
    Budget,
    Scanned,
    Scope,
    classify_with,
)
from router.classify.types import Classification, ClassifierConfig, Unreadable
from router.wire import ChatRequest, ResponsesRequest

# The span-only checks of checks.py, by their index in the C `count_valid`
# (the national identifiers of ids.py follow, in their order).
SPAN_CHECKS: Final = (
    "card", "iban", "ssn", "itin", "phone_intl", "date", "medical_id", *ID_CHECKS
)  # fmt: skip

SpanCheck = Callable[[str, int, int], bool]
# How far back `located.near_spans` looks for a position no match spans.
REACH: Final = 64


class NativeKernels(NamedTuple):
    """The kernels of the C extension, as a `Kernels`."""

    estimate_tokens: Callable[[str], int]
    luhn_ok: Callable[[str], bool]


KERNELS: Final[Kernels] = NativeKernels(_native.estimate_tokens, _native.luhn_ok)


class Plan(NamedTuple):
    """How to count one pattern of the bank (BANK[at]): its compiled regex,
    longest match, check, the BANK index of its `near` context (-1),
    whether the candidate caps bound it, for a sensitive `near` one the
    alphabet of its matches (`located.near_spans`; None: unbounded), and
    whether counting it looks at its matches (`needs_positions`)."""

    at: int
    pattern: Pattern
    rx: re.Pattern[str]
    width: int
    check: SpanCheck | None
    context: int
    capped: bool
    chars: frozenset[str] | None
    positions: bool


def _span_check(kind: int) -> SpanCheck:
    return lambda text, start, end: _native.count_valid(kind, [text[start:end]], 1) > 0


def _python_check(name: str) -> SpanCheck:
    check = CHECKS[name]
    return lambda text, start, end: check(text, start, end, KERNELS)


def _check(validator: str | None) -> SpanCheck | None:
    if validator is None:
        return None
    if validator in SPAN_CHECKS:
        return _span_check(SPAN_CHECKS.index(validator))
    if validator == "jwt":
        return lambda text, start, end: _native.check_jwt(text, start)
    return _python_check(validator)


def _longest(regex: str) -> int:
    """The longest match of a bounded regex, from `re`'s own parser."""
    parser: Any = importlib.import_module("re._parser")
    return int(parser.parse(regex, RE_FLAGS).getwidth()[1])


def _plans(groups: frozenset[str]) -> tuple[Plan, ...]:
    """The patterns of `groups`: presence-only ones first (they are cheap and
    may fire a signal that makes a costly one moot), in BANK order."""
    index = {p.name: i for i, p in enumerate(BANK)}
    plans = [
        Plan(
            i,
            p,
            re.compile(p.regex, RE_FLAGS),
            _longest(p.regex),
            _check(p.validator),
            index[p.near] if p.near is not None else -1,
            is_capped(p),
            alphabet(p.regex, RE_FLAGS) if keyword_gated(p) else None,
            needs_positions(p),
        )
        for i, p in enumerate(BANK)
        if p.group in groups or p.group == "context"
    ]
    return tuple(sorted(plans, key=lambda plan: needs_positions(plan.pattern)))


_ALL_PLANS: Final = _plans(SENSITIVE_GROUPS | TASK_GROUPS)
_SCANNED: Final = {scope: tuple(scanned(p, scope) for p in BANK) for scope in SCOPES}
_PLAN_BY_INDEX: Final = {plan.at: plan for plan in _ALL_PLANS}
# The `GATED` patterns (not in the scope databases), by the database id
# whose presence makes them candidates (`bank.trigger`).
GATED_BY_TRIGGER: Final = {
    t: tuple(p.at for p in _ALL_PLANS if p.pattern.name in GATED and trigger(p.at) == t)
    for t in sorted({trigger(p.at) for p in _ALL_PLANS if p.pattern.name in GATED})
}
TRIGGERS: Final = frozenset(GATED_BY_TRIGGER)
# Position in _ALL_PLANS (presence-only first) per BANK index, by scope.
SENSITIVE_ORDER: Final = {
    p.at: k for k, p in enumerate(_ALL_PLANS) if p.pattern.group in SENSITIVE_GROUPS
}
TASK_ORDER: Final = {
    p.at: k for k, p in enumerate(_ALL_PLANS) if p.pattern.group in TASK_GROUPS
}
ORDERS: Final[dict[Scope, dict[int, int]]] = {
    "sensitive": SENSITIVE_ORDER,
    "task": TASK_ORDER,
}


class _Scope:
    """One scope's text, its hyperscan buffer and what hyperscan said of it:
    the patterns present and, unless the scan gave up, every end of the
    matches of the patterns the scope's scan database collects."""

    def __init__(self, bank: Bank, name: str, text: str) -> None:
        self.bank = bank
        self.text = text
        self.buffer = _native.Utf8(text)
        found, self.flooded = bank.scan(name, self.buffer, text)
        # Per BANK index: whether the scan collected every end (it gave up: none).
        self.collected = _SCANNED[name] if found is not None else None
        self.found = found or {}
        self.present = (
            found.keys() if found is not None else bank.present(name, self.buffer, text)
        )
        self.contexts: dict[int, Matches] = {}
        self.scanned: dict[int, list[int] | None] = {}

    def ends(self, index: int) -> list[int] | None:
        """Every end of BANK[index]'s matches, or for a pattern with a
        `marker` every end of the marker's (None: too many to collect)."""
        if self.collected is not None and self.collected[index]:
            return self.found.get(index, [])
        if index in self.flooded:
            return None
        if index not in self.scanned:
            self.scanned[index] = self.bank.ends(index, self.buffer, self.text)
        return self.scanned[index]

    def near(self, plan: Plan, start: int) -> bool:
        """The reference's `_near` for a match of `plan` at `start`."""
        context = self.contexts.get(plan.context)
        if context is None:
            of = _PLAN_BY_INDEX[plan.context]
            ends = self.ends(plan.context)
            context = self.contexts[plan.context] = Matches(
                of.rx, self.text, ends, of.width
            )
        end = context.last_end(start, plan.pattern.window)
        return end is not None and _near(self.text, start, plan.pattern, [end])

    def count(self, plan: Plan, budget: Budget) -> int:
        """The reference's count of one pattern present in the text; a capped
        one takes its candidates from `budget`, as the reference's does."""
        p = plan.pattern
        if p.counting == "lines":
            limit = sys.maxsize if p.every else p.min_count
            return _native.count_lines(self.text, p.shape, limit)
        if p.counting == "card_groups":
            return _native.count_card_groups(self.text, p.min_count, True)
        if not plan.positions:
            return 1
        if plan.context >= 0 and plan.context not in self.present:
            return 0
        near = self.ends(plan.context) if plan.context >= 0 else None
        spans: Iterable[tuple[int, int]] | None = None
        if plan.chars is not None and near is not None:
            spans = near_spans(
                plan.rx, self.text, near, p.window, plan.width, plan.chars, REACH
            )
        if spans is None:
            matches = Matches(plan.rx, self.text, self.ends(plan.at), plan.width)
            spans = matches.spans(near, p.window)
        capped = plan.capped
        count = checked = 0
        for start, end in spans:
            if plan.context >= 0 and not self.near(plan, start):
                continue
            if capped:
                checked += 1
                if not budget.take(p, checked):
                    return p.min_count
            if plan.check is not None and not plan.check(self.text, start, end):
                continue
            count += 1
            if count >= p.min_count and not p.every:
                break
        return count


def _counts(scope: _Scope, order: dict[int, int]) -> Scanned:
    """Pattern name -> count for the scope's patterns and the caps hit, as
    `_reference.scan` gives them (it too skips a pattern whose signal had
    already fired)."""
    counts: dict[str, int] = {}
    fired: set[str] = set()
    budget = Budget()
    candidates: Iterable[int] = scope.present
    if not TRIGGERS.isdisjoint(scope.present):
        candidates = [*candidates]
        for present_id in TRIGGERS.intersection(scope.present):
            candidates += GATED_BY_TRIGGER[present_id]
    for k in sorted(order[i] for i in candidates if i in order):
        plan = _ALL_PLANS[k]
        p = plan.pattern
        if (p.signal in fired and not p.every) or (plan.capped and budget.spent):
            continue
        count = scope.count(plan, budget)
        if count:
            counts[p.name] = count
            if count >= p.min_count:
                fired.add(p.signal)
    return Scanned(counts, tuple(budget.limits))


class CompiledScanner:
    """The compiled stages as a `scanner.Scanner`: the C twins and the bank."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    def gather(self, request: ChatRequest | ResponsesRequest, /) -> Gathered:
        return Gathered._make(_native.gather(request, isinstance(request, ChatRequest)))

    def read_body(self, body: bytes, /) -> tuple[str, int]:
        return _native.read_body(body)

    def normalize(self, text: str, /) -> str:
        return _native.normalize(text)

    def scan(self, text: str, scope: Scope, /) -> Scanned:
        return _counts(_Scope(self.bank, scope, text), ORDERS[scope])


class Compiled:
    """The compiled classifier over one loaded bank (the `classify` callable
    `router.classify` selects)."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.scanner = CompiledScanner(bank)

    def __call__(
        self,
        request: ChatRequest | ResponsesRequest,
        *,
        body: bytes | None = None,
        config: ClassifierConfig = DEFAULT_CONFIG,
        sensitivity_hint: str | None = None,
        unreadable: Unreadable = DEFAULT_UNREADABLE,
    ) -> Classification:
        return classify_with(
            self.scanner,
            request,
            body=body,
            config=config,
            sensitivity_hint=sensitivity_hint,
            unreadable=unreadable,
        )


def load(cache_dir: Path | None = None) -> Compiled:
    """The compiled classifier, its bank loaded from the cache or compiled."""
    return Compiled(Bank.load(cache_dir))
