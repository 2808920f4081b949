"""Classifier stage, located matches: one pattern's `re.finditer` spans in a
text, searched only where hyperscan says its matches end.

In: a compiled regex, the text, every end offset of every match of the
pattern (ascending, from the bank's scan) or None, and the longest match.
Out: the spans `rx.finditer(text)` yields, in order, computed on demand.

The offsets may instead be the ends of a `marker`, a part of the regex
(regex = prefix + marker + suffix): each match then holds one, and starts
no more than the prefix and marker's longest widths before it and ends no
more than the suffix's after it, two spans that add up to `width`; true ends
are the case of an empty suffix. `last_end` alone needs true ends (contexts
have no marker).

Why this is exact: a match with an offset at p starts at p - width or later,
so no match starts before the first offset less `width`. Offsets closer
together than `width` form a cluster; the next cluster's first offset lies
more than `width` past this one's last, so a match of this cluster (ending
no more than the suffix's width past its last offset) and one of the next
(starting no more than width less that before the next one's first) cannot
overlap: each cluster is searched on its own, from its first offset less
`width`, with `endpos` just past what a match starting inside it can read
(width characters and one of look-around), so `re` sees the text as it is.
A match that starts before the cluster's last offset is the next `finditer`
match; none means the cluster holds no more. Without offsets (too many to
collect), plain `finditer`.

`near_spans` finds the matches of a `near` pattern next to its context
without any ends, where the pattern's alphabet allows (see there).
"""

from __future__ import annotations

import importlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any

from router.classify._native import cluster_firsts, next_near


class Matches:
    """The `finditer` spans of `rx` in `text`, one cluster of ends at a time,
    computed as far as they are asked for (a flood of candidates costs the
    few a capped count looks at, not the whole text)."""

    __slots__ = (
        "_all_ends",
        "_all_starts",
        "_cluster_ends",
        "_done",
        "_firsts",
        "_rest",
        "ends",
        "rx",
        "text",
        "width",
    )

    def __init__(
        self, rx: re.Pattern[str], text: str, ends: list[int] | None, width: int
    ) -> None:
        self.rx = rx
        self.text = text
        self.ends = ends
        self.width = width
        self._cluster_ends: dict[int, list[int]] = {}
        # Without ends: the `finditer` matches so far (starts, ends), the rest.
        self._all_starts: list[int] = []
        self._all_ends: list[int] = []
        self._rest: Iterator[re.Match[str]] | None = None
        self._done = False
        # Where each cluster begins: k where ends[k] - ends[k - 1] > width.
        self._firsts = cluster_firsts(ends, width) if ends else []

    def _every_to(self, at: int) -> None:
        """Take `finditer` matches until one starts past `at` or none is left."""
        if self._done:
            return
        if self._rest is None:
            self._rest = self.rx.finditer(self.text)
        while not self._all_starts or self._all_starts[-1] <= at:
            m = next(self._rest, None)
            if m is None:
                self._done = True
                return
            self._all_starts.append(m.start())
            self._all_ends.append(m.end())

    def _cluster_spans(self, c: int) -> Iterator[tuple[int, int]]:
        """Cluster c's spans, found one `re.search` at a time."""
        ends = self.ends
        assert ends is not None
        first = self._firsts[c]
        last = ends[self._firsts[c + 1] - 1] if c + 1 < len(self._firsts) else ends[-1]
        endpos = min(len(self.text), last + self.width + 1)
        pos = max(0, ends[first] - self.width)
        k = first
        while True:
            while ends[k] <= pos and ends[k] < last:
                k += 1
            if ends[k] <= pos:
                return
            m = self.rx.search(self.text, max(pos, ends[k] - self.width), endpos)
            if m is None or m.start() >= last:
                return
            yield m.span()
            pos = m.end()

    def _ends_of(self, c: int) -> list[int]:
        """Cluster c's match ends, ascending (kept)."""
        ends = self._cluster_ends.get(c)
        if ends is None:
            ends = self._cluster_ends[c] = [e for _, e in self._cluster_spans(c)]
        return ends

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return self.spans()

    def spans(
        self, near: list[int] | None = None, reach: int = 0
    ) -> Iterator[tuple[int, int]]:
        """The spans; given `near` (ascending offsets), only those of clusters
        with a `near` offset at most `reach` before a match in them can start
        (a cluster with none holds no match that close to one)."""
        if self.ends is None:
            yield from (m.span() for m in self.rx.finditer(self.text))
            return
        if near is None:
            for c in range(len(self._firsts)):
                yield from self._cluster_spans(c)
            return
        c = 0
        lead = self.width + reach
        while True:
            c = next_near(self.ends, self._firsts, near, c, lead)
            if c == len(self._firsts):
                return
            yield from self._cluster_spans(c)
            c += 1

    def last_end(self, at: int, window: int) -> int | None:
        """The largest match end at or before `at`, when it is no more than
        `window` before it; else None."""
        if self.ends is None:
            self._every_to(at)
            # Matches do not overlap: their ends ascend as their starts do.
            i = bisect_right(self._all_ends, at) - 1
            end = self._all_ends[i] if i >= 0 else None
            return end if end is not None and at - end <= window else None
        lo = bisect_left(self.ends, at - window)
        hi = bisect_right(self.ends, at)
        if lo >= hi:
            return None
        c = bisect_right(self._firsts, hi - 1) - 1
        while c >= 0:
            found = self._ends_of(c)
            i = bisect_right(found, at) - 1
            if i >= 0:
                return found[i] if at - found[i] <= window else None
            if self._firsts[c] <= lo:
                return None
            c -= 1
        return None


