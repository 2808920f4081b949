"""`endpointEnv`: a backend's endpoint from the environment, checked like one
written in the file."""

from __future__ import annotations

import pytest

from router.errors import PolicyError
from router.policy import load_policy_text

POLICY = """\
backends:
  box:
    type: ollama
    endpoint: http://localhost:11434
    endpointEnv: LLR_TEST_BOX_URL
    model: m
  cloud: {type: openai, endpoint: "https://api.openai.com/v1", model: gpt-4o,
          endpointEnv: LLR_TEST_CLOUD_URL}
routes:
  - default: box
    fallback: cloud
"""


@pytest.fixture(autouse=True)
def _unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLR_TEST_BOX_URL", raising=False)
    monkeypatch.delenv("LLR_TEST_CLOUD_URL", raising=False)


@pytest.mark.parametrize("value", [None, ""])
def test_unset_or_empty_keeps_the_file_endpoint(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("LLR_TEST_BOX_URL", value)
    box = load_policy_text(POLICY).backends["box"]
    assert (box.endpoint, box.local) == ("http://localhost:11434", True)


def test_set_replaces_the_endpoint_and_locality_follows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLR_TEST_BOX_URL", "http://10.1.2.3:11434")
    monkeypatch.setenv("LLR_TEST_CLOUD_URL", "http://127.0.0.1:9999/v1")
    policy = load_policy_text(POLICY)
    box, cloud = policy.backends["box"], policy.backends["cloud"]
    # Not loopback any more, so not local; a loopback OpenAI-type backend
    # is still not local without `local: true`.
    assert (box.endpoint, box.local) == ("http://10.1.2.3:11434", False)
    assert (cloud.endpoint, cloud.local) == ("http://127.0.0.1:9999/v1", False)


def test_a_bad_value_is_reported_at_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLR_TEST_BOX_URL", "localhost:11434")
    with pytest.raises(PolicyError) as info:
        load_policy_text(POLICY, "p.yaml")
    assert [str(p) for p in info.value.problems] == [
        "p.yaml:5:18: backends.box.endpointEnv: $LLR_TEST_BOX_URL: expected an "
        "http:// or https:// URL with a host, got 'localhost:11434'"
    ]


def test_local_true_on_a_hosted_service_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLR_TEST_BOX_URL", "https://ollama.com")
    text = POLICY.replace("    model: m\n", "    model: m\n    local: true\n", 1)
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "p.yaml")
    assert "ollama.com is a hosted service" in str(info.value)


def test_the_name_must_be_a_variable_name() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(POLICY.replace("LLR_TEST_BOX_URL", "not-a-name"), "p.yaml")
    assert "backends.box.endpointEnv" in str(info.value)
