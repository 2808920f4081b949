"""`llm-router test`: cases load strictly, are decided as serving decides, and
a failing case is reported with what differs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from router.cases import load_cases, run
from router.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "policy.example.yaml")


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cases.yaml"
    path.write_text(text)
    return str(path)


def test_shipped_cases_pass_and_cover_every_route() -> None:
    out = io.StringIO()
    assert run(EXAMPLE, str(ROOT / "policy.example.cases.yaml"), out) == 0
    assert out.getvalue().endswith("0 failed\n")
    cases = load_cases(str(ROOT / "policy.example.cases.yaml"))
    routes = {c.expect.route for _, c in cases}
    assert routes == {0, 1, 2}
    assert any(c.expect.pinned is True for _, c in cases)


def test_a_failing_case_says_what_differs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
- name: wrong on purpose
  text: "my card is 4111 1111 1111 1111"
  expect: {route: 2, backend: sarmalink, pinned: false, sensitivity: high}
- name: right
  text: "hello"
  expect: {route: 2}
""",
    )
    out = io.StringIO()
    assert run(EXAMPLE, path, out) == 1
    report = out.getvalue()
    assert f"FAIL wrong on purpose ({path}:1)" in report
    assert "  - route: 2\n  + route: 0\n" in report
    assert "  - backend: sarmalink\n  + backend: local\n" in report
    assert "  - pinned: false\n  + pinned: true\n" in report
    assert "sensitivity" not in report.split("signals")[0].split("pinned: true")[1]
    assert report.endswith("policy cases: 1 passed, 1 failed\n")


def test_route_by_name_and_a_refused_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
- name: by name
  text: "hello"
  expect: {route: nameless}
- name: bad header
  text: "hello"
  headers: {X-LLR-Sensitivity: secret}
  expect: {}
""",
    )
    out = io.StringIO()
    assert run(EXAMPLE, path, out) == 1
    report = out.getvalue()
    assert "  - route: nameless\n  + route: null\n" in report
    assert (
        "FAIL bad header" in report
        and "refused: x-llr-sensitivity must be one of" in report
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "- name: a\n  expect: {}\n",
            ":1:3: [0]: give exactly one of request and text",
        ),
        (
            "- name: a\n  text: x\n  request: {model: auto}\n  expect: {}\n",
            ":1:3: [0]: give exactly one",
        ),
        ("- name: a\n  text: x\n  expect: {rout: 1}\n", ":3:12: [0].expect.rout"),
        ("- name: a\n  text: x\n  expect: {task: cooking}\n", ":3:18: [0].expect.task"),
        (
            "- {name: a, text: x, expect: {}}\n- {name: a, text: y, expect: {}}\n",
            ":2:10: [1].name: duplicate",
        ),
        ("name: a\n", ":1:1: $: expected a list of cases"),
        ("- [\n", ":2:1: (yaml)"),
    ],
)
def test_bad_cases_files_are_located(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        load_cases(path)
    assert any(where in f"{path}{str(p)[len(path) :]}" for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]