def alphabet(regex: str, flags: int) -> frozenset[str] | None:
    """Every character a match of `regex` can hold, from `re`'s parse tree;
    None when that is unbounded (a negated class, `.`, a category other
    than digits). Look-around and anchors hold no character."""
    parser: Any = importlib.import_module("re._parser")
    c: Any = importlib.import_module("re._constants")
    chars: set[str] = set()

    def add(char: str, fold: bool) -> None:
        chars.update((char, char.lower(), char.upper()) if fold else (char,))

    def walk(tree: Any, fold: bool) -> None:
        for op, av in tree:
            if op is c.LITERAL:
                add(chr(av), fold)
            elif op is c.IN:
                for item, arg in av:
                    if item is c.LITERAL:
                        add(chr(arg), fold)
                    elif item is c.RANGE:
                        for code in range(arg[0], arg[1] + 1):
                            add(chr(code), fold)
                    elif item is c.CATEGORY and arg is c.CATEGORY_DIGIT:
                        chars.update("0123456789")
                    else:
                        raise LookupError(item)
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                walk(av[2], fold)
            elif op is c.SUBPATTERN:
                walk(av[3], fold or bool(av[1] & re.IGNORECASE))
            elif op is c.BRANCH:
                for branch in av[1]:
                    walk(branch, fold)
            elif op is not c.AT:
                raise LookupError(op)

    try:
        walk(parser.parse(regex, flags), bool(flags & re.IGNORECASE))
    except LookupError:
        return None
    return frozenset(chars)


def near_spans(
    rx: re.Pattern[str],
    text: str,
    context_ends: list[int],
    window: int,
    width: int,
    chars: frozenset[str],
    reach: int,
) -> list[tuple[int, int]] | None:
    """The `finditer` spans of `rx` that start at most `window` after one of
    `context_ends` (ascending), found by `re` near those ends alone; None
    when that cannot be done exactly within `reach` (then ask hyperscan).

    Why this is exact: no match of `rx` holds a character outside `chars`
    (its `alphabet`), so none spans a position just after such a character;
    `finditer` from there yields the matches `finditer` from the start
    yields after it (`re` sees the whole text for look-behind and `\\b`).
    Each region a match may start in is searched from the nearest such
    position before it, looked for at most `reach` characters back, up to
    what a match starting in it can read (its longest, `width`, and one
    character of look-around)."""
    regions: list[list[int]] = []
    for end in context_ends:
        if regions and end <= regions[-1][1]:
            regions[-1][1] = end + window
        else:
            regions.append([end, end + window])
    spans: list[tuple[int, int]] = []
    for first, last in regions:
        sync, floor = first, max(0, first - reach)
        while sync > floor and text[sync - 1] in chars:
            sync -= 1
        if sync > 0 and text[sync - 1] in chars:
            return None
        seen = spans[-1][0] if spans else -1
        for m in rx.finditer(text, sync, last + width + 1):
            start = m.start()
            if start > last:
                break
            if start >= first and start > seen:
                spans.append(m.span())
    return spans
