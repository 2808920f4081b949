"""Policy problems that span fields: backends, routes and chains, A/B, classifier."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from router.errors import PolicyError
from router.policy import check_policy, load_policy_text

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "policies"

BACKENDS = """\
backends:
  local: {type: ollama, endpoint: "http://localhost:11434", model: m}
  cloud: {type: openai, endpoint: "https://api.example.com/v1", model: gpt-4o}
"""


def problems(text: str) -> list[str]:
    """Every problem of a policy that must not load, as CLI lines."""
    with pytest.raises(PolicyError) as info:
        load_policy_text(textwrap.dedent(text), "p.yaml")
    return [str(p) for p in info.value.problems]


def where(text: str) -> list[tuple[int, int, str]]:
    """(line, col, path) of every problem."""
    with pytest.raises(PolicyError) as info:
        load_policy_text(textwrap.dedent(text), "p.yaml")
    return [(p.line, p.col, p.path) for p in info.value.problems]


def routes(body: str) -> str:
    return BACKENDS + "routes:\n" + textwrap.indent(textwrap.dedent(body), "  ")


# --- backends ----------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["localhost:11434", "ftp://h", "http://", "http://h:99999", "''"]
)
def test_bad_url(endpoint: str) -> None:
    text = f"backends:\n  a: {{type: ollama, endpoint: {endpoint}, model: m}}\n"
    [line] = problems(text + "routes:\n  - default: a\n")
    assert line.startswith("p.yaml:2:31: backends.a.endpoint: expected an http:// ")


def test_backend_without_model() -> None:
    text = """\
        backends:
          a: {type: ollama, endpoint: "http://h"}
          b: {type: ollama, endpoint: "http://h", models: [], families: {}}
        routes:
          - default: a
        """
    assert problems(text) == [
        "p.yaml:2:6: backends.a: no model; give at least one of model, models, "
        "families",
        "p.yaml:3:6: backends.b: no model; give at least one of model, models, "
        "families",
    ]


def test_backend_with_a_broken_model_is_not_also_modelless() -> None:
    text = "backends:\n  a: {type: ollama, endpoint: 'http://h', model: 5}\n"
    assert where(text + "routes:\n  - default: a\n") == [(2, 50, "backends.a.model")]


@pytest.mark.parametrize("name", ["'my backend'", "'a/b'", "''", "'ü'"])
def test_bad_backend_name(name: str) -> None:
    text = f"backends:\n  {name}: {{type: ollama, endpoint: 'http://h', model: m}}\n"
    [(line, col, _)] = where(text + f"routes:\n  - default: {name}\n")
    assert (line, col) == (2, 3)


def test_no_backends() -> None:
    assert problems("backends: {}\nroutes:\n  - default: a\n") == [
        "p.yaml:1:11: backends: declare at least one backend"
    ]


# --- routes ------------------------------------------------------------------


def test_unknown_backend_names() -> None:
    text = (
        routes("""\
        - {match: {task: code}, backend: gpu, fallback: [cloud, tpu]}
        - {match: {task: vision}, backend: local, fallback: edge}
        - default: remote
        """)
        + "ab: {candidates: {ghost: local, cloud: spare}}\n"
    )
    assert problems(text)[0] == (
        "p.yaml:5:36: routes[0].backend: unknown backend 'gpu'; declared: local, cloud"
    )
    assert where(text) == [
        (5, 36, "routes[0].backend"),
        (5, 59, "routes[0].fallback[1]"),
        (6, 55, "routes[1].fallback"),
        (7, 14, "routes[2].default"),
        (8, 19, "ab.candidates.ghost"),
        (8, 40, "ab.candidates.cloud"),
    ]


def test_unknown_backend_near_miss() -> None:
    assert problems(routes("- default: locl\n")) == [
        "p.yaml:5:14: routes[0].default: unknown backend 'locl' "
        "(did you mean 'local'?); declared: local, cloud"
    ]


def test_primary_repeated_in_its_chain() -> None:
    assert problems(routes("- {default: local, fallback: [cloud, local]}\n")) == [
        "p.yaml:5:40: routes[0].fallback[1]: backend 'local' is already "
        "this route's primary"
    ]
    assert where(routes("- {default: local, fallback: local}\n")) == [
        (5, 32, "routes[0].fallback")
    ]


def test_chain_lists_a_backend_twice() -> None:
    assert problems(routes("- {default: local, fallback: [cloud, cloud]}\n")) == [
        "p.yaml:5:40: routes[0].fallback[1]: backend 'cloud' is listed twice "
        "in the fallback chain"
    ]


def test_missing_default() -> None:
    assert problems(routes("- {match: {task: code}, backend: local}\n")) == [
        "p.yaml:5:3: routes: no default route; end the list with `- default: BACKEND`"
    ]


def test_more_than_one_default() -> None:
    assert problems(routes("- default: local\n- default: cloud\n")) == [
        "p.yaml:6:5: routes[1].default: more than one default route "
        "(the first is routes[0])"
    ]


def test_default_not_last() -> None:
    text = routes("- default: local\n- {match: {task: code}, backend: cloud}\n")
    assert problems(text) == [
        "p.yaml:5:5: routes[0].default: default route must be last; "
        "routes[1] after it is never tried"
    ]


def test_match_and_default() -> None:
    text = routes("- {match: {task: code}, default: local}\n")
    assert problems(text) == [
        "p.yaml:5:27: routes[0].default: a route has match + backend or default, "
        "not both"
    ]


def test_default_with_backend() -> None:
    assert where(routes("- {default: local, backend: cloud}\n")) == [
        (5, 22, "routes[0].backend")
    ]


def test_neither_match_nor_default() -> None:
    text = routes("- {backend: local, reason: why}\n- default: local\n")
    assert problems(text) == [
        "p.yaml:5:5: routes[0].match: a route needs match + backend, or default"
    ]


def test_match_without_backend() -> None:
    text = routes("- match: {task: code}\n  fallback: cloud\n- default: local\n")
    assert problems(text) == [
        "p.yaml:5:5: routes[0].backend: missing required key 'backend' for this match"
    ]


def test_empty_match() -> None:
    assert problems(routes("- {match: {}, backend: local}\n- default: local\n")) == [
        "p.yaml:5:13: routes[0].match: empty match matches every request; "
        "write `default: BACKEND` instead"
    ]


def test_route_names_are_unique() -> None:
    text = routes("""\
        - {name: code, match: {task: code}, backend: local}
        - {name: code, default: local}
        """)
    assert problems(text) == [
        "p.yaml:6:12: routes[1].name: route name 'code' already used by routes[0]"
    ]


def test_no_routes() -> None:
    assert where(BACKENDS + "routes: []\n") == [(4, 9, "routes")]


def test_route_that_is_not_a_mapping() -> None:
    assert where(routes("- local\n- default: local\n")) == [(5, 5, "routes[0]")]


# --- ab and classifier -------------------------------------------------------


def test_ab_candidate_is_its_primary() -> None:
    text = routes("- default: local\n") + "ab: {candidates: {cloud: cloud}}\n"
    assert problems(text) == [
        "p.yaml:6:26: ab.candidates.cloud: candidate 'cloud' is its own primary"
    ]


def test_classifier_thresholds() -> None:
    text = routes("- default: local\n") + textwrap.dedent("""\
        classifier:
          mediumTokens: 0
          highMarkers: -1
          mediumCodeBlocks: 9
          highCodeBlocks: 4
          highTokens: 100
        """)
    assert problems(text) == [
        "p.yaml:7:17: classifier.mediumTokens: must be >= 1, got 0",
        "p.yaml:8:16: classifier.highMarkers: must be >= 1, got -1",
        "p.yaml:9:21: classifier.mediumCodeBlocks: mediumCodeBlocks (9) must be "
        "<= highCodeBlocks (4)",
    ]


def test_classifier_pair_reported_at_the_key_written() -> None:
    text = routes("- default: local\n") + "classifier: {highTokens: 1000}\n"
    assert problems(text) == [
        "p.yaml:6:26: classifier.highTokens: mediumTokens (1500) must be "
        "<= highTokens (1000)"
    ]


# --- all at once -------------------------------------------------------------


def test_every_independent_problem_is_reported() -> None:
    path = DATA / "many_problems.yaml"
    got = [(p.line, p.col, p.path) for p in check_policy(path)]
    assert got == [
        (3, 69, "backends.local.colour"),
        (4, 35, "backends.cloud.endpoint"),
        (4, 73, "backends.cloud.p50Ms"),
        (6, 19, "routes[0].match.task"),
        (9, 14, "routes[1].backend"),
        (10, 22, "routes[1].latencyBudgetMs"),
        (12, 23, "routes[2].fallback[1]"),
        (13, 33, "ab.sampleRate"),
        (13, 56, "ab.candidates.local"),
    ]
    assert all(p.file == str(path) for p in check_policy(path))


def test_a_bad_field_does_not_hide_the_rest_of_its_item() -> None:
    text = routes("""\
        - match: {task: poetry}
          backend: nowhere
          fallback: [local, local]
          latencyBudgetMs: -1
        - default: local
        """)
    assert where(text) == [
        (5, 19, "routes[0].match.task"),
        (6, 14, "routes[0].backend"),
        (7, 23, "routes[0].fallback[1]"),
        (8, 22, "routes[0].latencyBudgetMs"),
    ]


def test_problems_are_in_file_order() -> None:
    got = where(routes("- default: nowhere\n") + "bogus: 1\n" + "privacy: {x: 1}\n")
    assert got == sorted(got)
