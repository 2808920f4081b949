"""`llm-router test POLICY CASES.yaml`: routing expectations, checked like code.

A cases file (YAML list) in; a report and an exit status out. Each case is
decided by the serving code path (decode, the sensitivity hints, classify,
decide: `explain.route_request`) as if every backend were usable, so a
policy's routing is reviewed with its expected outcomes whatever keys the
machine running the test holds. A case:

    - name: a code question stays local
      text: "fix this: ```python\\nprint(1\\n```"   # or request: {...}
      headers: {x-llr-sensitivity: high}            # optional
      metadata: {team: web}                         # optional, into the body
      expect: {route: 1, backend: local, model: qwen2.5-coder:7b,
               pinned: false, sensitivity: low, task: code}

`route` is the route's index or its `name`; `backend` and `model` may be
null (a pinned request with no local backend). A malformed file is reported
as FILE:LINE:COL: path: message, as a policy is.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import msgspec
import orjson
import yaml
from msgspec import UNSET, UnsetType
from multidict import CIMultiDict

from router.api.jsonio import decode_body
from router.api.route import sensitivity_hint
from router.classify.types import Classification, Level, Task
from router.decide import Decision
from router.errors import HTTPError, PolicyError
from router.explain import route_request
from router.policy import load_policy
from router.policy.model import Policy
from router.policy.nodes import Checker, Reporter


class Expect(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    route: int | str | UnsetType = UNSET
    backend: str | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    pinned: bool | UnsetType = UNSET
    sensitivity: Level | UnsetType = UNSET
    task: Task | UnsetType = UNSET


class Case(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    request: dict[str, Any] | UnsetType = UNSET
    text: str | UnsetType = UNSET
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    metadata: dict[str, Any] | UnsetType = UNSET
    expect: Expect


def load_cases(path: str) -> list[tuple[int, Case]]:
    """The cases of `path` with their line numbers; `PolicyError` carries
    every problem found, located."""
    rep = Reporter(path)
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        rep.add(1, 1, "(file)", f"cannot read: {exc}")
        raise PolicyError(rep.problems) from None
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        rep.at_mark(exc.problem_mark, "(yaml)", exc.problem or "invalid YAML")
        raise PolicyError(rep.problems) from None
    rep.root = root
    if not isinstance(root, yaml.SequenceNode) or not root.value:
        rep.at_node(root, (), "expected a list of cases")
        raise PolicyError(rep.problems)
    check = Checker(rep)
    cases: list[tuple[int, Case]] = []
    names: dict[str, int] = {}
    for i, node in enumerate(root.value):
        case = check.build(node, Case, (i,))
        if case is None:
            continue
        line = node.start_mark.line + 1
        if isinstance(case.request, UnsetType) == isinstance(case.text, UnsetType):
            rep.at_node(node, (i,), "give exactly one of request and text")
            continue
        if case.name in names:
            first = names[case.name]
            rep.at((i, "name"), f"duplicate case name (first at line {first})")
            continue
        names[case.name] = line
        cases.append((line, case))
    if rep.problems:
        raise PolicyError(sorted(rep.problems, key=lambda p: (p.line, p.col)))
    return cases


def body_of(case: Case) -> bytes:
    if isinstance(case.request, dict):
        body = dict(case.request)
    else:
        body = {"model": "auto", "messages": [{"role": "user", "content": case.text}]}
    if isinstance(case.metadata, dict):
        body["metadata"] = {**(body.get("metadata") or {}), **case.metadata}
    return orjson.dumps(body)


def decide_case(case: Case, policy: Policy) -> tuple[Classification, Decision]:
    """Decided as serving decides; `HTTPError` when serving would refuse it."""
    body = body_of(case)
    request = decode_body(body)
    hint = sensitivity_hint(CIMultiDict(case.headers), request)
    return route_request(request, policy, body=body, sensitivity_hint=hint)


def differences(
    case: Case, c: Classification, d: Decision
) -> list[tuple[str, Any, Any]]:
    """(field, expected, got) for each expectation that does not hold."""
    e = case.expect
    got: dict[str, Any] = {
        "backend": d.backend,
        "model": d.model,
        "pinned": d.pinned,
        "sensitivity": c.sensitivity,
        "task": c.task,
    }
    out = []
    if not isinstance(e.route, UnsetType):
        actual: int | str | None = d.route if isinstance(e.route, int) else d.route_name
        if actual != e.route:
            out.append(("route", e.route, actual))
    for key, value in got.items():
        want = getattr(e, key)
        if not isinstance(want, UnsetType) and want != value:
            out.append((key, want, value))
    return out


def run(policy_path: str, cases_path: str, out: TextIO = sys.stdout) -> int:
    try:
        policy = load_policy(policy_path)
        cases = load_cases(cases_path)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=out)
        return 1
    failed = 0
    for line, case in cases:
        where = f"{cases_path}:{line}"
        try:
            c, d = decide_case(case, policy)
        except HTTPError as exc:
            failed += 1
            print(f"FAIL {case.name} ({where}): refused: {exc.message}", file=out)
            continue
        diffs = differences(case, c, d)
        if not diffs:
            continue
        failed += 1
        print(f"FAIL {case.name} ({where})", file=out)
        for key, want, actual in diffs:
            print(f"  - {key}: {_show(want)}", file=out)
            print(f"  + {key}: {_show(actual)}", file=out)
        print(f"    route {d.route}: {d.reason}", file=out)
        print(f"    signals: {', '.join(c.signals) or '(none)'}", file=out)
    passed = len(cases) - failed
    print(f"policy cases: {passed} passed, {failed} failed", file=out)
    return 1 if failed else 0


def _show(value: Any) -> str:
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)
