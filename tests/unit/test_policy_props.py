"""Policy loading properties: any input gives a Policy or located Problems."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.classify.types import FAMILIES, LEVELS, MODALITIES, TASKS
from router.errors import PolicyError
from router.policy import load_policy_text
from router.policy.model import Policy

SETTINGS = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEYS = st.sampled_from(
    [
        *("backends", "routes", "privacy", "ab", "classifier", "type", "endpoint"),
        *("model", "models", "families", "p50Ms", "local", "match", "backend"),
        *("default", "fallback", "task", "tokens", "gt", "candidates", "a", "x"),
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from(["ollama", "http://h", "code", "high", "a", "", "x y"]),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


def outcome(text: str) -> Policy | PolicyError:
    try:
        return load_policy_text(text, "p.yaml")
    except PolicyError as exc:
        return exc


def assert_located(error: PolicyError, text: str) -> None:
    assert error.problems
    lines = max(1, text.count("\n") + 1)
    for problem in error.problems:
        assert problem.file == "p.yaml"
        assert 1 <= problem.line <= lines
        assert problem.col >= 1
        assert problem.path and not problem.path.startswith("$.")
        assert problem.message


@SETTINGS
@given(st.text(max_size=200))
def test_any_text_loads_or_reports(text: str) -> None:
    result = outcome(text)
    if isinstance(result, PolicyError):
        assert_located(result, text)


@SETTINGS
@given(st.dictionaries(KEYS, DATA, max_size=5))
def test_any_yaml_shape_loads_or_reports(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, default_flow_style=False)
    result = outcome(text)
    if isinstance(result, PolicyError):
        assert_located(result, text)


def one_or_many(values: tuple[str, ...]) -> st.SearchStrategy[str | list[str]]:
    return st.sampled_from(values) | st.lists(
        st.sampled_from(values), min_size=1, max_size=3
    )


MATCHES = st.fixed_dictionaries(
    {},
    optional={
        "task": one_or_many(TASKS),
        "complexity": one_or_many(LEVELS),
        "sensitivity": one_or_many(LEVELS),
        "modality": one_or_many(MODALITIES),
        "family": one_or_many(FAMILIES),
        "model": one_or_many(("gpt-4o", "auto", "gemma3:12b")),
    },
).filter(bool)


@SETTINGS
@given(st.lists(MATCHES, min_size=1, max_size=4))
def test_valid_matches_compile_to_their_sets(matches: list[dict[str, Any]]) -> None:
    doc = {
        "backends": {"a": {"type": "ollama", "endpoint": "http://h", "model": "m"}},
        "routes": [*({"match": m, "backend": "a"} for m in matches), {"default": "a"}],
    }
    policy = load_policy_text(yaml.safe_dump(doc), "p.yaml")
    assert [r.index for r in policy.routes] == list(range(len(matches) + 1))
    for route, match in zip(policy.routes, matches, strict=False):
        assert route.match is not None
        for key, value in match.items():
            values = [value] if isinstance(value, str) else value
            assert getattr(route.match, key) == frozenset(values)
            assert f"{key}=" in route.reason
