"""Policy problems in YAML, keys, types and values, located by line, col, path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from router.errors import PolicyError
from router.policy import load_policy_text

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


# --- YAML itself -------------------------------------------------------------


def test_yaml_syntax_error_keeps_its_line() -> None:
    assert problems("backends:\n  a: {type: ollama\nroutes: [\n") == [
        "p.yaml:3:7: (yaml): did not find expected ',' or '}' "
        "(while parsing a flow mapping started at line 2, column 6)"
    ]


def test_yaml_bad_indentation() -> None:
    [(line, _, path)] = where("backends:\n  a: 1\n b: 2\n")
    assert (line, path) == (3, "(yaml)")


def test_yaml_control_character() -> None:
    assert problems("backends:\n  a: \x07\n") == [
        "p.yaml:2:6: (yaml): unacceptable character #x0007: "
        "control characters are not allowed"
    ]


def test_text_that_is_not_unicode() -> None:
    assert problems("backends:\n  a: \ud800\n") == [
        "p.yaml:2:6: (yaml): not valid text: surrogates not allowed"
    ]


def test_yaml_two_documents() -> None:
    [(line, _, path)] = where(BACKENDS + "---\nroutes: []\n")
    assert (line, path) == (4, "(yaml)")


def test_yaml_unknown_tag() -> None:
    assert where(routes("- default: !secret local\n")) == [(5, 14, "routes[0].default")]


def test_recursive_alias() -> None:
    assert where("backends: &r {a: *r}\nroutes: []\n") == [(1, 11, "$")]


def test_empty_file() -> None:
    assert problems("# nothing yet\n") == [
        "p.yaml:1:1: $: empty policy; expected a mapping with backends, routes"
    ]


def test_root_not_a_mapping() -> None:
    assert problems("- backends\n") == ["p.yaml:1:1: $: expected `mapping`, got `list`"]


def test_duplicate_keys() -> None:
    text = BACKENDS + "  local: {type: ollama, endpoint: 'http://x'}\n"
    assert problems(text + "routes:\n  - default: local\n") == [
        "p.yaml:4:3: backends.local: duplicate key 'local' (first at line 2)"
    ]
    text = routes("- {match: {task: code, task: vision}, backend: local}\n")
    assert where(text + "  - default: local\n") == [(5, 26, "routes[0].match.task")]


def test_non_string_key() -> None:
    text = BACKENDS + "  no: {type: ollama, endpoint: 'http://x', model: m}\n"
    assert problems(text + "routes:\n  - default: local\n") == [
        "p.yaml:4:3: backends: key no is read as bool; keys must be strings (quote it)"
    ]


def test_merge_keys_are_refused() -> None:
    text = routes("- <<: {default: local}\n")
    assert (
        "p.yaml:5:5: routes[0]: merge keys (<<) are not supported; write the keys out"
    ) in problems(text)


# --- unknown and missing keys ------------------------------------------------


def test_unknown_keys_each_at_its_own_line() -> None:
    text = """\
        backends:
          local:
            type: ollama
            endpoint: http://localhost:11434
            model: m
            modle: n
            p50: 3
        routes:
          - match: {task: code, taks: vision}
            backend: local
            fallbacks: [local]
          - default: local
        privacy: {pin: high, level: low}
        ab: {enabled: false, rate: 0.1}
        classifier: {mediumToken: 3}
        extra: true
        """
    assert where(text) == [
        (6, 5, "backends.local.modle"),
        (7, 5, "backends.local.p50"),
        (9, 25, "routes[0].match.taks"),
        (11, 5, "routes[0].fallbacks"),
        (13, 22, "privacy.level"),
        (14, 22, "ab.rate"),
        (15, 14, "classifier.mediumToken"),
        (16, 1, "extra"),
    ]
    assert problems(text)[0] == (
        "p.yaml:6:5: backends.local.modle: unknown key 'modle' "
        "(did you mean 'model'?); expected one of: "
        "type, endpoint, endpointEnv, model, models, families, p50Ms, local, apiKeyEnv, "
        "timeoutMs, options, keepAlive, clientOptions, cost, circuit"
    )


def test_privacy_unreadable_is_checked() -> None:
    text = routes("- default: local\n") + textwrap.dedent("""\
        privacy:
          unreadable:
            files: none
            video: high
        """)
    assert problems(text) == [
        "p.yaml:8:12: privacy.unreadable.files: invalid value 'none'; "
        "expected one of: low, medium, high",
        "p.yaml:9:5: privacy.unreadable.video: unknown key 'video'; "
        "expected one of: files, audio, images",
    ]
    assert where(routes("- default: local\n") + "privacy: {unreadable: low}\n") == [
        (6, 23, "privacy.unreadable")
    ]


def test_unknown_key_in_tokens() -> None:
    assert where(
        routes("- {match: {tokens: {over: 5}}, backend: local}\n- default: local")
    ) == [(5, 23, "routes[0].match.tokens.over")]


def test_missing_required_keys() -> None:
    assert problems("privacy: {pin: high}\n") == [
        "p.yaml:1:1: backends: missing required key 'backends'",
        "p.yaml:1:1: routes: missing required key 'routes'",
    ]
    text = "backends:\n  a: {model: m}\nroutes:\n  - default: a\n"
    assert problems(text) == [
        "p.yaml:2:6: backends.a.type: missing required key 'type'",
        "p.yaml:2:6: backends.a.endpoint: missing required key 'endpoint'",
    ]


# --- types and values --------------------------------------------------------


def test_wrong_types() -> None:
    text = """\
        backends:
          a: {type: ollama, endpoint: "http://h", models: gemma3, local: "yes"}
          b: [ollama]
        routes:
          - default: a
            latencyBudgetMs: fast
            reason: 42
        ab: {enabled: 1}
        """
    assert problems(text) == [
        "p.yaml:2:51: backends.a.models: expected `list`, got `str`",
        "p.yaml:2:66: backends.a.local: expected `bool`, got `str`",
        "p.yaml:3:6: backends.b: expected `mapping`, got `list`",
        "p.yaml:6:22: routes[0].latencyBudgetMs: expected `float`, got `str`",
        "p.yaml:7:13: routes[0].reason: expected `str`, got `int`",
        "p.yaml:8:15: ab.enabled: expected `bool`, got `int`",
    ]


def test_sections_of_the_wrong_shape() -> None:
    assert where("backends: [a]\nroutes: {default: a}\nab: 3\n") == [
        (1, 11, "backends"),
        (2, 9, "routes"),
        (3, 5, "ab"),
    ]


def test_null_is_not_absent() -> None:
    assert problems(routes("- default:\n")) == [
        "p.yaml:5:13: routes[0].default: expected `str`, got `null`"
    ]


def test_bad_enum_values() -> None:
    text = (
        routes("""\
        - match:
            task: [code, poetry]
            complexity: extreme
            sensitivity: secret
            modality: video
            family: mistral
          backend: local
        - default: local
        """)
        + "privacy: {pin: max}\n"
    )
    got = problems(text)
    assert got[0] == (
        "p.yaml:6:20: routes[0].match.task[1]: invalid value 'poetry'; "
        "expected one of: code, vision, web_search, general"
    )
    assert [line.split(": ")[1] for line in got] == [
        "routes[0].match.task[1]",
        "routes[0].match.complexity",
        "routes[0].match.sensitivity",
        "routes[0].match.modality",
        "routes[0].match.family",
        "privacy.pin",
    ]


def test_bad_backend_type_and_family() -> None:
    text = """\
        backends:
          a: {type: vllm, endpoint: "http://h", model: m}
          b: {type: ollama, endpoint: "http://h", families: {mistral: m}}
        routes:
          - default: b
        """
    assert problems(text) == [
        "p.yaml:2:13: backends.a.type: invalid value 'vllm'; "
        "expected one of: ollama, openai, sarmalink",
        "p.yaml:3:54: backends.b.families.mistral: invalid value 'mistral'; "
        "expected one of: qwen-coder, gemma, llama, gpt, sonnet",
    ]


def test_empty_list_in_match() -> None:
    assert where(routes("- {match: {task: []}, backend: local}\n- default: local")) == [
        (5, 20, "routes[0].match.task")
    ]


def test_negative_p50_and_bad_timeout() -> None:
    text = """\
        backends:
          a: {type: ollama, endpoint: "http://h", model: m, p50Ms: -1, timeoutMs: 0}
        routes:
          - default: a
        """
    assert problems(text) == [
        "p.yaml:2:60: backends.a.p50Ms: expected `float` >= 0.0, got -1",
        "p.yaml:2:75: backends.a.timeoutMs: expected `int` >= 1, got 0",
    ]


@pytest.mark.parametrize("budget", ["0", "-100", "-0.5"])
def test_budget_must_be_positive(budget: str) -> None:
    assert problems(routes(f"- default: local\n  latencyBudgetMs: {budget}\n")) == [
        f"p.yaml:6:22: routes[0].latencyBudgetMs: expected `float` > 0.0, got {budget}"
    ]


@pytest.mark.parametrize("rate", ["-0.1", "1.01", "2"])
def test_sample_rate_outside_unit_interval(rate: str) -> None:
    text = routes("- default: local\n") + f"ab: {{sampleRate: {rate}}}\n"
    [line] = problems(text)
    assert line.startswith("p.yaml:6:18: ab.sampleRate: expected `float` ")
    assert line.endswith(f", got {rate}")


def test_ab_counts() -> None:
    text = routes("- default: local\n") + "ab: {minSamples: 0, maxConcurrent: -2}\n"
    assert where(text) == [(6, 18, "ab.minSamples"), (6, 36, "ab.maxConcurrent")]


def test_api_key_env_must_be_a_variable_name() -> None:
    text = BACKENDS.replace("model: gpt-4o", "model: gpt-4o, apiKeyEnv: sk-123")
    assert where(text + "routes:\n  - default: local\n") == [
        (3, 91, "backends.cloud.apiKeyEnv")
    ]


def test_tokens_bounds() -> None:
    text = routes("""\
        - {match: {tokens: {gt: -1}}, backend: local}
        - {match: {tokens: {}}, backend: local}
        - {match: {tokens: {gte: 100, lt: 100}}, backend: local}
        - default: local
        """)
    assert problems(text) == [
        "p.yaml:5:27: routes[0].match.tokens.gt: expected `int` >= 0, got -1",
        "p.yaml:6:22: routes[1].match.tokens: empty tokens bound; "
        "give gt, gte, lt or lte",
        "p.yaml:7:22: routes[2].match.tokens: no token count satisfies these bounds",
    ]
