"""Where the hyperscan scan time goes: per-byte cost of presence databases
built from parts of the pattern bank (a program, not a test).

The compiled classifier's scan is most of its time at 32 KB and above. This
splits the bank (less the tool-name patterns) into:

- digit-led: every match holds a digit and no run of two or more literal
  characters is required (cards, SSNs, IBANs, phone numbers, IPv4, ...),
  both read off `re`'s parse tree, not listed by hand;
- ipv6: led by a class that almost every character satisfies;
- literal-led: the rest (keywords, token prefixes, code shapes);

and times one presence database (single-match, the classifier's flags) per
part and for the whole, the classifier's own scan database (which reports
every end of the patterns it locates) and the task scope's scan and presence
databases, over the gathered text of the 32 KB and
256 KB conversations of bench_classify.py, plus what this machine does per
byte in the simplest C loop (`bytes.count` of one byte value, a compare and
add per byte). Best of many short runs; appends one JSON line to
bench/results/bank.jsonl.

The floor, per body: decoding it and scanning both scopes' texts with the
databases the classifier picks, with no match handler (no Python call per
match), the faster of each scope's scan and presence database: what
`classify_json` cannot go below with this bank on this machine.

Run: python bench/bench_bank.py [--no-record]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
import timeit
from pathlib import Path
from typing import Any

from bench_classify import conversation
from benchmeta import append, stamp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "bank.jsonl"
SIZES = {"32 KB": 32_000, "256 KB": 256_000}
# re's parser and its opcodes (private modules, typed as Any).
PARSER: Any = importlib.import_module("re._parser")
OPS: Any = importlib.import_module("re._constants")


def min_digits(node: Any) -> int:
    """The fewest ASCII digits any match of a parsed regex holds."""
    total = 0
    for op, arg in node:
        if op is OPS.LITERAL:
            total += 48 <= arg <= 57
        elif op is OPS.IN:
            total += all(_digit_item(item) for item in arg)
        elif op is OPS.SUBPATTERN:
            total += min_digits(arg[-1])
        elif op is OPS.BRANCH:
            total += min(min_digits(branch) for branch in arg[1])
        elif op in (OPS.MAX_REPEAT, OPS.MIN_REPEAT):
            total += arg[0] * min_digits(arg[2])
        elif isinstance(arg, PARSER.SubPattern):
            total += min_digits(arg)
    return total


def _digit_item(item: tuple[Any, Any]) -> bool:
    op, arg = item
    if op is OPS.LITERAL:
        return bool(48 <= arg <= 57)
    if op is OPS.RANGE:
        return bool(arg[0] >= 48 and arg[1] <= 57)
    if op is OPS.CATEGORY:
        return bool(arg is OPS.CATEGORY_DIGIT)
    return False


def parts() -> dict[str, list[int]]:
    """Part name -> BANK indexes."""
    from router.classify.patterns import BANK, RE_FLAGS

    out: dict[str, list[int]] = {"digit-led": [], "ipv6": [], "literal-led": []}
    for i, p in enumerate(BANK):
        if p.group == "tool":
            continue
        if p.name == "ipv6":
            out["ipv6"].append(i)
        elif min_digits(tree := PARSER.parse(p.regex, RE_FLAGS)) and (
            longest_literal(tree) < 2
        ):
            out["digit-led"].append(i)
        else:
            out["literal-led"].append(i)
    out["whole bank"] = sorted(i for ids in list(out.values()) for i in ids)
    return out


def longest_literal(node: Any) -> int:
    """The longest run of consecutive literal characters every match of a
    parsed regex holds (inside groups, not inside repeats or branches): the
    kind of factor hyperscan's literal matcher can look for."""
    best = run = 0
    for op, arg in node:
        if op is OPS.LITERAL:
            run += 1
        elif op is OPS.SUBPATTERN:
            best = max(best, run, longest_literal(arg[-1]))
            run = 0
        else:
            run = 0
        best = max(best, run)
    return best


def texts() -> dict[str, str]:
    from router.classify import _native
    from router.wire import decode_request

    return {
        name: _native.gather(decode_request(conversation(size)), True)[1]
        for name, size in SIZES.items()
    }


