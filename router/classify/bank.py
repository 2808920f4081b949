"""Classifier stage, hyperscan pattern bank: a text in, which patterns match it
and where their matches end out.

Built once per process from `patterns.BANK`, the single source of truth (the
reference runs the same records with Python `re`). A pattern hyperscan does
not report does not match the text at all (hyperscan and `re` agree on that,
tests/unit/test_classify_patterns.py). Each scope - "sensitive" (high,
medium) and "task" (code, reasoning, time), each with the contexts its
`near` patterns name, less the `GATED`
ones (the sensitive `near` patterns, scanned for only when their keyword is
present, and the patterns with a `gate`, whose gate the databases hold
instead) - has two databases:

- the scan database: the positioned patterns (those whose matches must be
  looked at: a check, a `near` or the context of one, a count) without
  HS_FLAG_SINGLEMATCH, so every end offset of each of their matches is
  reported: the ends `re`'s matches must have; the others (and the
  `ON_DEMAND` ones) with it. One scan per text, halted past a number of
  reports that grows with the text, when
- the presence database (every pattern single-match) takes over.

A pattern with a `marker` is looked for by its marker in every database: a
marker's match ends inside each of the pattern's matches, its presence says
the pattern may match, and `re` decides (`located.Matches` takes such points
in place of the ends).

Each positioned pattern also has a position database of its own, scanned on
demand when the scan database did not collect its ends.

Flags are HS_FLAG_UTF8 and HS_FLAG_MULTILINE; offsets come back in code
points of the scanned str. Compiling takes seconds (the databases compile
in parallel, one thread per CPU: hyperscan's compiler releases the GIL), so
the serialized databases are cached on disk, keyed by a hash of the
regexes, the flags and the hyperscan version, in LLR_CACHE_DIR, else
$XDG_CACHE_HOME/local-llm-router, else ~/.cache/local-llm-router; a
missing, stale, corrupt or unwritable cache means compiling, never failing.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import platform
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, NamedTuple, cast

import hyperscan
import msgspec

from router.classify import _native
from router.classify.patterns import BANK, Pattern, needs_positions

log = logging.getLogger(__name__)

# Scope -> the groups it counts; its databases hold those patterns and the
# contexts their `near` names.
SCOPES: Final[Mapping[str, frozenset[str]]] = {
    "sensitive": frozenset({"high", "medium"}),
    "task": frozenset({"code", "reasoning", "time"}),
}
# Patterns a C counter counts over the whole text, without hyperscan's
# positions (`Pattern.counting`): the line shapes (fences are counted whole;
# the others, to a `min_count` above one, would have hyperscan report every
# end through a Python call) and the grouped card numbers (a run of digit
# groups is thousands of candidates whose ends would flood the scan).
COUNTED_IN_C: Final = frozenset(p.name for p in BANK if p.counting != "re")


class Limits(NamedTuple):
    """How many match ends a scan may report (each is a Python call of the
    match handler) before it gives up.

    A position scan stops past `max_ends` and `Bank.ends` returns None: the
    caller then takes `re`'s matches one by one, as many as it looks at. A
    scope's scan database reports at most `scan_reports` + len(text) //
    `per_report[scope]` ends before the presence database takes over: real
    text reports far fewer (1 MB of prose or code: under 1,000 sensitive
    and 5,000 task ends), a candidate flood reaches the cap early and stops
    paying for the calls.
    """

    max_ends: int = 2048
    scan_reports: int = 256
    per_report: tuple[tuple[str, int], ...] = (("sensitive", 512), ("task", 64))


LIMITS: Final = Limits()


_UTF8: Final = hyperscan.HS_FLAG_UTF8
_FLAGS: Final = _UTF8 | hyperscan.HS_FLAG_MULTILINE
_PRESENCE_FLAGS: Final = _FLAGS | hyperscan.HS_FLAG_SINGLEMATCH
_FORMAT: Final = 1

Handler = Callable[[int, int, int, int, object], bool | None]


class Scan(NamedTuple):
    """A scan database's answer: `found` (None when it gave up) and, then,
    the patterns whose ends flooded it (counted without positions)."""

    found: dict[int, list[int]] | None
    flooded: frozenset[int]


NEAR_TARGETS: Final = frozenset(p.near for p in BANK if p.near is not None)


def positioned(pattern: Pattern) -> bool:
    """Whether the classifier asks hyperscan for every end of its matches
    (those `COUNTED_IN_C` need no positions)."""
    return pattern.name not in COUNTED_IN_C and (
        needs_positions(pattern) or pattern.name in NEAR_TARGETS
    )


# The sensitive scope's `near` patterns wait on rare keywords (SSN, MRN,
# member ID, a patient's name) and match most numbers: the scan database
# reports every end of the keyword (rare in real text, so few calls), and the
# pattern is looked for when a keyword is present.
def keyword_gated(pattern: Pattern) -> bool:
    """A `near` pattern of the sensitive scope."""
    return pattern.near is not None and pattern.group in SCOPES["sensitive"]


ON_DEMAND: Final = frozenset(p.name for p in BANK if keyword_gated(p))


# Those `near` patterns are not in the scope databases at all: they are
# digit-led (costly in every scan, bench/README.md) and count 0 unless their
# keyword is present; `located.near_spans` mostly finds them with `re` next
# to the keyword alone. Neither are the patterns with a `gate`:
# the databases hold the gate (single-match, under the id `gate_id`) and
# the pattern is looked for only when the gate is present.
GATED: Final = frozenset(p.name for p in BANK if keyword_gated(p) or p.gate is not None)


BY_NAME_INDEX: Final = {p.name: i for i, p in enumerate(BANK)}


def gate_id(index: int) -> int:
    """The database id of BANK[index]'s gate (past every BANK index)."""
    return len(BANK) + index


