"""The translations chained as the Ollama backend uses them: a Responses request
reaches Ollama's native API, and Ollama's answer reaches the official SDK as a
Response (whole or streamed), with images, tools and tool results on the way."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate import (
    OllamaChatStream,
    ResponsesStreamWriter,
    UpstreamStreamError,
    chat_to_ollama,
    chat_to_response,
    encode_sse,
    ollama_to_chat,
    responses_to_chat,
)
from tests.unit.test_translate_support import (
    data,
    json_client,
    sdk_stream,
    sse_client,
    validate,
    validate_events,
)

PNG = "iVBORw0KGgo="


def test_responses_request_reaches_ollama() -> None:
    req = data("responses_request_full.json")
    body = chat_to_ollama(
        responses_to_chat(req), model="gemma3:12b", options={"num_ctx": 2048}
    )
    assert body["model"] == "gemma3:12b"
    assert body["stream"] is True
    assert [m["role"] for m in body["messages"]] == [
        "system",
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "user",
    ]
    user = body["messages"][2]
    assert user["images"] == [PNG]
    assert user["content"] == "What is in this picture, and what is the weather there?"
    assert body["messages"][3]["tool_calls"] == [
        {
            "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
            "id": "call_a",
        },
        {
            "function": {"name": "get_time", "arguments": {"tz": "Europe/Paris"}},
            "id": "call_b",
        },
    ]
    assert body["messages"][4] == {
        "role": "tool",
        "content": "11 degrees celsius",
        "tool_name": "get_weather",
        "tool_call_id": "call_a",
    }
    assert body["messages"][5] == {
        "role": "tool",
        "content": "14:05",
        "tool_name": "get_time",
        "tool_call_id": "call_b",
    }
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["format"] == req["text"]["format"]["schema"]
    assert body["options"] == {
        "num_ctx": 8192,
        "temperature": 0.2,
        "top_p": 0.9,
        "num_predict": 256,
    }
    assert body["keep_alive"] == "10m"
    assert body["think"] == "low"


def test_remote_image_url_cannot_reach_ollama() -> None:
    req = {
        "model": "auto",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_image", "image_url": "https://x/cat.png"}],
            }
        ],
    }
    with pytest.raises(ValueError, match="data: URL"):
        chat_to_ollama(responses_to_chat(req), model="gemma3:12b")


def test_ollama_answer_reaches_the_sdk_as_a_response() -> None:
    request = {
        "model": "auto",
        "input": "weather in Paris?",
        "tools": data("responses_request_full.json")["tools"],
    }
    completion = ollama_to_chat(
        data("ollama_chat_tools.json"),
        model="llama3.2",
        completion_id="chatcmpl-r7",
        created=1700000000,
    )
    response = chat_to_response(
        completion, request=request, response_id="resp_r7", created_at=1700000000
    )
    validate("Response", response)
    parsed = json_client(response).responses.create(
        model="auto", input="weather in Paris?"
    )
    assert [(o.type, o.call_id, o.name) for o in parsed.output] == [
        ("function_call", "call_r7_0", "get_current_weather"),
        ("function_call", "call_r7_1", "get_time"),
    ]
    assert parsed.usage is not None
    assert parsed.usage.input_tokens == 122


def stream_through(
    lines: list[dict[str, Any]], request: dict[str, Any]
) -> list[dict[str, Any]]:
    ollama = OllamaChatStream("llama3.2", "chatcmpl-r7", 1700000000, include_usage=True)
    writer = ResponsesStreamWriter(request, "resp_r7", 1700000000)
    events = writer.start()
    try:
        for line in lines:
            for chunk in ollama.feed(line):
                events += writer.feed(chunk)
        ollama.finish()
    except UpstreamStreamError as exc:
        events += writer.fail(exc.message, "server_error")
    else:
        events += writer.finish()
    validate_events(events)
    return events


def test_ollama_text_stream_reaches_the_sdk_stream_helper() -> None:
    events = stream_through(
        data("ollama_stream_text.ndjson"),
        {"model": "auto", "input": "why is the sky blue?", "stream": True},
    )
    deltas, final = sdk_stream(events)
    assert deltas == ["The", " sky is", " blue."]
    assert final.output_text == "The sky is blue."
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (26, 282)


def test_ollama_tool_stream_reaches_the_sdk() -> None:
    events = stream_through(
        data("ollama_stream_tools.ndjson"),
        {"model": "auto", "input": "weather?", "stream": True},
    )
    _, final = sdk_stream(events)
    [call] = final.output
    assert call.type == "function_call"
    assert (call.name, call.arguments, call.call_id) == (
        "get_weather",
        '{"city":"Tokyo"}',
        "call_r7_0",
    )


def test_ollama_error_line_becomes_response_failed() -> None:
    events = stream_through(
        data("ollama_stream_error.ndjson"),
        {"model": "auto", "input": "x", "stream": True},
    )
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    failed = events[-1]["response"]
    assert (
        failed["error"]["message"] == "an error was encountered while running the model"
    )
    assert failed["output"][0]["content"][0]["text"] == " Yes."
    seen = list(
        sse_client(encode_sse(e) for e in events).responses.create(
            model="auto", input="x", stream=True
        )
    )
    assert seen[-1].type == "response.failed"


def test_ollama_stream_cut_before_done_becomes_response_failed() -> None:
    events = stream_through(
        data("ollama_stream_text.ndjson")[:2],
        {"model": "auto", "input": "x", "stream": True},
    )
    assert events[-1]["type"] == "response.failed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "The sky is"
