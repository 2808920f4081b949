"""ollama_to_chat() and OllamaChatStream: Ollama answers become chat completions
and chunks that fit the spec and that the official SDK parses; an Ollama
`error` line or a stream cut before `done` is an UpstreamStreamError."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from router.translate import (
    SSE_DONE,
    OllamaChatStream,
    UpstreamStreamError,
    encode_chat_sse,
    ollama_to_chat,
)
from tests.unit.test_translate_support import (
    call_delta,
    data,
    json_client,
    sse_client,
    tool_call,
    validate,
)

IDS = {"model": "llama3.2", "completion_id": "chatcmpl-r1", "created": 1700000000}


def answer(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    out = ollama_to_chat(
        {"model": "llama3.2", "message": message, "done": True, **extra}, **IDS
    )
    validate("CreateChatCompletionResponse", out)
    return out


def stream(
    lines: list[dict[str, Any]], include_usage: bool = True
) -> tuple[OllamaChatStream, list[dict[str, Any]]]:
    s = OllamaChatStream("llama3.2", "chatcmpl-r1", 1700000000, include_usage)
    chunks = [c for line in lines for c in s.feed(line)]
    chunks += s.finish()
    for c in chunks:
        validate("CreateChatCompletionStreamResponse", c)
    return s, chunks


def test_text_answer() -> None:
    out = answer(
        {"role": "assistant", "content": "Hello!"},
        done_reason="stop",
        prompt_eval_count=26,
        eval_count=298,
    )
    assert out == {
        "id": "chatcmpl-r1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "llama3.2",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello!",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 26, "completion_tokens": 298, "total_tokens": 324},
    }


def test_tool_calls_answer_from_the_ollama_docs() -> None:
    out = ollama_to_chat(data("ollama_chat_tools.json"), **IDS)
    validate("CreateChatCompletionResponse", out)
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        tool_call(
            "call_r1_0",
            "get_current_weather",
            '{"format":"celsius","location":"Paris, FR"}',
        ),
        tool_call("call_r1_1", "get_time", '{"tz":"Europe/Paris"}'),
    ]
    assert out["usage"]["total_tokens"] == 155


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("stop", "stop"), ("length", "length"), ("load", "stop"), (None, "stop")],
)
def test_finish_reason(reason: Any, expected: str) -> None:
    extra = {} if reason is None else {"done_reason": reason}
    assert (
        answer({"role": "assistant", "content": "x"}, **extra)["choices"][0][
            "finish_reason"
        ]
        == expected
    )


def test_missing_counts_are_zero_and_thinking_is_kept_aside() -> None:
    out = answer({"role": "assistant", "content": "4", "thinking": "2+2"})
    assert out["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
    }
    assert out["choices"][0]["message"]["reasoning"] == "2+2"
    assert out["choices"][0]["message"]["content"] == "4"


def test_tool_call_ids_and_string_arguments_are_kept() -> None:
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "t9", "function": {"name": "f", "arguments": '{"a":1}'}},
            {"function": {"name": "g"}},
            "junk",
        ],
    }
    calls = answer(message)["choices"][0]["message"]["tool_calls"]
    assert [(c["id"], c["function"]["arguments"]) for c in calls] == [
        ("t9", '{"a":1}'),
        ("call_r1_1", "{}"),
    ]


def test_error_body_raises() -> None:
    with pytest.raises(UpstreamStreamError, match="model 'x' not found"):
        ollama_to_chat({"error": "model 'x' not found"}, **IDS)
    with pytest.raises(UpstreamStreamError, match="boom"):
        ollama_to_chat({"error": {"message": "boom"}}, **IDS)
    with pytest.raises(UpstreamStreamError, match="code"):
        ollama_to_chat({"error": {"code": 3}}, **IDS)


def test_text_stream() -> None:
    s, chunks = stream(data("ollama_stream_text.ndjson"))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "The"},
        {"content": " sky is"},
        {"content": " blue."},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]] == [
        None,
        None,
        None,
        None,
        "stop",
    ]
    usage = {"prompt_tokens": 26, "completion_tokens": 282, "total_tokens": 308}
    assert chunks[-1] == {
        "id": "chatcmpl-r1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "llama3.2",
        "choices": [],
        "usage": usage,
    }
    assert all(c["usage"] is None for c in chunks[:-1])
    assert {(c["id"], c["model"], c["created"]) for c in chunks} == {
        ("chatcmpl-r1", "llama3.2", 1700000000)
    }
    assert s.usage == usage


def test_stream_without_usage_has_no_usage_key() -> None:
    s, chunks = stream(data("ollama_stream_text.ndjson"), include_usage=False)
    assert all("usage" not in c and c["choices"] for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert s.usage is not None


def test_tool_stream_from_the_ollama_docs() -> None:
    _, chunks = stream(data("ollama_stream_tools.ndjson"))
    calls = [
        c["choices"][0]["delta"]["tool_calls"]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls == [[call_delta(0, "call_r1_0", "get_weather", '{"city":"Tokyo"}')]]
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][
        -1
    ] == "tool_calls"


def test_tool_calls_over_several_lines_keep_counting() -> None:
    line = {
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "f", "arguments": {}}}],
        },
        "done": False,
    }
    _, chunks = stream([line, line, {"done": True, "done_reason": "stop"}])
    indexes = [
        (d["index"], d["id"])
        for c in chunks
        if c["choices"]
        for d in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert indexes == [(0, "call_r1_0"), (1, "call_r1_1")]


def test_length_and_thinking_in_stream() -> None:
    lines = [
        {
            "message": {"role": "assistant", "content": "", "thinking": "hmm"},
            "done": False,
        },
        {"message": {"role": "assistant", "content": "Once"}, "done": False},
        {
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "length",
            "eval_count": 2,
        },
    ]
    _, chunks = stream(lines, include_usage=False)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert {"reasoning": "hmm"} in deltas
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_mid_stream_error_line_raises() -> None:
    s = OllamaChatStream("gemma4", "chatcmpl-r1", 1, True)
    lines = data("ollama_stream_error.ndjson")
    chunks = s.feed(lines[0]) + s.feed(lines[1])
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == [
        "",
        " Yes",
        ".",
    ]
    with pytest.raises(UpstreamStreamError) as info:
        s.feed(lines[2])
    assert info.value.message == "an error was encountered while running the model"


def test_stream_cut_before_done_raises_at_finish() -> None:
    s = OllamaChatStream("llama3.2", "chatcmpl-r1", 1, True)
    s.feed(data("ollama_stream_text.ndjson")[0])
    with pytest.raises(UpstreamStreamError, match="ended before"):
        s.finish()
    with pytest.raises(UpstreamStreamError):
        OllamaChatStream("m", "chatcmpl-r1", 1, False).finish()


def test_lines_after_done_are_ignored() -> None:
    s = OllamaChatStream("llama3.2", "chatcmpl-r1", 1, False)
    s.feed({"message": {"content": "a"}, "done": True})
    assert s.feed({"message": {"content": "b"}, "done": False}) == []


def test_encode_chat_sse() -> None:
    assert encode_chat_sse({"a": "é"}) == b'data: {"a":"\xc3\xa9"}\n\n'
    assert SSE_DONE == b"data: [DONE]\n\n"


def test_sdk_parses_the_completion() -> None:
    out = ollama_to_chat(data("ollama_chat_tools.json"), **IDS)
    completion = json_client(out).chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "x"}]
    )
    call = completion.choices[0].message.tool_calls[0]
    assert orjson.loads(call.function.arguments) == {
        "format": "celsius",
        "location": "Paris, FR",
    }
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 122


def test_sdk_parses_the_stream() -> None:
    _, chunks = stream(data("ollama_stream_text.ndjson"))
    client = sse_client([*(encode_chat_sse(c) for c in chunks), SSE_DONE])
    got = list(
        client.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in got if c.choices)
        == "The sky is blue."
    )
    assert got[-1].usage is not None
    assert got[-1].usage.completion_tokens == 282


def test_sdk_stream_helper_accumulates_tool_calls() -> None:
    _, chunks = stream(data("ollama_stream_tools.ndjson"))
    client = sse_client([*(encode_chat_sse(c) for c in chunks), SSE_DONE])
    with client.chat.completions.stream(
        model="auto", messages=[{"role": "user", "content": "x"}]
    ) as s:
        final = s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_r1_0",
        "get_weather",
        '{"city":"Tokyo"}',
    )
    assert final.choices[0].finish_reason == "tool_calls"
