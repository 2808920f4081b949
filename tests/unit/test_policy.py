"""Policy loading: the seed, the example, every key, defaults and the API."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import msgspec
import pytest

from router.classify.types import ClassifierConfig, Unreadable
from router.errors import PolicyError, Problem
from router.policy import Policy, check_policy, load_policy, load_policy_text
from router.policy.model import DEFAULT_P50_MS, DEFAULT_TIMEOUT_MS, Match

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "policies"

SEED = """\
backends:
  local:    {type: ollama, endpoint: http://localhost:11434,
             families: {qwen-coder: qwen2.5-coder:7b, gemma: gemma3:12b,
                        llama: llama4:16x17b},
             models: [llama4:16x17b, qwen2.5-coder:7b, gemma3:12b], p50Ms: 1800}
  sarmalink: {type: sarmalink, endpoint: https://api.sarmalink.ai/v1, model: smart, p50Ms: 600}
  frontier: {type: openai, endpoint: https://api.openai.com/v1, model: gpt-4o, p50Ms: 900}
routes:
  - match: {sensitivity: high}
    backend: local
    reason: "Privacy: never leave the machine"
  - match: {task: code, complexity: low}
    backend: local
    fallback: sarmalink
    latencyBudgetMs: 2500
  - default: local
    fallback: sarmalink
    latencyBudgetMs: 1200
ab: {enabled: false, sampleRate: 0.05, candidates: {local: sarmalink}}
"""

MINIMAL = """\
backends:
  a: {type: ollama, endpoint: "http://localhost:11434", model: m}
routes:
  - default: a
"""


def load(text: str) -> Policy:
    return load_policy_text(textwrap.dedent(text), "p.yaml")


def test_seed_loads_unchanged() -> None:
    policy = load_policy_text(SEED, "seed.yaml")
    assert policy.source == "seed.yaml"
    assert list(policy.backends) == ["local", "sarmalink", "frontier"]
    local = policy.backends["local"]
    assert local.type == "ollama"
    assert local.endpoint == "http://localhost:11434"
    assert local.local is True
    assert local.model is None
    assert local.models == ("llama4:16x17b", "qwen2.5-coder:7b", "gemma3:12b")
    assert local.families == {
        "qwen-coder": "qwen2.5-coder:7b",
        "gemma": "gemma3:12b",
        "llama": "llama4:16x17b",
    }
    assert local.p50_ms == 1800.0
    assert local.api_key_env is None
    assert local.timeout_ms == DEFAULT_TIMEOUT_MS
    sarmalink = policy.backends["sarmalink"]
    assert (sarmalink.local, sarmalink.model) == (False, "smart")
    assert sarmalink.api_key_env == "SARMALINK_API_KEY"
    frontier = policy.backends["frontier"]
    assert (frontier.local, frontier.model, frontier.p50_ms) == (False, "gpt-4o", 900)
    assert frontier.api_key_env == "OPENAI_API_KEY"

    first, second, last = policy.routes
    assert first.index == 0
    assert first.match == Match(sensitivity=frozenset({"high"}))
    assert (first.backend, first.fallbacks) == ("local", ())
    assert first.reason == "Privacy: never leave the machine"
    assert first.latency_budget_ms is None
    assert second.match == Match(
        task=frozenset({"code"}), complexity=frozenset({"low"})
    )
    assert (second.backend, second.fallbacks) == ("local", ("sarmalink",))
    assert second.latency_budget_ms == 2500
    assert second.reason == "task=code, complexity=low"
    assert last.is_default and last.index == 2
    assert (last.backend, last.fallbacks) == ("local", ("sarmalink",))
    assert last.latency_budget_ms == 1200
    assert last.reason == "default route"
    assert policy.ab.enabled is False
    assert policy.ab.sample_rate == 0.05
    assert policy.ab.candidates == {"local": "sarmalink"}
    assert (policy.ab.min_samples, policy.ab.max_concurrent) == (200, 4)
    assert policy.privacy.pin == "high"
    assert policy.classifier == ClassifierConfig()


def test_example_policy_loads() -> None:
    path = ROOT / "policy.example.yaml"
    policy = load_policy(path)
    assert policy.source == str(path)
    assert len(policy.backends) == 3
    assert len(policy.routes) == 3
    route = policy.routes[1]
    assert (route.backend, *route.fallbacks) == ("local", "sarmalink")
    assert route.latency_budget_ms == 2500
    assert policy.backends["local"].local is True
    assert not policy.backends["sarmalink"].local
    assert not policy.backends["frontier"].local
    assert policy.ab.enabled is False
    assert policy.ab.sample_rate == 0.05


def test_example_means_the_seed() -> None:
    example = load_policy(ROOT / "policy.example.yaml")
    seed = load_policy_text(SEED, str(ROOT / "policy.example.yaml"))
    # Equal in meaning; the digest says which text it came from.
    assert example.digest != seed.digest
    assert msgspec.structs.replace(example, digest="") == msgspec.structs.replace(
        seed, digest=""
    )


def test_example_documents_every_key() -> None:
    text = (ROOT / "policy.example.yaml").read_text()
    keys = [
        *("backends", "type", "endpoint", "model", "models", "families", "p50Ms"),
        *("local", "apiKeyEnv", "timeoutMs", "routes", "match", "task"),
        *("complexity", "sensitivity", "modality", "family", "tokens", "gt"),
        *("gte", "lt", "lte", "backend", "default", "fallback", "latencyBudgetMs"),
        *("reason", "name", "privacy", "pin", "ab", "enabled", "sampleRate"),
        *("unreadable", "files", "audio", "images"),
        *("minSamples", "maxConcurrent", "candidates", "classifier"),
        *("options", "keepAlive", "cost", "inputPer1M", "outputPer1M", "baseline"),
        *("circuit", "failures", "failureRate", "window", "cooldownMs"),
        *("maxCooldownMs", "probes", "clientOptions", "allow", "max", "keepAliveMax"),
        *(f.encode_name for f in msgspec.structs.fields(ClassifierConfig)),
    ]
    missing = [k for k in keys if not re.search(rf"(?<![\w-]){k}(?![\w-])", text)]
    assert missing == []


def test_every_key_compiles() -> None:
    policy = load_policy(DATA / "full.yaml")
    box, gpu, cloud = policy.backends.values()
    assert (box.name, box.model, box.p50_ms, box.timeout_ms) == (
        "box",
        "llama4:16x17b",
        250.5,
        30000,
    )
    assert box.api_key_env is None
    assert (gpu.name, gpu.local, gpu.api_key_env) == ("lan-gpu.2", True, "LAN_GPU_KEY")
    assert gpu.p50_ms == DEFAULT_P50_MS
    assert (cloud.local, cloud.families) == (False, {"gpt": "gpt-4o"})
    hard, mini, rest = policy.routes
    assert hard.name == "long-hard"
    assert hard.match == Match(
        task=frozenset({"general", "web_search"}),
        complexity=frozenset({"medium", "high"}),
        sensitivity=frozenset({"low"}),
        modality=frozenset({"text", "multi"}),
        family=frozenset({"gpt"}),
        model=frozenset({"gpt-4o", "auto"}),
        tokens_gt=100,
        tokens_gte=200,
        tokens_lt=100000,
        tokens_lte=50000,
    )
    assert hard.fallbacks == ("lan-gpu.2", "box")
    assert hard.latency_budget_ms == 8000.5
    assert hard.reason == "Long, hard questions go to the cloud"
    assert mini.reason == "model=gpt-4o-mini, tokens<=10"
    assert (rest.name, rest.backend, rest.fallbacks) == ("rest", "box", ())
    assert policy.privacy.pin == "medium"
    assert policy.privacy.unreadable == Unreadable(
        files="medium", audio="low", images="high"
    )
    assert policy.ab.enabled is True
    assert (policy.ab.sample_rate, policy.ab.min_samples) == (1.0, 50)
    assert policy.ab.max_concurrent == 2
    assert policy.ab.candidates == {"box": "lan-gpu.2", "cloud_1": "box"}
    assert policy.classifier == ClassifierConfig(
        medium_tokens=1000,
        high_tokens=1000,
        medium_markers=2,
        high_markers=4,
        medium_code_blocks=1,
        high_code_blocks=3,
    )


def test_compiled_types() -> None:
    policy = load_policy(DATA / "full.yaml")
    assert isinstance(policy.routes, tuple)
    route = policy.routes[0]
    assert isinstance(route.fallbacks, tuple)
    assert route.match is not None and isinstance(route.match.task, frozenset)
    assert isinstance(policy.backends["box"].models, tuple)
    assert isinstance(policy.backends["box"].p50_ms, float)


def test_defaults() -> None:
    policy = load(MINIMAL)
    backend = policy.backends["a"]
    assert backend.p50_ms == DEFAULT_P50_MS
    assert backend.timeout_ms == DEFAULT_TIMEOUT_MS
    assert backend.local is True
    assert backend.api_key_env is None
    assert policy.privacy.pin == "high"
    assert policy.privacy.unreadable == Unreadable(
        files="high", audio="high", images="low"
    )
    assert policy.ab.enabled is False
    assert policy.ab.sample_rate == 0.0
    assert policy.ab.candidates == {}
    assert policy.classifier == ClassifierConfig()


@pytest.mark.parametrize(
    ("extra", "local", "key_env"),
    [
        ("type: ollama", False, None),
        ("type: openai", False, "OPENAI_API_KEY"),
        ("type: sarmalink", False, "SARMALINK_API_KEY"),
        ("type: ollama, local: false", False, None),
        ("type: ollama, local: true", True, None),
        ("type: openai, local: true, apiKeyEnv: null", True, None),
        ("type: openai, apiKeyEnv: VLLM_KEY", False, "VLLM_KEY"),
    ],
)
def test_backend_type_defaults(extra: str, local: bool, key_env: str | None) -> None:
    policy = load(f"""\
        backends:
          b: {{{extra}, endpoint: "https://h.example", model: m}}
        routes:
          - default: b
        """)
    assert policy.backends["b"].local is local
    assert policy.backends["b"].api_key_env == key_env


@pytest.mark.parametrize(
    ("type_", "endpoint", "local"),
    [
        ("ollama", "http://localhost:11434", True),
        ("ollama", "http://LOCALHOST.:11434", True),
        ("ollama", "http://127.0.0.1:11434", True),
        ("ollama", "http://127.8.9.10:11434", True),
        ("ollama", "http://[::1]:11434", True),
        ("ollama", "http://[::ffff:127.0.0.1]:11434", True),
        # The host is what comes after the userinfo, as aiohttp connects.
        ("ollama", "http://127.0.0.1@ollama.com:443", False),
        ("ollama", "http://localhost.example.com:11434", False),
        ("ollama", "http://192.168.1.20:11434", False),
        ("ollama", "http://0.0.0.0:11434", False),
        ("ollama", "https://ollama.com", False),
        # Only Ollama is local by default; other types need `local: true`.
        ("openai", "http://127.0.0.1:8000/v1", False),
    ],
)
def test_locality_is_checked_from_the_endpoint(
    type_: str, endpoint: str, local: bool
) -> None:
    policy = load(f"""\
        backends:
          b: {{type: {type_}, endpoint: "{endpoint}", model: m, apiKeyEnv: null}}
        routes:
          - default: b
        """)
    assert policy.backends["b"].local is local


@pytest.mark.parametrize(
    "endpoint",
    ["https://ollama.com", "https://api.ollama.com/v1", "https://api.openai.com/v1"],
)
def test_local_true_on_a_hosted_service_is_refused(endpoint: str) -> None:
    text = f"""\
backends:
  b:
    type: ollama
    endpoint: "{endpoint}"
    model: m
    local: true
routes:
  - default: b
"""
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "p.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.col, problem.path) == (6, 12, "backends.b.local")
    assert "hosted service" in problem.message


@pytest.mark.parametrize(
    ("match", "reason"),
    [
        ("{task: code, complexity: low}", "task=code, complexity=low"),
        ("{complexity: low, task: code}", "task=code, complexity=low"),
        ("{task: [code, vision]}", "task=code|vision"),
        ("{family: gemma, modality: image}", "modality=image, family=gemma"),
        ("{model: [gpt-4o, o3]}", "model=gpt-4o|o3"),
        ("{tokens: {gte: 1000, lt: 16000}}", "tokens>=1000, tokens<16000"),
        ("{sensitivity: medium, tokens: {gt: 0}}", "sensitivity=medium, tokens>0"),
    ],
)
def test_generated_reason(match: str, reason: str) -> None:
    policy = load(f"""\
        backends:
          a: {{type: ollama, endpoint: "http://h", model: m}}
        routes:
          - match: {match}
            backend: a
          - default: a
        """)
    assert policy.routes[0].reason == reason


def test_fallback_list_and_scalar() -> None:
    policy = load("""\
        backends:
          a: {type: ollama, endpoint: "http://h", model: m}
          b: {type: ollama, endpoint: "http://h", model: m}
          c: {type: ollama, endpoint: "http://h", model: m}
        routes:
          - {match: {task: code}, backend: a, fallback: [b, c]}
          - {default: c, fallback: a}
        """)
    assert policy.routes[0].fallbacks == ("b", "c")
    assert policy.routes[1].fallbacks == ("a",)


def test_anchors_and_aliases_work() -> None:
    policy = load("""\
        backends:
          a: {type: ollama, endpoint: "http://h", families: &fam {gemma: g:1}}
          b: {type: ollama, endpoint: "http://h2", families: *fam}
        routes:
          - default: a
        """)
    assert policy.backends["b"].families == {"gemma": "g:1"}


def test_load_policy_accepts_str_path() -> None:
    path = str(DATA / "full.yaml")
    assert load_policy(path).source == path


def test_check_policy_ok_is_empty() -> None:
    assert check_policy(ROOT / "policy.example.yaml") == []
    assert check_policy(DATA / "full.yaml") == []


def test_check_policy_returns_problems() -> None:
    problems = check_policy(DATA / "many_problems.yaml")
    assert problems
    assert all(isinstance(p, Problem) for p in problems)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1:1: (file): cannot read: No such file or directory"
    ]


def test_directory_is_not_a_policy(tmp_path: Path) -> None:
    [problem] = check_policy(tmp_path)
    assert str(problem) == f"{tmp_path}:1:1: (file): cannot read: Is a directory"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"backends: {caf\xe9: {}}\n")
    [problem] = check_policy(path)
    assert (problem.line, problem.col, problem.path) == (1, 1, "(file)")
    assert problem.message.startswith("cannot read: not UTF-8")


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert check_policy(path) == []


def test_policy_error_message_lists_every_problem() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(DATA / "many_problems.yaml")
    assert str(info.value).splitlines() == [str(p) for p in info.value.problems]


def test_ollama_options_and_keep_alive() -> None:
    policy = load_policy_text(
        "backends:\n"
        "  local: {type: ollama, endpoint: http://127.0.0.1:11434, model: m,\n"
        "          options: {num_ctx: 8192}, keepAlive: 10m}\n"
        "routes:\n"
        "  - default: local\n"
    )
    b = policy.backends["local"]
    assert b.options == {"num_ctx": 8192} and b.keep_alive == "10m"
    with pytest.raises(PolicyError, match=r"backends\.local\.options"):
        load_policy_text(
            "backends:\n"
            "  local: {type: ollama, endpoint: http://127.0.0.1:1, model: m, options: 3}\n"
            "routes:\n"
            "  - default: local\n"
        )


COSTED = (
    "backends:\n"
    "  local: {type: ollama, endpoint: http://127.0.0.1:11434, model: m}\n"
    "  frontier: {type: openai, endpoint: https://api.openai.com/v1, model: gpt-4o,\n"
    "             cost: {inputPer1M: 2.5, outputPer1M: 10}}\n"
    "routes:\n"
    "  - default: local\n"
)


def test_cost_and_baseline() -> None:
    policy = load_policy_text(COSTED + "baseline: frontier\n")
    assert policy.baseline == "frontier"
    cost = policy.backends["frontier"].cost
    assert cost is not None and (cost.input_per_1m, cost.output_per_1m) == (2.5, 10)
    assert policy.backends["local"].cost is None
    assert load_policy_text(COSTED).baseline is None


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("baseline: nowhere\n", "<string>:7:11: baseline: unknown backend 'nowhere'"),
        ("baseline: [a]\n", "<string>:7:11: baseline: expected `str`"),
    ],
)
def test_bad_baseline(extra: str, where: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(COSTED + extra)
    assert str(info.value).startswith(where)


def test_bad_cost() -> None:
    with pytest.raises(PolicyError, match=r"backends\.frontier\.cost\.inputPer1M"):
        load_policy_text(COSTED.replace("inputPer1M: 2.5", "inputPer1M: -1"))
    with pytest.raises(PolicyError, match=r"backends\.frontier\.cost\.outputPer1M"):
        load_policy_text(COSTED.replace(", outputPer1M: 10", ""))


def test_circuit_block_compiles_and_is_checked() -> None:
    text = """\
backends:
  b:
    type: ollama
    endpoint: "http://localhost:11434"
    model: m
    circuit: {failures: 2, failureRate: 0.25, window: 8, cooldownMs: 500,
              maxCooldownMs: 4000, probes: 3}
routes:
  - default: b
"""
    c = load_policy_text(text).backends["b"].circuit
    assert (c.failures, c.rate, c.window, c.probes) == (2, 0.25, 8, 3)
    assert (c.cooldown_s, c.max_cooldown_s) == (0.5, 4.0)
    for old, new, path in (
        ("maxCooldownMs: 4000", "maxCooldownMs: 100", "maxCooldownMs"),
        ("probes: 3", "probes: 0", "probes"),
        ("window: 8", "windw: 8", "windw"),
    ):
        changed = text.replace(old, new)
        with pytest.raises(PolicyError) as info:
            load_policy_text(changed, "p.yaml")
        (problem,) = info.value.problems
        line = next(i for i, t in enumerate(changed.splitlines(), 1) if f"{path}:" in t)
        assert (problem.line, problem.path) == (line, f"backends.b.circuit.{path}")
