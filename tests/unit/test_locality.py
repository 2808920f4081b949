"""Locality: loopback hosts, Ollama cloud model names, check's warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.policy import locality_warnings
from router.policy.locality import (
    cloud_domain,
    endpoint_host,
    is_cloud_model,
    is_loopback,
    public_addresses,
)


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        ("http://LocalHost.:11434/", "localhost"),
        ("http://[::1]:11434", "::1"),
        ("http://user:pw@127.0.0.1@evil.example:80/", "evil.example"),
        ("not a url", ""),
    ],
)
def test_endpoint_host_is_what_aiohttp_connects_to(endpoint: str, host: str) -> None:
    assert endpoint_host(endpoint) == host


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://localhost:1", True),
        ("http://127.0.0.1:1", True),
        ("http://127.255.255.254:1", True),
        ("http://[::1]:1", True),
        ("http://[::ffff:127.0.0.2]:1", True),
        ("http://128.0.0.1:1", False),
        ("http://[::2]:1", False),
        ("http://10.0.0.5:1", False),
        ("http://localhost.attacker.example:1", False),
        ("http://127.0.0.1.nip.example:1", False),
    ],
)
def test_loopback(endpoint: str, loopback: bool) -> None:
    assert is_loopback(endpoint) is loopback


@pytest.mark.parametrize(
    ("name", "cloud"),
    [
        # Ollama's internal/modelref: a `cloud` tag or a tag ending in -cloud.
        ("gpt-oss:120b-cloud", True),
        ("glm-4.6:cloud", True),
        ("GLM-4.6:CLOUD", True),
        (" qwen3-coder:480b-cloud ", True),
        ("library/deepseek-v3.1:671b-cloud", True),
        # No tag but the suffix: not cloud for Ollama, not local for us.
        ("mymodel-cloud", True),
        ("llama3.2", False),
        ("llama3.2:latest", False),
        ("cloudy:7b", False),
        ("gpt-oss:120b:local", False),
        ("soundcloud-llm:1b", False),
    ],
)
def test_cloud_model_names(name: str, cloud: bool) -> None:
    assert is_cloud_model(name) is cloud


@pytest.mark.parametrize(
    ("endpoint", "domain"),
    [
        ("https://ollama.com", "ollama.com"),
        ("https://api.ollama.com/v1", "ollama.com"),
        ("https://api.openai.com/v1", "openai.com"),
        ("https://notollama.com", None),
        ("http://localhost:11434", None),
    ],
)
def test_cloud_domain(endpoint: str, domain: str | None) -> None:
    assert cloud_domain(endpoint) == domain


def test_public_addresses_of_literals_and_names() -> None:
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return ["10.1.2.3", "93.184.215.14", "fe80::1", "2606:4700::1111"]

    assert public_addresses("8.8.8.8", resolver) == ["8.8.8.8"]
    assert public_addresses("192.168.1.20", resolver) == []
    assert asked == []  # literals are not resolved
    assert public_addresses("box.lan", resolver) == ["93.184.215.14", "2606:4700::1111"]
    assert asked == ["box.lan"]


POLICY = """\
backends:
  lan:
    type: ollama
    endpoint: http://192.168.1.20:11434
    model: m
  trusted:
    type: ollama
    endpoint: http://192.168.1.21:11434
    model: m
    local: true
  public:
    type: ollama
    endpoint: http://8.8.8.8:11434
    model: m
    local: true
  named:
    type: openai
    endpoint: http://gpu-box.example:8000/v1
    model: m
    apiKeyEnv: null
    local: true
  home:
    type: ollama
    endpoint: http://localhost:11434
    model: m
routes:
  - default: home
"""


def test_check_warns_about_locality(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY)
    names = {"gpu-box.example": ["203.0.113.9", "52.1.2.3"]}
    warnings = [str(w) for w in locality_warnings(path, lambda h: names.get(h, []))]
    assert warnings == [
        f"{path}:4:15: backends.lan.endpoint: warning: not local: 192.168.1.20 is "
        "not a loopback address, so pinned requests are never sent here; for an "
        "Ollama on your own network, set local: true",
        f"{path}:15:12: backends.public.local: warning: local: true, but 8.8.8.8 "
        "resolves to the public address 8.8.8.8; pinned requests sent here leave "
        "your network",
        f"{path}:21:12: backends.named.local: warning: local: true, but "
        "gpu-box.example resolves to the public address 52.1.2.3; pinned requests "
        "sent here leave your network",
    ]
