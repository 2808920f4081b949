"""Accuracy floors on the shared test vectors (../shared/vectors), measured
with the same code as bench/bench_accuracy.py. Skipped when they are absent."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors"
FILES = ("presidio_cases.jsonl", "secret_cases.jsonl", "task_prompts.jsonl")

pytestmark = [
    pytest.mark.vectors,
    pytest.mark.skipif(
        not all((VECTORS / f).is_file() for f in FILES),
        reason=f"test vectors not found under {VECTORS}",
    ),
]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_accuracy", ROOT / "bench" / "bench_accuracy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def presidio(bench: ModuleType) -> dict[str, Any]:
    return bench.presidio_metrics(bench.load(VECTORS, "presidio_cases.jsonl"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "entity", ["CREDIT_CARD", "IBAN_CODE", "US_SSN (separated)", "EMAIL_ADDRESS"]
)
def test_presidio_recall(presidio: dict[str, Any], entity: str) -> None:
    assert presidio[entity]["positives"] > 0
    assert presidio[entity]["recall"] >= 0.97


def test_secret_recall(bench: ModuleType) -> None:
    metrics = bench.secret_metrics(bench.load(VECTORS, "secret_cases.jsonl"))
    below = {
        family: metrics[family]["recall"]
        for family in bench.SECRET_FLOOR_FAMILIES
        if metrics[family]["recall"] < 0.97
    }
    assert below == {}


def test_task_prompts_rarely_pin(bench: ModuleType) -> None:
    metrics = bench.task_metrics(bench.load(VECTORS, "task_prompts.jsonl"))
    assert metrics["false_high_rate"] <= 0.01
