"""Shared checks for the translate tests: validation against the OpenAI OpenAPI
document (../shared/specs) and an offline OpenAI SDK client; plus their tests.

The other test_translate_* modules import from here. The spec is loaded once
per session (functools.cache) and skipped cleanly when it is absent.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from router.translate import encode_sse

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "specs" / "openai_openapi.yaml"
DATA = ROOT / "tests" / "data" / "translate"
BASE = "urn:openai-openapi"


def data(name: str) -> Any:
    """A JSON file, or an NDJSON file as a list, from tests/data/translate."""
    text = (DATA / name).read_bytes()
    if name.endswith(".ndjson"):
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]
    return orjson.loads(text)


def as_json_schema(node: Any) -> Any:
    """Fix the OpenAPI document's two dialect slips for jsonschema.

    3.0-style `nullable: true` becomes a union with null (3.1 ignores it).
    A `oneOf` with a `discriminator` is picked by that property in OpenAPI,
    which jsonschema ignores; some branches overlap by shape (an easy input
    message is also an input message), so it is checked as `anyOf`.
    """
    if isinstance(node, list):
        return [as_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
    if "discriminator" in node and "oneOf" in node:
        out["anyOf"] = out.pop("oneOf")
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _document() -> dict[str, Any]:
    if not SPEC.is_file():
        pytest.skip(f"OpenAI spec not found at {SPEC}")
    with SPEC.open("rb") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=yaml.CSafeLoader)
    converted: dict[str, Any] = as_json_schema(loaded)
    return converted


@functools.cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    document = _document()
    assert name in document["components"]["schemas"], name
    registry: Registry[Any] = Registry().with_resource(
        BASE, DRAFT202012.create_resource(document)
    )
    return Draft202012Validator(
        {"$ref": f"{BASE}#/components/schemas/{name}"}, registry=registry
    )


@functools.cache
def _event_schemas() -> dict[str, str]:
    """Responses stream event type -> the name of its schema component."""
    schemas = _document()["components"]["schemas"]
    out: dict[str, str] = {}
    for ref in schemas["ResponseStreamEvent"]["anyOf"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        out[schemas[name]["properties"]["type"]["enum"][0]] = name
    return out


def validate(name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits `name`."""
    from jsonschema import ValidationError

    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: e.path)
    if errors:
        raise ValidationError(
            "; ".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)
        )


def validate_events(events: Iterable[dict[str, Any]]) -> None:
    """Every event against its own schema and the ResponseStreamEvent union;
    sequence numbers strictly increasing from 0."""
    kinds = _event_schemas()
    for n, event in enumerate(events):
        assert event["sequence_number"] == n, event
        validate(kinds[event["type"]], event)
        validate("ResponseStreamEvent", event)


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A chat completion message's tool call."""
    function = {"name": name, "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


def call_delta(
    index: int,
    call_id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
) -> dict[str, Any]:
    """A chat completion chunk's tool call delta; parts left as None are absent."""
    delta: dict[str, Any] = {"index": index}
    if call_id is not None:
        delta.update(id=call_id, type="function")
    function = {"name": name, "arguments": arguments}
    function = {k: v for k, v in function.items() if v is not None}
    if function:
        delta["function"] = function
    return delta


def openai_client(body: bytes, content_type: str, seen: list[Any] | None = None) -> Any:
    """An OpenAI SDK client whose every request is answered with `body`,
    through the SDK's own HTTP stack and a mock transport (no network)."""
    openai = pytest.importorskip("openai")
    import openai._base_client as base

    http = vars(base).get("httpx2") or vars(base)["httpx"]

    def answer(request: Any) -> Any:
        if seen is not None:
            seen.append(request)
        return http.Response(200, headers={"content-type": content_type}, content=body)

    return openai.OpenAI(
        api_key="test",
        base_url="http://router.test/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(answer)),
    )


def json_client(obj: Any) -> Any:
    return openai_client(orjson.dumps(obj), "application/json")


def sse_client(encoded: Iterable[bytes]) -> Any:
    return openai_client(b"".join(encoded), "text/event-stream")


def sdk_stream(events: Iterable[dict[str, Any]]) -> tuple[list[str], Any]:
    """Events through the SDK's `responses.stream()` helper: the text deltas it
    reports and its final Response."""
    client = sse_client(encode_sse(e) for e in events)
    with client.responses.stream(model="auto", input="x") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        return deltas, stream.get_final_response()


# The checks above are used by every other test_translate_* module; test them.


def test_discriminated_one_of_is_checked_as_any_of() -> None:
    schema = {"oneOf": [{"type": "object"}], "discriminator": {"propertyName": "type"}}
    assert as_json_schema(schema) == {
        "anyOf": [{"type": "object"}],
        "discriminator": {"propertyName": "type"},
    }
    assert as_json_schema({"oneOf": [{"type": "string"}]}) == {
        "oneOf": [{"type": "string"}]
    }


def test_nullable_becomes_a_union_with_null() -> None:
    schema = {
        "type": "object",
        "nullable": True,
        "properties": {"a": {"type": "string"}},
    }
    assert as_json_schema(schema) == {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "null"},
        ]
    }
    nested = {"items": [{"type": "integer", "nullable": True}], "nullable": False}
    assert as_json_schema(nested) == {
        "items": [{"anyOf": [{"type": "integer"}, {"type": "null"}]}]
    }


def test_spec_accepts_an_openai_chunk_with_null_usage() -> None:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": None}],
        "usage": None,
    }
    validate("CreateChatCompletionStreamResponse", chunk)


def test_spec_rejects_what_it_should() -> None:
    from jsonschema import ValidationError

    with pytest.raises(ValidationError):
        validate("CreateChatCompletionResponse", {"object": "chat.completion"})
    with pytest.raises(ValidationError):
        validate_events([{"type": "response.output_text.delta", "sequence_number": 0}])


def test_offline_client_never_touches_the_network() -> None:
    seen: list[Any] = []
    client = openai_client(b'{"object": "list", "data": []}', "application/json", seen)
    assert list(client.models.list()) == []
    assert [str(r.url) for r in seen] == ["http://router.test/v1/models"]


def test_error_codes_are_the_spec_enum() -> None:
    from router.translate.response_object import ERROR_CODES

    enum = _document()["components"]["schemas"]["ResponseErrorCode"]["enum"]
    assert set(enum) == ERROR_CODES
