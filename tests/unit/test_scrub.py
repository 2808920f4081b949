"""Upstream error bodies: parsed where they parse, never relayed with a credential."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.backends.scrub import REDACTED, UpstreamProblem, scrub

KEY = "sk-router-own-key-0123456789abcdef"
CUSTOM = "zz-custom-token-9f8e7d6c5b4a"


@pytest.mark.parametrize(
    "echo",
    [
        f'{{"headers": {{"Authorization": "Bearer {KEY}"}}}}',
        f"{{'authorization': 'Bearer {KEY}', 'x-request-id': 'r1'}}",
        f"POST /v1/chat\r\nAuthorization: Bearer {KEY}\r\nHost: x\r\n",
        f"api-key: {CUSTOM}",
        f'"x-api-key":"{CUSTOM}"',
        f"Cookie: session={CUSTOM}; other=1",
        f"token was Bearer {CUSTOM}.",
        f"Basic {CUSTOM}",
        f"bad key {KEY}",
        f"sent {CUSTOM} here",
    ],
)
def test_credentials_are_removed(echo: str) -> None:
    out = scrub(echo, [CUSTOM])
    assert KEY not in out and CUSTOM not in out
    assert REDACTED in out


def test_a_truncated_key_at_the_end_is_cut() -> None:
    out = scrub(f"echo: {CUSTOM[:12]}", [CUSTOM])
    assert out == f"echo: {REDACTED}"
    # A short common tail is not taken for a key.
    assert scrub("status zz", [CUSTOM]) == "status zz"


def test_plain_messages_are_kept() -> None:
    text = "model 'llama3.2' not found, try pulling it first"
    assert scrub(text, [CUSTOM]) == text


@given(st.text(max_size=40), st.text(max_size=40))
def test_own_key_never_survives(before: str, after: str) -> None:
    out = scrub(before + CUSTOM + after, [CUSTOM])
    assert CUSTOM not in out


def test_openai_error_keeps_type_code_param() -> None:
    raw = orjson.dumps(
        {
            "error": {
                "message": f"Incorrect API key provided: {KEY}",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "invalid_api_key",
            }
        }
    )
    p = UpstreamProblem(raw, [KEY])
    body = orjson.loads(p.client_body("frontier", 401))["error"]
    assert body == {
        "message": f"backend frontier answered HTTP 401: Incorrect API key "
        f"provided: {REDACTED}",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "invalid_api_key",
    }


def test_ollama_error_string_and_default_code() -> None:
    p = UpstreamProblem(b'{"error": "model \'x\' not found"}', [])
    body = orjson.loads(p.client_body("local", 404, "model_not_found"))["error"]
    assert body["message"] == "backend local answered HTTP 404: model 'x' not found"
    assert body["type"] == "invalid_request_error"
    assert body["code"] == "model_not_found" and body["param"] is None


def test_unparsed_body_is_short_and_typed_by_status() -> None:
    raw = ("<html>" + "x" * 1000 + f" Authorization: Bearer {KEY}</html>").encode()
    p = UpstreamProblem(raw, [KEY])
    assert len(p.message) <= 300 and KEY not in p.message
    body = orjson.loads(p.client_body("b", 403))["error"]
    assert body["type"] == "permission_error" and body["code"] is None
    assert p.describe(500).startswith("HTTP 500: <html>")


def test_non_string_fields_are_dropped_and_numbers_kept() -> None:
    raw = orjson.dumps({"error": {"message": ["x"], "type": 7, "code": 42}})
    p = UpstreamProblem(raw, [])
    body = orjson.loads(p.client_body("b", 400))["error"]
    assert body["type"] == "7" and body["code"] == "42"
    assert body["message"].startswith("backend b answered HTTP 400: ")