def best(fn: Any, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=30)) / number


def floor() -> dict[str, dict[str, float]]:
    """The floor per body, in us (see the module docstring); gathering,
    the Python calls per match, counting and checking come on top."""
    import hyperscan

    from router.classify import _native
    from router.classify.bank import PLAN, compile_database
    from router.wire import decode_request

    out: dict[str, dict[str, float]] = {}
    for size_name, size in SIZES.items():
        body = conversation(size)
        request = decode_request(body)
        sensitive, task = _native.gather(request, True)[:2]
        row = {"decode": best(lambda body=body: decode_request(body), 5) * 1e6}
        for scope, text in (("sensitive", sensitive), ("task", task)):
            buf = _native.Utf8(text)
            times = []
            for name in (scope, f"{scope}:presence"):
                db = compile_database(*PLAN[name])
                scratch = hyperscan.Scratch(db)
                times.append(
                    best(
                        lambda db=db, buf=buf, scratch=scratch: db.scan(
                            buf, match_event_handler=None, scratch=scratch
                        ),
                        5,
                    )
                )
            row[f"{scope} scan"] = min(times) * 1e6
        row["floor"] = sum(row.values())
        out[size_name] = row
    return out


def run() -> dict[str, Any]:
    import hyperscan

    from router.classify import _native
    from router.classify.bank import _PRESENCE_FLAGS, PLAN, compile_database
    from router.classify.patterns import BANK

    result: dict[str, Any] = {"parts": {}, "ns_per_byte": {}}
    bodies = texts()
    databases = {
        name: (tuple(ids), (_PRESENCE_FLAGS,) * len(ids))
        for name, ids in parts().items()
    }
    # The database the compiled classifier scans first for the sensitive
    # text: every end of the patterns it must locate, the others single-match.
    databases["scan database"] = PLAN["sensitive"]
    # The task scope's two: the scan database reports every end of the
    # keywords other patterns count next to; the presence one does not.
    databases["task scan"] = PLAN["task"]
    databases["task presence"] = PLAN["task:presence"]
    for name, (ids, flags) in databases.items():
        result["parts"][name] = [
            BANK[i].name if i < len(BANK) else f"gate of {BANK[i - len(BANK)].name}"
            for i in ids
        ]
        db = compile_database(ids, flags)
        scratch = hyperscan.Scratch(db)
        for size, text in bodies.items():
            buf = _native.Utf8(text)
            seconds = best(
                lambda db=db, buf=buf, scratch=scratch: db.scan(
                    buf, match_event_handler=lambda *a: None, scratch=scratch
                ),
                5,
            )
            result["ns_per_byte"].setdefault(name, {})[size] = seconds * 1e9 / len(buf)
    result["floor_us"] = floor()
    for size, text in bodies.items():
        raw = text.encode()
        seconds = best(lambda raw=raw: raw.count(b"\x00"), 50)
        result["ns_per_byte"].setdefault("bytes.count", {})[size] = (
            seconds * 1e9 / len(raw)
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true", help="do not append")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    result = run()
    print(f"{'database':<16} {'patterns':>8} " + " ".join(f"{s:>9}" for s in SIZES))
    for name, row in result["ns_per_byte"].items():
        count = len(result["parts"].get(name, [])) or "-"
        cells = " ".join(f"{row[s]:>9.2f}" for s in SIZES)
        print(f"{name:<16} {count!s:>8} {cells}")
    print("(nanoseconds per byte of the gathered text, best of 30 runs)")
    print("digit-led: " + ", ".join(result["parts"]["digit-led"]))
    print("\nfloor (us): decode + bare scans of the two scopes, no match handler")
    for size, row in result["floor_us"].items():
        cells = ", ".join(f"{k} {v:.0f}" for k, v in row.items())
        print(f"  {size}: {cells}")
    if not args.no_record:
        record = {
            **stamp(),
            "hyperscan": importlib.metadata.version("hyperscan"),
            **result,
        }
        append(RESULTS, [record])
        print(f"appended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