def trigger(index: int) -> int:
    """The database id whose presence makes the `GATED` BANK[index] a
    candidate: its gate, else its `near` context."""
    p = BANK[index]
    if p.gate is not None:
        return gate_id(index)
    assert p.near is not None
    return BY_NAME_INDEX[p.near]


def expression(db_id: int) -> str:
    """The regex behind a database id: a BANK pattern's (its marker, if it
    has one) or a gate."""
    if db_id < len(BANK):
        return BANK[db_id].marker or BANK[db_id].regex
    gate = BANK[db_id - len(BANK)].gate
    assert gate is not None
    return gate


def _members(groups: frozenset[str]) -> frozenset[str]:
    """The patterns of a scope's databases: those of its groups and the
    contexts their `near` names, less the `GATED` ones."""
    counted = [p for p in BANK if p.group in groups]
    names = frozenset(p.name for p in counted) | {p.near for p in counted if p.near}
    return names - GATED


MEMBERS: Final = {scope: _members(groups) for scope, groups in SCOPES.items()}


def scanned(pattern: Pattern, scope: str) -> bool:
    """Whether the scope's scan database reports every end of the pattern's
    matches: a positioned pattern of the scope's groups, or the context of
    one, unless it is `ON_DEMAND`."""
    member = pattern.name in MEMBERS[scope]
    return member and positioned(pattern) and pattern.name not in ON_DEMAND


def _plan() -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Database name -> (the ids compiled into it: BANK indexes and
    `gate_id`s, their flags)."""
    plan: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for scope, members in MEMBERS.items():
        ids = tuple(i for i, p in enumerate(BANK) if p.name in members)
        gates = tuple(
            gate_id(i)
            for i, p in enumerate(BANK)
            if p.gate is not None and p.group in SCOPES[scope]
        )
        scan = [_FLAGS if scanned(BANK[i], scope) else _PRESENCE_FLAGS for i in ids]
        flags = (*scan, *(_PRESENCE_FLAGS,) * len(gates))
        presence = (_PRESENCE_FLAGS,) * len(ids + gates)
        for name, of in ((scope, flags), (f"{scope}:presence", presence)):
            plan[name] = ids + gates, of
    for i, p in enumerate(BANK):
        if positioned(p):
            plan[f"pos:{i}"] = (i,), (_FLAGS,)
    return plan


PLAN: Final = _plan()


def cache_key() -> str:
    """Hash of everything a serialized database depends on."""
    material = msgspec.json.encode(
        [
            _FORMAT,
            importlib.metadata.version("hyperscan"),
            platform.machine(),
            [[p.regex, p.gate, p.marker] for p in BANK],
            sorted(
                (name, list(ids), list(flags)) for name, (ids, flags) in PLAN.items()
            ),
        ]
    )
    return hashlib.sha256(material).hexdigest()[:24]


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get("LLR_CACHE_DIR"):
        return Path(environ["LLR_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "local-llm-router"


def compile_database(
    ids: tuple[int, ...], flags: tuple[int, ...]
) -> hyperscan.Database:
    """One block-mode database of the given ids (`expression`)."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[expression(i).encode() for i in ids],
        ids=list(ids),
        elements=len(ids),
        flags=list(flags),
    )
    return db


