"""Fuzzing a real `llm-router serve` (loopback only, seeded, bounded): the
router's own OpenAPI description driven by schemathesis, then hypothesis
throwing arbitrary JSON, wrong types, invalid UTF-8, lone surrogates, NUL
bytes, deep nesting, 20k-message conversations and huge strings at every
endpoint. Invariants: never a 5xx (the fake backend is healthy, so any 5xx
would be the router's own), every error OpenAI-shaped without internals,
the server alive afterwards with no traceback in its log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.api.openapi import document
from router.app import create_app
from router.policy import load_policy
from router.settings import Settings
from tests.functional.procs import Router, fake_upstream, policy_text, router

ROOT = Path(__file__).resolve().parents[2]
POSTS = ["/v1/chat/completions", "/v1/responses", "/v1/route"]
GETS = ["/health", "/ready", "/v1/models", "/metrics", "/v1/metrics", "/v1/ab"]
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
INTERNALS = ("Traceback", str(ROOT), "site-packages", '.py"', "policy.yaml")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with fake_upstream("--no-record") as fake, router(tmp, policy_text(fake)) as r:
        yield r
        assert r.proc.poll() is None, "the router died under fuzzing"
        assert requests.get(r.url + "/health", timeout=10).status_code == 200
    log = r.output()
    assert "Traceback" not in log and "unhandled error" not in log, log[-4000:]


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def check(r: requests.Response) -> None:
    """The invariants of one answer."""
    assert r.status_code < 500, (r.status_code, r.text[:500])
    text = r.text
    for internal in INTERNALS:
        assert internal not in text, (internal, text[:500])
    if r.status_code >= 400 and r.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert isinstance(error["message"], str) and error["message"]


schema = schemathesis.openapi.from_dict(document())


@schema.parametrize()
@FUZZ
def test_the_routers_own_api_description(
    case: Any, served: Router, http: requests.Session
) -> None:
    check(case.call(base_url=served.url, session=http, timeout=30))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("path", POSTS)
@FUZZ
@given(value=json_values)
def test_arbitrary_json(
    served: Router, http: requests.Session, path: str, value: object
) -> None:
    # The stdlib's encoder: big integers, NaN and lone surrogates as escapes.
    check(http.post(served.url + path, data=json.dumps(value), timeout=30))


VALID = {
    "/v1/chat/completions": {
        "model": "auto",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    },
    "/v1/responses": {
        "model": "auto",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "instructions": "be brief",
    },
}
VALID["/v1/route"] = VALID["/v1/chat/completions"]


def _set(body: Any, path: list[str | int], value: object) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        return {**body, head: _set(body.get(head), rest, value)}
    if isinstance(body, list) and isinstance(head, int) and head < len(body):
        return [*body[:head], _set(body[head], rest, value), *body[head + 1 :]]
    return value


PLACES: list[list[str | int]] = [
    ["model"], ["messages"], ["messages", 0], ["messages", 0, "role"],
    ["messages", 0, "content"], ["messages", 0, "content", 0, "type"],
    ["input"], ["input", 0, "content"], ["instructions"], ["stream"],
    ["tools"], ["metadata"], ["temperature"], ["user"],
]  # fmt: skip


@pytest.mark.parametrize("path", POSTS)
@FUZZ
@given(place=st.sampled_from(PLACES), value=json_values)
def test_wrong_types_in_a_valid_body(
    served: Router,
    http: requests.Session,
    path: str,
    place: list[str | int],
    value: object,
) -> None:
    body = _set(VALID[path], place, value)
    check(http.post(served.url + path, data=json.dumps(body), timeout=30))


HOSTILE_STRINGS = [
    b'"\\ud800"',  # a lone high surrogate
    b'"\\udfff tail"',
    b'"nul \\u0000 inside"',
    b'"\xff\xfe not utf-8"',
    b'"\xc3\x28 bad continuation"',
    b'"\xed\xa0\x80 encoded surrogate"',
    b'"raw nul \x00 byte"',
]


@pytest.mark.parametrize("path", POSTS)
@FUZZ
@given(
    raw=st.sampled_from(HOSTILE_STRINGS),
    where=st.sampled_from(["model", "content", "role", "metadata", "user"]),
)
def test_invalid_text_in_any_field(
    served: Router, http: requests.Session, path: str, raw: bytes, where: str
) -> None:
    values = {"model": b'"auto"', "content": b'"hi"', "role": b'"user"'}
    values[where] = raw
    extra = b',"metadata":{"k":%s}' % raw if where == "metadata" else b""
    extra += b',"user":%s' % raw if where == "user" else b""
    key = b"input" if path == "/v1/responses" else b"messages"
    body = b'{"model":%s,"%s":[{"role":%s,"content":%s}]%s}' % (
        values["model"],
        key,
        values["role"],
        values["content"],
        extra,
    )
    check(http.post(served.url + path, data=body, timeout=30))


@pytest.mark.parametrize("path", POSTS)
@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(
    served: Router, http: requests.Session, path: str, data: bytes
) -> None:
    check(http.post(served.url + path, data=data, timeout=30))


def _big(path: str, kind: str) -> bytes:
    key = "input" if path == "/v1/responses" else "messages"
    if kind == "deep":
        return (
            b'{"model":"auto","%s":' % key.encode()
            + b"[" * 50_000
            + b"]" * 50_000
            + b"}"
        )
    if kind == "20k-messages":
        body: dict[str, object] = {
            "model": "auto", key: [{"role": "user", "content": "hi"}] * 20_000
        }  # fmt: skip
    elif kind == "huge-string":
        body = {"model": "auto", key: [{"role": "user", "content": "A" * 8_000_000}]}
    elif kind == "huge-model":
        body = {"model": "m" * 1_000_000, key: [{"role": "user", "content": "hi"}]}
    else:
        body = {
            "model": "auto",
            key: [{"role": "user", "content": "hi"}],
            "pad": "x" * 40_000_000,
        }
    return orjson.dumps(body)


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    "kind", ["deep", "20k-messages", "huge-string", "huge-model", "past-body-limit"]
)
def test_big_inputs(
    served: Router, http: requests.Session, path: str, kind: str
) -> None:
    r = http.post(served.url + path, data=_big(path, kind), timeout=60)
    check(r)
    if kind != "huge-string":
        assert r.status_code in (400, 413), r.text[:300]


@pytest.mark.parametrize("path", GETS)
def test_every_get_answers_without_internals(
    served: Router, http: requests.Session, path: str
) -> None:
    check(http.get(served.url + path, timeout=30))


def test_garbage_on_the_socket_leaves_the_server_alive(served: Router) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    for junk in (b"\x00" * 64, b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00"):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            answer = s.recv(65536)
        assert not answer.startswith(b"HTTP/1.1 5"), answer[:200]
    assert requests.get(served.url + "/health", timeout=10).status_code == 200


def test_the_description_names_every_route_and_no_other() -> None:
    example = str(ROOT / "policy.example.yaml")
    app = create_app(load_policy(example), Settings(policy=example, db="off"))
    served = {
        (r.method.lower(), r.resource.canonical)
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    described = {
        (method, path)
        for path, operations in document()["paths"].items()
        for method in operations
    }
    assert described == served
