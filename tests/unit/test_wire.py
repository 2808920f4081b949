"""decode_request: a chat body is decoded once; which shape and which error a
body gets is what the shape-first rule gives (input without messages is
Responses, anything else is chat; a malformed body is a DecodeError)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.wire import (
    ChatRequest,
    ResponsesRequest,
    _shape_decoder,
    chat_decoder,
    decode_request,
    responses_decoder,
)


def shape_first(body: bytes) -> object:
    """The rule as written before the chat-first fast path."""
    shape = _shape_decoder.decode(body)
    if shape.input and not shape.messages:
        return responses_decoder.decode(body)
    return chat_decoder.decode(body)


def outcome(fn: object, body: bytes) -> object:
    try:
        return fn(body)  # type: ignore[operator]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return type(exc), str(exc)


BODIES = [
    b'{"model": "auto", "messages": [{"role": "user", "content": "hi"}]}',
    b'{"model": "auto", "input": "hi"}',
    b'{"model": "auto", "input": [{"role": "user", "content": "hi"}]}',
    b'{"model": "auto", "input": "hi", "messages": []}',
    b'{"model": 5, "messages": []}',
    b'{"model": 5, "input": "hi"}',
    b'{"model": "auto"}',
    b'{"model": 5, "messages": [}',
    b'{"model": "auto", "input": 3, ',
    b'{"model": "auto", "messages": "x"}',
    b'{"model": "auto", "input": null}',
    b"[]",
    b"",
    b"nul",
    b'{"model": "auto", "messages": [{"role": "user", "content": [{"type": 1}]}]}',
]


@pytest.mark.parametrize("body", BODIES)
def test_same_as_shape_first(body: bytes) -> None:
    assert outcome(decode_request, body) == outcome(shape_first, body)


def test_shapes() -> None:
    assert isinstance(decode_request(BODIES[0]), ChatRequest)
    assert isinstance(decode_request(BODIES[1]), ResponsesRequest)
    assert isinstance(decode_request(BODIES[3]), ChatRequest)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["model", "messages", "input", "role", "content", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON, st.integers(min_value=0, max_value=64))
def test_random_bodies_and_truncations(value: object, cut: int) -> None:
    body = msgspec.json.encode(value)
    for candidate in (body, body[: len(body) - cut]):
        assert outcome(decode_request, candidate) == outcome(shape_first, candidate)
