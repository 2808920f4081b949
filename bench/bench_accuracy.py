"""Classifier accuracy against the shared test vectors (a program, not a test).

Reads ../shared/vectors/*.jsonl (or --vectors DIR), wraps each text in a
one-message chat request, classifies it with `router.classify`, prints a
table and appends one JSON line to bench/results/accuracy.jsonl:

- presidio_cases: recall on positives and false-positive rate on negatives
  for the entities in our taxonomy (which level each maps to is printed);
- secret_cases: per-family recall (sensitivity high) on positives and the
  flagged rate on negatives;
- task_prompts: false-"high" rate, task accuracy (code vs general, math
  counted as general), and the token estimator's mean absolute percentage
  error against o200k_base (package bpe-openai), next to chars/4;
- generated cases (accuracy_cases.py, Faker): per kind, recall (the kind's
  signal fired and the level is at least the kind's) over several templates
  with the value before and after its words, the false-`high` rate of
  look-alikes whose check character is wrong, and the false-`high` and
  false-`medium` rates of benign texts (standard-library code and
  docstrings, business text with numbers, general medical questions).

Run: python bench/bench_accuracy.py [--vectors DIR] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import accuracy_cases  # noqa: E402

from router.classify import IMPLEMENTATION, KERNELS, Classification, classify  # noqa: E402
from router.classify.types import LEVEL_RANK  # noqa: E402
from router.wire import ChatMessage, ChatRequest  # noqa: E402

DEFAULT_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"
RESULTS = ROOT / "bench" / "results" / "accuracy.jsonl"

# Presidio entity -> (signals that detect it, level it maps to).
TAXONOMY: dict[str, tuple[frozenset[str], str]] = {
    "CREDIT_CARD": (frozenset({"pii:credit_card"}), "high"),
    "IBAN_CODE": (frozenset({"pii:iban"}), "high"),
    "US_SSN": (frozenset({"pii:ssn"}), "high"),
    "US_ITIN": (frozenset({"pii:itin"}), "high"),
    "US_PASSPORT": (frozenset({"pii:passport"}), "high"),
    "UK_PASSPORT": (frozenset({"pii:passport"}), "high"),
    "US_MBI": (frozenset({"phi:medicare_id"}), "high"),
    "ABA_ROUTING_NUMBER": (frozenset({"pii:bank_routing"}), "high"),
    "US_BANK_NUMBER": (frozenset({"pii:bank_account"}), "high"),
    "US_DRIVER_LICENSE": (frozenset({"pii:driver_licence"}), "high"),
    "US_NPI": (frozenset({"phi:npi"}), "high"),
    "UK_NHS": (frozenset({"pii:uk_nhs"}), "high"),
    "UK_NINO": (frozenset({"pii:uk_nino"}), "high"),
    "DE_TAX_ID": (frozenset({"pii:de_tax_id"}), "high"),
    "ES_NIF": (frozenset({"pii:es_dni"}), "high"),
    "ES_NIE": (frozenset({"pii:es_nie"}), "high"),
    "IT_FISCAL_CODE": (frozenset({"pii:it_fiscal_code"}), "high"),
    "PL_PESEL": (frozenset({"pii:pl_pesel"}), "high"),
    "SE_PERSONNUMMER": (frozenset({"pii:se_personnummer"}), "high"),
    "FI_PERSONAL_IDENTITY_CODE": (frozenset({"pii:fi_hetu"}), "high"),
    "IN_AADHAAR": (frozenset({"pii:in_aadhaar"}), "high"),
    "IN_PAN": (frozenset({"pii:in_pan"}), "high"),
    "AU_TFN": (frozenset({"pii:au_tfn"}), "high"),
    "AU_MEDICARE": (frozenset({"pii:au_medicare"}), "high"),
    "CA_SIN": (frozenset({"pii:ca_sin"}), "high"),
    "SG_NRIC_FIN": (frozenset({"pii:sg_nric"}), "high"),
    "KR_RRN": (frozenset({"pii:kr_rrn"}), "high"),
    "EMAIL_ADDRESS": (frozenset({"pii:email"}), "medium"),
    "PHONE_NUMBER": (frozenset({"pii:phone"}), "medium"),
    "IP_ADDRESS": (frozenset({"pii:ip_address"}), "medium"),
}
NOT_SENSITIVE = ("DATE_TIME", "PERSON", "URL", "UK_POSTCODE", "DE_PLZ")
SECRET_FLOOR_FAMILIES = (
    "aws", "github", "gitlab", "slack", "openai", "anthropic", "stripe",
    "private_key", "jwt",
)  # fmt: skip
_SEPARATED_SSN = re.compile(r"[0-9]{3}([-. ])[0-9]{2}\1[0-9]{4}")


def load(vectors: Path, name: str) -> list[dict[str, Any]]:
    path = vectors / name
    return [
        msgspec.json.decode(line) for line in path.read_bytes().splitlines() if line
    ]


def classify_text(text: str) -> Classification:
    message = ChatMessage(role="user", content=text)
    return classify(ChatRequest(model="auto", messages=[message]))


def ratio(hits: int, total: int) -> float | None:
    return hits / total if total else None


def is_separated_ssn(row: dict[str, Any]) -> bool:
    """A US_SSN positive whose every expected span is 3-2-4 digits with one
    separator kind (the forms this classifier pins without a keyword)."""
    spans = row.get("expected_positions") or []
    text = row["text"]
    return bool(spans) and all(
        _SEPARATED_SSN.fullmatch(text[a:b]) is not None for a, b in spans
    )


def presidio_metrics(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per taxonomy entity: recall on positives, false-positive rate on negatives."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        entity = row["entity"]
        if entity not in TAXONOMY:
            continue
        fired = bool(TAXONOMY[entity][0] & set(classify_text(row["text"]).signals))
        keys = [entity]
        if entity == "US_SSN" and is_separated_ssn(row):
            keys.append("US_SSN (separated)")
        for key in keys:
            t = tally[key]
            if row["expected_count"] > 0:
                t[0] += fired
                t[1] += 1
            else:
                t[2] += fired
                t[3] += 1
    return {
        key: {
            "level": TAXONOMY[key.split(" ")[0]][1],
            "recall": ratio(t[0], t[1]),
            "positives": t[1],
            "fp_rate": ratio(t[2], t[3]),
            "negatives": t[3],
        }
        for key, t in sorted(tally.items())
    }


def secret_metrics(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per family: recall (sensitivity high) on positives, flagged on negatives."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in rows:
        family = row["family"].split(":", 1)[0]
        high = classify_text(row["text"]).sensitivity == "high"
        t = tally[family]
        if row["positive"]:
            t[0] += high
            t[1] += 1
        else:
            t[2] += high
            t[3] += 1
    return {
        family: {
            "recall": ratio(t[0], t[1]),
            "positives": t[1],
            "flagged": ratio(t[2], t[3]),
            "negatives": t[3],
        }
        for family, t in sorted(tally.items())
    }


def task_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """False-high rate and code-vs-general accuracy (math counts as general)."""
    high = correct = web = 0
    confusion: dict[str, int] = defaultdict(int)
    for row in rows:
        c = classify_text(row["text"])
        high += c.sensitivity == "high"
        want = "code" if row["task_type"] == "code" else "general"
        got = "code" if c.task == "code" else "general"
        correct += want == got
        web += c.task == "web_search"
        confusion[f"{want}->{got}"] += 1
    return {
        "prompts": len(rows),
        "false_high_rate": ratio(high, len(rows)),
        "task_accuracy": ratio(correct, len(rows)),
        "web_search_predicted": web,
        "confusion": dict(sorted(confusion.items())),
    }


def token_metrics(texts: list[str]) -> dict[str, Any] | None:
    """MAPE of estimate_tokens and of chars/4 against o200k_base."""
    try:
        import bpe_openai
    except ImportError:
        return None
    enc = bpe_openai.get_encoding("o200k_base")
    est_err = naive_err = 0.0
    n = 0
    for text in texts:
        true = len(enc.encode(text))
        if not true:
            continue
        est_err += abs(KERNELS.estimate_tokens(text) - true) / true
        naive_err += abs(max(1, (len(text) + 2) // 4) - true) / true
        n += 1
    return {
        "texts": n,
        "estimate_mape": est_err / n if n else None,
        "chars4_mape": naive_err / n if n else None,
    }


def generated_metrics(per_kind: int, seed: int = 12) -> dict[str, Any]:
    """Recall and look-alike false-high rate per kind, false high/medium on
    benign texts (accuracy_cases.py)."""
    kinds: dict[str, dict[str, Any]] = {}
    for k, kind in enumerate(accuracy_cases.kinds()):
        found = alike_high = alike_n = 0
        for text, value in accuracy_cases.cases(kind, per_kind, seed + k):
            c = classify_text(text)
            found += bool(kind.signals & set(c.signals)) and (
                LEVEL_RANK[c.sensitivity] >= LEVEL_RANK[kind.level]
            )
            if kind.checked:
                fake = text.replace(value, accuracy_cases.look_alike(value))
                alike_high += classify_text(fake).sensitivity == "high"
                alike_n += 1
        kinds[kind.name] = {
            "level": kind.level,
            "recall": ratio(found, per_kind),
            "cases": per_kind,
            "look_alike_high": ratio(alike_high, alike_n),
            "look_alikes": alike_n,
        }
    benign = {
        "code and docs": accuracy_cases.stdlib_texts(150, seed),
        "business numbers": accuracy_cases.business_texts(600, seed),
        "medical questions": accuracy_cases.MEDICAL_QUESTIONS,
    }
    rates = {}
    for name, texts in benign.items():
        levels = [classify_text(t).sensitivity for t in texts]
        rates[name] = {
            "texts": len(texts),
            "false_high": ratio(levels.count("high"), len(texts)),
            "false_medium": ratio(levels.count("medium"), len(texts)),
        }
    return {"kinds": kinds, "benign": rates}


def _pct(x: float | None) -> str:
    return "   n/a" if x is None else f"{100 * x:5.1f}%"


def report(result: dict[str, Any]) -> None:
    print(f"classifier: {result['implementation']}  commit {result['commit'][:10]}")
    print("\npresidio_cases (taxonomy entities)")
    print(
        f"  {'entity':<20} {'level':<7} {'recall':>7} {'n':>4} {'FP rate':>8} {'n':>4}"
    )
    for entity, m in result["presidio"].items():
        print(
            f"  {entity:<20} {m['level']:<7} {_pct(m['recall']):>7} "
            f"{m['positives']:>4} {_pct(m['fp_rate']):>8} {m['negatives']:>4}"
        )
    print(f"  not sensitive here: {', '.join(NOT_SENSITIVE)}; bare numbers of the"
          " kinds that need their keyword count as misses")  # fmt: skip
    print("\nsecret_cases (recall = sensitivity high)")
    print(f"  {'family':<26} {'recall':>7} {'n':>4} {'flagged':>8} {'n':>4}")
    for family, m in result["secrets"].items():
        mark = "*" if family in SECRET_FLOOR_FAMILIES else " "
        print(
            f" {mark}{family:<26} {_pct(m['recall']):>7} {m['positives']:>4} "
            f"{_pct(m['flagged']):>8} {m['negatives']:>4}"
        )
    t = result["task_prompts"]
    print(f"\ntask_prompts ({t['prompts']} prompts)")
    print(f"  false-high rate   {_pct(t['false_high_rate'])}")
    print(f"  task accuracy     {_pct(t['task_accuracy'])}  {t['confusion']}")
    print(f"  web_search picked {t['web_search_predicted']}")
    tok = result["tokens"]
    if tok is None:
        print("  token MAPE        skipped: bpe_openai is not installed")
    else:
        print(
            f"  token MAPE vs o200k_base: estimate {_pct(tok['estimate_mape'])}, "
            f"chars/4 {_pct(tok['chars4_mape'])} ({tok['texts']} texts)"
        )


def report_generated(g: dict[str, Any]) -> None:
    print("\ngenerated cases (recall: signal and level; look-alike: wrong check)")
    print(f"  {'kind':<20} {'level':<7} {'recall':>7} {'n':>4} {'alike high':>10}")
    for name, m in g["kinds"].items():
        print(
            f"  {name:<20} {m['level']:<7} {_pct(m['recall']):>7} {m['cases']:>4} "
            f"{_pct(m['look_alike_high']):>10}"
        )
    print(f"  {'benign':<20} {'texts':>6} {'false high':>10} {'false medium':>12}")
    for name, m in g["benign"].items():
        print(
            f"  {name:<20} {m['texts']:>6} {_pct(m['false_high']):>10} "
            f"{_pct(m['false_medium']):>12}"
        )


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def run(vectors: Path, per_kind: int = 200) -> dict[str, Any]:
    prompts = load(vectors, "task_prompts.jsonl")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "commit": git_commit(),
        "python": platform.python_version(),
        "implementation": IMPLEMENTATION,
        "presidio": presidio_metrics(load(vectors, "presidio_cases.jsonl")),
        "secrets": secret_metrics(load(vectors, "secret_cases.jsonl")),
        "task_prompts": task_metrics(prompts),
        "tokens": token_metrics([row["text"] for row in prompts]),
        "generated": generated_metrics(per_kind),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    parser.add_argument("--no-record", action="store_true", help="do not append")
    parser.add_argument("--per-kind", type=int, default=200, help="generated cases")
    args = parser.parse_args(argv)
    needed = ("presidio_cases.jsonl", "secret_cases.jsonl", "task_prompts.jsonl")
    missing = [n for n in needed if not (args.vectors / n).is_file()]
    if missing:
        print(f"skipped: {', '.join(missing)} not found under {args.vectors}")
        return 0
    result = run(args.vectors, args.per_kind)
    report(result)
    report_generated(result["generated"])
    if not args.no_record:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("ab") as fh:
            fh.write(msgspec.json.encode(result) + b"\n")
        print(f"\nappended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
