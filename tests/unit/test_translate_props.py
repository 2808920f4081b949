"""Properties over generated input: every translation either returns JSON or
raises its own error (never a stray TypeError/AttributeError); the Responses
stream is well-formed for any chunk sequence; generated valid requests map."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.translate import (
    OllamaChatStream,
    ResponsesStreamWriter,
    TranslationError,
    UpstreamStreamError,
    chat_to_ollama,
    chat_to_response,
    ollama_to_chat,
    responses_to_chat,
)
from tests.unit.test_translate_support import validate, validate_events

KEYS = [
    "type",
    "role",
    "content",
    "text",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "name",
    "arguments",
    "call_id",
    "output",
    "image_url",
    "url",
    "file",
    "file_data",
    "file_id",
    "function",
    "tool_calls",
    "id",
    "index",
    "delta",
    "choices",
    "message",
    "messages",
    "done",
    "done_reason",
    "error",
    "format",
    "response_format",
    "options",
    "stop",
    "refusal",
    "usage",
    "model",
    "detail",
    "thinking",
    "json_schema",
    "schema",
    "allowed_tools",
    "mode",
    "finish_reason",
    "stream",
    "n",
    "max_tokens",
    "verbosity",
]
WORDS = st.sampled_from(
    [
        "user",
        "assistant",
        "system",
        "developer",
        "tool",
        "function",
        "message",
        "function_call",
        "function_call_output",
        "input_text",
        "input_image",
        "input_file",
        "output_text",
        "text",
        "image_url",
        "file",
        "refusal",
        "json_object",
        "json_schema",
        "allowed_tools",
        "auto",
        "none",
        "required",
        "length",
        "stop",
        "data:image/png;base64,AA==",
        "data:text/plain;base64,aGk=",
        "{}",
        '{"a": 1}',
        "[1]",
        "{",
        "",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | WORDS
    | st.text(max_size=5)
)
JSONS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=30,
)
OBJECTS = st.dictionaries(st.sampled_from(KEYS), JSONS, max_size=6)
FAST = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SPEC_CHECKED = settings(FAST, max_examples=40)


@FAST
@given(OBJECTS)
def test_responses_to_chat_total(req: dict[str, Any]) -> None:
    try:
        out = responses_to_chat(req)
    except TranslationError:
        return
    orjson.dumps(out)


@FAST
@given(OBJECTS)
def test_chat_to_ollama_total(req: dict[str, Any]) -> None:
    try:
        out = chat_to_ollama(req, model="m")
    except TranslationError:
        return
    orjson.dumps(out)
    assert isinstance(out["stream"], bool)


@FAST
@given(OBJECTS)
def test_ollama_answers_total(resp: dict[str, Any]) -> None:
    try:
        out = ollama_to_chat(resp, model="m", completion_id="chatcmpl-1", created=1)
    except UpstreamStreamError:
        return
    orjson.dumps(out)


@FAST
@given(st.lists(OBJECTS, max_size=5))
def test_ollama_stream_total(lines: list[dict[str, Any]]) -> None:
    stream = OllamaChatStream("m", "chatcmpl-1", 1, True)
    try:
        for line in lines:
            orjson.dumps(stream.feed(line))
        stream.finish()
    except UpstreamStreamError:
        return


@FAST
@given(OBJECTS, OBJECTS)
def test_chat_to_response_total(
    completion: dict[str, Any], request: dict[str, Any]
) -> None:
    orjson.dumps(
        chat_to_response(
            completion, request=request, response_id="resp_1", created_at=1
        )
    )


@FAST
@given(OBJECTS, st.lists(OBJECTS, max_size=5), st.booleans())
def test_stream_writer_total(
    request: dict[str, Any], chunks: list[dict[str, Any]], fail: bool
) -> None:
    writer = ResponsesStreamWriter(request, "resp_1", 1)
    events = writer.start()
    for c in chunks:
        events += writer.feed(c)
    events += writer.fail("x", "server_error") if fail else writer.finish()
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    orjson.dumps(events)


NAMES = st.sampled_from(["get_weather", "get_time", "lookup"])
TEXTS = st.text(max_size=12)
ARGS = st.dictionaries(st.sampled_from(["city", "tz", "q"]), TEXTS, max_size=2).map(
    lambda d: orjson.dumps(d).decode()
)
TOOL_DELTAS = st.builds(
    lambda index, name, args: {
        "index": index,
        "id": f"call_{index}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    },
    st.integers(0, 2),
    NAMES,
    ARGS,
)
DELTAS = st.one_of(
    st.builds(lambda t: {"content": t}, TEXTS),
    st.builds(lambda t: {"refusal": t}, TEXTS),
    st.builds(
        lambda calls: {"tool_calls": calls},
        st.lists(TOOL_DELTAS, min_size=1, max_size=2),
    ),
)
CHUNKS = st.lists(
    st.builds(
        lambda delta: {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        },
        DELTAS,
    ),
    max_size=6,
)


@SPEC_CHECKED
@given(CHUNKS, st.sampled_from(["stop", "length", "tool_calls", None]), st.booleans())
def test_stream_events_fit_the_spec_for_any_chat_stream(
    chunks: list[dict[str, Any]], finish: str | None, fail: bool
) -> None:
    writer = ResponsesStreamWriter({"model": "auto", "input": "x"}, "resp_1", 1)
    events = writer.start()
    for c in chunks:
        events += writer.feed(c)
    events += writer.feed(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
        }
    )
    events += writer.fail("boom", "server_error") if fail else writer.finish()
    validate_events(events)
    item_ids = [
        e["item"]["id"] for e in events if e["type"] == "response.output_item.added"
    ]
    assert len(item_ids) == len(set(item_ids))
    if not fail:
        done_ids = [
            e["item"]["id"] for e in events if e["type"] == "response.output_item.done"
        ]
        assert done_ids == item_ids


INPUT_ITEMS = st.one_of(
    st.builds(
        lambda role, t: {"role": role, "content": t},
        st.sampled_from(["user", "assistant", "system", "developer"]),
        TEXTS,
    ),
    st.builds(
        lambda t: {
            "role": "user",
            "content": [
                {"type": "input_text", "text": t},
                {
                    "type": "input_image",
                    "image_url": "https://x/i.png",
                    "detail": "auto",
                },
            ],
        },
        TEXTS,
    ),
    st.builds(
        lambda n, a: {
            "type": "function_call",
            "call_id": "c1",
            "name": n,
            "arguments": a,
        },
        NAMES,
        ARGS,
    ),
    st.builds(
        lambda t: {"type": "function_call_output", "call_id": "c1", "output": t}, TEXTS
    ),
)


@SPEC_CHECKED
@given(st.lists(INPUT_ITEMS, min_size=1, max_size=6), st.booleans())
def test_valid_requests_give_valid_chat_requests(
    items: list[dict[str, Any]], stream: bool
) -> None:
    req = {
        "model": "auto",
        "input": items,
        "stream": stream,
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "parameters": {"type": "object"},
                "strict": False,
            }
        ],
    }
    out = responses_to_chat(req)
    validate("CreateChatCompletionRequest", out)
    assert len(out["messages"]) <= len(items)


UNHASHABLE = ["x"]


@pytest.mark.parametrize(
    "req",
    [
        {"input": [{"role": "user", "content": [{"type": UNHASHABLE}]}]},
        {"input": [{"role": UNHASHABLE, "content": "x"}]},
        {"input": "x", "tools": [{"type": UNHASHABLE}]},
        {
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_image", "image_url": "x", "detail": UNHASHABLE}
                    ],
                }
            ]
        },
        {
            "input": "x",
            "tools": [{"type": "function", "name": "f"}],
            "tool_choice": {"type": "allowed_tools", "tools": 5},
        },
    ],
)
def test_wrong_types_in_responses_requests(req: dict[str, Any]) -> None:
    with contextlib.suppress(TranslationError):
        responses_to_chat(req)


TOOL = {"type": "function", "function": {"name": "f"}}
USER = [{"role": "user", "content": "x"}]


@pytest.mark.parametrize(
    "req",
    [
        {"messages": [{"role": UNHASHABLE, "content": "x"}]},
        {"messages": [{"role": "tool", "tool_call_id": UNHASHABLE, "content": "x"}]},
        {"messages": USER, "reasoning_effort": UNHASHABLE},
        {
            "messages": USER,
            "tools": [TOOL],
            "tool_choice": {"type": "function", "function": {"name": UNHASHABLE}},
        },
        {
            "messages": USER,
            "tools": [TOOL],
            "tool_choice": {"type": "allowed_tools", "allowed_tools": {"tools": ["x"]}},
        },
        {"messages": [{"role": "assistant", "tool_calls": 5}]},
        {
            "messages": USER,
            "response_format": {"type": "json_schema", "json_schema": "x"},
        },
    ],
)
def test_wrong_types_in_chat_requests(req: dict[str, Any]) -> None:
    with contextlib.suppress(TranslationError):
        chat_to_ollama(req, model="m")


@pytest.mark.parametrize(
    "line",
    [
        {"message": True},
        {"message": {"content": 5, "tool_calls": {"a": 1}}},
        {
            "message": {"tool_calls": [{"function": {"name": ["x"], "arguments": 3}}]},
            "done": True,
            "eval_count": "7",
        },
    ],
)
def test_wrong_types_from_ollama(line: dict[str, Any]) -> None:
    s = OllamaChatStream("m", "chatcmpl-1", 1, True)
    for c in s.feed(line):
        validate("CreateChatCompletionStreamResponse", c)
    validate(
        "CreateChatCompletionResponse",
        ollama_to_chat(line, model="m", completion_id="chatcmpl-1", created=1),
    )


def test_every_translation_error_names_its_param() -> None:
    """A 400 from translation tells the client which field (`param`)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "router" / "translate"
    missing = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "TranslationError"
                and not any(k.arg == "param" for k in node.keywords)
            ):
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []
