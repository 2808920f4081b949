"""House rules from STYLE.md that a machine can check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("router/**/*.py"), *ROOT.glob("classifier_ext/*.[ch]")])
HARD_CAP = 800


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_file_under_hard_cap(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= HARD_CAP


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if p.suffix == ".py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_module_says_its_stage(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text())), "module docstring missing"


def test_no_stdlib_json_in_router() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("router/**/*.py")
        if any(
            (isinstance(n, ast.Import) and any(a.name == "json" for a in n.names))
            or (isinstance(n, ast.ImportFrom) and n.module == "json")
            for n in ast.walk(ast.parse(p.read_text()))
        )
    ]
    assert offenders == []