def _read_cache(path: Path) -> dict[str, hyperscan.Database] | None:
    try:
        blobs = msgspec.msgpack.decode(path.read_bytes(), type=dict[str, bytes])
        if set(blobs) != set(PLAN):
            return None
        return {
            name: hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
            for name, blob in blobs.items()
        }
    except (OSError, msgspec.DecodeError, hyperscan.HyperscanError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.info("hyperscan cache %s unusable (%s); recompiling", path, exc)
        return None


def _write_cache(path: Path, databases: Mapping[str, hyperscan.Database]) -> None:
    blobs = {name: hyperscan.dumpb(db) for name, db in databases.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bank-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(msgspec.msgpack.encode(blobs))
        os.replace(tmp, path)
        for stale in path.parent.glob("bank-*.msgpack"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        log.info("hyperscan cache %s not written (%s)", path, exc)


def build() -> dict[str, hyperscan.Database]:
    """Every database of `PLAN`, compiled one per thread and CPU (the
    scope databases, the costly ones, first)."""
    order = sorted(PLAN, key=lambda name: name.startswith("pos:"))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = {name: pool.submit(compile_database, *PLAN[name]) for name in order}
        return {name: jobs[name].result() for name in PLAN}


class Bank:
    """The compiled databases of `PLAN` plus one scratch per thread and
    database (hyperscan scratch must not be shared by concurrent scans)."""

    def __init__(
        self, databases: Mapping[str, hyperscan.Database], limits: Limits = LIMITS
    ) -> None:
        self._databases = dict(databases)
        self.limits = limits
        self._per_report = dict(limits.per_report)
        self._local = threading.local()

    @classmethod
    def load(cls, cache_dir: Path | None = None, limits: Limits = LIMITS) -> Bank:
        """From the cache when it is usable, else compiled (and cached)."""
        path = (cache_dir or default_cache_dir()) / f"bank-{cache_key()}.msgpack"
        databases = _read_cache(path)
        if databases is None:
            databases = build()
            _write_cache(path, databases)
        return cls(databases, limits)

    def _scan(
        self, name: str, buffer: _native.Utf8 | memoryview, handler: Handler
    ) -> None:
        scratches: dict[str, hyperscan.Scratch] | None = getattr(
            self._local, "scratches", None
        )
        if scratches is None:
            scratches = self._local.scratches = {}
        scratch = scratches.get(name)
        db = self._databases[name]
        if scratch is None:
            scratch = scratches[name] = hyperscan.Scratch(db)
        # Any buffer will do; the stub says str or bytes.
        db.scan(cast(bytes, buffer), match_event_handler=handler, scratch=scratch)

    def _collect(
        self, name: str, buffer: _native.Utf8 | memoryview, text: str, cap: int
    ) -> tuple[dict[int, list[int]] | None, _native.Hits]:
        hits = _native.Hits(cap)
        try:
            self._scan(name, buffer, hits)
        except hyperscan.ScanTerminated:
            return None, hits
        return hits.collect(text), hits

    def scan(self, scope: str, buffer: _native.Utf8, text: str) -> Scan:
        """What the scope's scan database says of `text` (`buffer` is
        `_native.Utf8(text)`): BANK index -> ends, for each pattern that
        matches, every end (ascending) of the `scanned` ones; or, when there
        were too many ends to collect, None and the patterns that had most."""
        if not text:
            return Scan({}, frozenset())
        cap = self.limits.scan_reports + len(text) // self._per_report[scope]
        found, hits = self._collect(scope, buffer, text, cap)
        if found is not None:
            return Scan(found, frozenset())
        tally = hits.tally()
        return Scan(None, frozenset(i for i, n in tally.items() if n * 8 >= cap))

    def present(self, scope: str, buffer: _native.Utf8, text: str) -> frozenset[int]:
        """The BANK indexes of the scope's patterns that match `text`."""
        if not text:
            return frozenset()
        found = self._collect(f"{scope}:presence", buffer, text, len(BANK))[0]
        return frozenset(found or ())

    def ends(self, index: int, buffer: _native.Utf8, text: str) -> list[int] | None:
        """Every end offset of a match of BANK[index] in `text`, ascending;
        None past `Limits.max_ends`."""
        found = self._collect(f"pos:{index}", buffer, text, self.limits.max_ends)[0]
        return None if found is None else found.get(index, [])
