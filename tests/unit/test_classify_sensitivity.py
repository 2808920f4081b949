"""Sensitivity: what pins a request (high), what marks it (medium), and the
look-alikes that must not (versions, order numbers, hashes, placeholders).

Credentials are assembled from pieces so that no literal one sits in the
repository for secret scanners to trip on.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import msgspec
import pytest

from router.classify import REFERENCE, Classify
from router.classify.types import Classification
from router.wire import ChatMessage, ChatRequest

DATA = Path(__file__).resolve().parents[1] / "data" / "classify"
CASES = [
    msgspec.json.decode(line)
    for line in (DATA / "sensitivity.jsonl").read_bytes().splitlines()
    if line
]


def run(text: str, classifier: Classify) -> Classification:
    request = ChatRequest(
        model="auto", messages=[ChatMessage(role="user", content=text)]
    )
    return classifier(request)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:40])
def test_pii_cases(case: dict[str, Any], classifier: Classify) -> None:
    c = run(case["text"], classifier)
    assert c.sensitivity == case["level"], c.signals
    assert set(case.get("signals", [])) <= set(c.signals)
    assert not set(case.get("absent", [])) & set(c.signals)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


JWT = ".".join(
    [
        _b64(b'{"alg":"HS256","typ":"JWT"}'),
        _b64(b'{"sub":"42","n":"x"}'),
        "c2lnbmF0dXJl",
    ]
)
SECRET40 = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq8v1KeyA9"
POSITIVES = [
    ("key AKIA" + "LALEMEL33243OLIB", "secret:aws_access_key"),
    ('aws_secret_access_key = "' + SECRET40 + '"', "secret:aws_secret_key"),
    (
        "GITHUB_TOKEN=gh" + "p_bxv4wsqwinwj0xqprx8gsw9kx87rf2arsk0n",
        "secret:github_token",
    ),
    ("github_" + "pat_11ABCDEFG0" + "abcdEFGH1234" * 6, "secret:github_token"),
    ("export GL=glpat" + "-20alaf9l89tdhx1s0zaj", "secret:gitlab_token"),
    (
        "xox" + "b-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD",
        "secret:slack_token",
    ),
    (
        "https://hooks.slack.com/services/" + "T0DCUJB1Q/B0DD08H5G/bJtrpFi1fO1JMCcwL",
        "secret:slack_webhook",
    ),
    (
        "sk-proj-" + "Xi8tdMjHV6pmbBbwilTe" + "T3BlbkFJ" + "3UDnpdEwNNm6wVBpYM0o",
        "secret:openai_key",
    ),
    (
        "sk-" + "svcacct-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3",
        "secret:openai_key",
    ),
    (
        "sk-ant-" + "api03-" + "wvwywgbii2wigdr_kcv95f61xb0um8k" * 3 + "AA",
        "secret:anthropic_key",
    ),
    ("key=AIza" + "SyNHxIf32IQ1a1yjl3ZJIqKZqzLAK1XhDk7", "secret:google_api_key"),
    ("stripe sk_" + "live_ReTllpYQYfIZu2Jnf2lAPFjD", "secret:stripe_key"),
    ("rk_" + "test_5TcWfjKmJgpql9hjpRnwRXbT", "secret:stripe_key"),
    ("Authorization: Bearer " + JWT, "secret:jwt"),
    (
        "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAn6\n",
        "secret:private_key",
    ),
    (
        "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n",
        "secret:private_key",
    ),
    (
        "-----BEGIN " + "PGP PRIVATE KEY BLOCK-----\nlQWGBGSVV4YB\n",
        "secret:private_key",
    ),
    ('password = "' + "Tr0ub4dor&3xyz" + '"', "secret:assignment"),
    ("api_key: " + "7f9c2ba4e88f827d616045507605853e", "secret:assignment"),
    ('token => "' + "s3cr3t-T0ken-value" + '"', "secret:assignment"),
    ("db_pass := " + "m{{h}o)p${e]nob(ody", "secret:assignment"),
    ("My password is " + "Tr0ub4dor&3", "secret:assignment"),
    (
        "postgres://admin:" + "S3cr3tPw" + "@db.internal:5432/app",
        "secret:url_credentials",
    ),
    ("https://x.example/cb?access_token=" + JWT, "secret:jwt"),
    (
        "curl -u 'elastic:" + "P@ssw0rd$1" + "' https://es:9200",
        "secret:cli_credentials",
    ),
    ("-H 'Authorization: Basic " + "YnJvd3Nlcjpz3cr3t=" + "'", "secret:auth_header"),
]
NEGATIVES = [
    "gh" + "p_" + "x" * 36,
    "AKIA" + "IOSFODNN7EXAMPLE",
    'password = ""',
    "password: ${DB_PASSWORD}",
    'api_key = "your_api_key_here"',
    'password = "changeme"',
    "token = tokens[i]",
    "secret_length = 32",
    'api_key = os.environ["API_KEY"]',
    "password: <your password>",
    "password = 'xxxxxxxx'",
    "postgres://user:${PGPASSWORD}@host/db",
    "postgres://user:****@host/db",
    "Authorization: Bearer <token>",
    "Authorization: Bearer $TOKEN",
    "pip install sk-learn-compatible-estimator-for-text",
    "The password is incorrect, try again",
    "max_tokens: 256",
    'tokenizer = AutoTokenizer.from_pretrained("gpt2")',
    "eyJBB.eyJCC.eyJDDDD",
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
]


@pytest.mark.parametrize(("text", "signal"), POSITIVES, ids=lambda x: str(x)[:24])
def test_credentials_pin(text: str, signal: str, classifier: Classify) -> None:
    c = run(text, classifier)
    assert c.sensitivity == "high"
    assert signal in c.signals


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda x: x[:24])
def test_placeholders_and_lookalikes_do_not_pin(
    text: str, classifier: Classify
) -> None:
    c = run(text, classifier)
    assert c.sensitivity != "high", c.signals


@pytest.mark.parametrize(("text", "signal"), POSITIVES, ids=lambda x: str(x)[:24])
def test_signals_and_output_never_carry_the_secret(text: str, signal: str) -> None:
    c = run(text, REFERENCE.classify)
    encoded = msgspec.json.encode(c).decode()
    for piece in ("LALEMEL33243OLIB", "Tr0ub4dor", "S3cr3tPw", "P@ssw0rd", "T3BlbkFJ"):
        assert piece not in encoded
    assert all(":" in s and " " not in s for s in c.signals)
