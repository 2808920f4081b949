"""Every string field of the OpenAI chat and Responses request schemas is
read for sensitivity, by both implementations.

The fields come from ../shared/specs/openai_openapi.yaml: every string leaf
reachable from CreateChatCompletionRequest and CreateResponse (through $ref,
allOf, anyOf/oneOf alternatives, properties, array items and map values),
plus the keys of every map (`additionalProperties`, e.g. metadata). For each
one a body is built with the required fields of every object on the way
filled minimally (enums with their first value) and a marker (an SSN and a
GitHub token) in that one field; the request must come out high with both
markers' signals. Enum-valued strings are structure, not text, and fields
named in the body read's SKIP allow-list (model, role, ids, ...) are not
read by design; both are counted and listed, not tested. Skipped when
../shared is absent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from router.classify import Classify
from router.classify.body import SKIP
from router.wire import ChatRequest, ResponsesRequest, decode_request

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "openai_openapi.yaml"
GHP = "ghp_" + "Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"
MARKER = f"SSN 078-05-1120 {GHP}"
MAX_DEPTH = 14
BASES = {
    "CreateChatCompletionRequest": {
        "model": "auto",
        "messages": [{"role": "user", "content": "hi"}],
    },
    "CreateResponse": {"model": "auto", "input": "hi"},
}

# Payloads read as media, not as text: a request holding one is high by
# what could not be read.
PAYLOADS = {"input_audio.data": "unreadable:audio"}

Build = Callable[[str], Any]
Leaf = tuple[str, str, Build]  # (path, field name, body part builder)


@functools.cache
def schemas() -> dict[str, Any]:
    spec = yaml.load(SPEC.read_text(), Loader=yaml.CSafeLoader)
    found: dict[str, Any] = spec["components"]["schemas"]
    return found


def field_name(path: str) -> str:
    """`a.b|0[]` -> `b`: the key a leaf is the value of."""
    return re.split(r"[|\[]", path.rsplit(".", 1)[-1])[0]


def resolve(schema: Any, refs: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in refs:
            return None, refs
        refs = (*refs, name)
        schema = schemas()[name]
    return schema, refs


def merged(schema: dict[str, Any], refs: tuple[str, ...]) -> dict[str, Any]:
    """An allOf folded into one object schema (properties and required)."""
    out: dict[str, Any] = {"properties": {}, "required": []}
    parts = [schema, *schema.get("allOf", ())]
    for part in parts:
        part, _ = resolve(part, refs)
        if not isinstance(part, dict):
            continue
        if part is not schema and "allOf" in part:
            part = merged(part, refs)
        out["properties"].update(part.get("properties", {}))
        out["required"] += part.get("required", [])
        for key in ("additionalProperties", "type", "anyOf", "oneOf"):
            if key in part and key not in out:
                out[key] = part[key]
    return out


def minimal(schema: Any, refs: tuple[str, ...], depth: int = 0) -> Any:
    """A small valid-looking value of a schema, markers nowhere."""
    schema, refs = resolve(schema, refs)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if key in schema and "allOf" not in schema:
            options = [
                s for s in schema[key] if resolve(s, refs)[0] != {"type": "null"}
            ]
            return minimal(options[0], refs, depth + 1) if options else None
    if "allOf" in schema or "properties" in schema or schema.get("type") == "object":
        obj = merged(schema, refs) if "allOf" in schema else schema
        props = obj.get("properties", {})
        return {
            k: minimal(props[k], refs, depth + 1)
            for k in obj.get("required", [])
            if k in props
        }
    return {"string": "x", "integer": 0, "number": 0, "boolean": False}.get(
        schema.get("type"), [] if schema.get("type") == "array" else None
    )


def leaves(schema: Any, refs: tuple[str, ...], path: str, depth: int) -> Iterator[Leaf]:
    schema, refs = resolve(schema, refs)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return
    for key in ("anyOf", "oneOf"):
        for i, option in enumerate(schema.get(key, ())):
            yield from leaves(option, refs, f"{path}|{i}", depth + 1)
    if "allOf" in schema or "properties" in schema:
        yield from object_leaves(merged(schema, refs), refs, path, depth)
    elif schema.get("type") == "object" and "additionalProperties" in schema:
        yield from object_leaves(schema, refs, path, depth)
    kind = schema.get("type")
    if kind == "array" and "items" in schema:
        for sub, name, build in leaves(schema["items"], refs, f"{path}[]", depth + 1):
            yield sub, name, (lambda b: lambda m: [b(m)])(build)
    if kind == "string" and "enum" not in schema and "const" not in schema:
        yield path, field_name(path), lambda m: m


def object_leaves(
    obj: dict[str, Any], refs: tuple[str, ...], path: str, depth: int
) -> Iterator[Leaf]:
    props = obj.get("properties", {})

    def filled(key: str, value: Any) -> dict[str, Any]:
        out = {
            k: minimal(props[k], refs, depth + 1)
            for k in obj.get("required", [])
            if k in props and k != key
        }
        return {**out, key: value}

    for key, sub in props.items():
        for p, name, build in leaves(sub, refs, f"{path}.{key}", depth + 1):
            yield p, name, (lambda k, b: lambda m: filled(k, b(m)))(key, build)
    extra = obj.get("additionalProperties")
    if isinstance(extra, dict) or extra is True:
        yield f"{path}.<key>", "<key>", lambda m: {m: "x"}
        if isinstance(extra, dict):
            for p, name, build in leaves(extra, refs, f"{path}.<value>", depth + 1):
                yield p, name, (lambda b: lambda m: {"k": b(m)})(build)


@functools.cache
def fields(root: str) -> dict[str, tuple[str, Build]]:
    """String field path -> (field name, builder), for one request schema."""
    found: dict[str, tuple[str, Build]] = {}
    ref = {"$ref": f"#/components/schemas/{root}"}
    for path, name, build in leaves(ref, (), root, 0):
        found.setdefault(path, (name, build))
    return found


def body_for(root: str, build: Build) -> bytes:
    part = build(MARKER)
    assert isinstance(part, dict)
    return msgspec.json.encode({**BASES[root], **part})


def request_for(body: bytes, root: str) -> ChatRequest | ResponsesRequest:
    """The decoded body, or the base request where the router's typed view
    refuses it (such a body is a 400 and forwarded nowhere, but is read
    all the same here)."""
    try:
        return decode_request(body)
    except msgspec.MsgspecError:
        return decode_request(msgspec.json.encode(BASES[root]))


@pytest.mark.skipif(not SPEC.is_file(), reason=f"no {SPEC}")
@pytest.mark.parametrize("root", sorted(BASES))
def test_every_string_field_is_read(root: str, classifier: Classify) -> None:
    found = fields(root)
    assert len(found) > 50, "the schema walk found too few fields"
    missed, skipped = [], []
    for path, (name, build) in found.items():
        if name in SKIP:
            skipped.append(path)
            continue
        body = body_for(root, build)
        c = classifier(request_for(body, root), body=body)
        parent = field_name(path.rsplit(".", 1)[0])
        payload = PAYLOADS.get(f"{parent}.{name}")
        want = {payload} if payload else {"pii:ssn", "secret:github_token"}
        if c.sensitivity != "high" or not want <= set(c.signals):
            missed.append(path)
    assert missed == []
    assert skipped, "no field of the allow-list was found"
