"""chat_to_response(): a chat completion becomes a Responses `Response` that fits
the spec and that the official SDK parses (`output_text`, function calls)."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate import chat_to_response
from tests.unit.test_translate_support import json_client, tool_call, validate

REQUEST: dict[str, Any] = {
    "model": "auto",
    "instructions": "be brief",
    "input": "weather in Paris?",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
            },
            "strict": True,
        },
        {"type": "web_search_preview"},
    ],
    "tool_choice": "auto",
    "temperature": 0.3,
    "top_p": 0.8,
    "parallel_tool_calls": False,
    "metadata": {"team": "weather"},
    "text": {"format": {"type": "text"}, "verbosity": "low"},
    "user": "u-1",
    "max_output_tokens": 64,
}


def completion(
    message: dict[str, Any], finish: str = "stop", **extra: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000005,
        "model": "llama3.2",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        ],
        **extra,
    }


USAGE = {
    "prompt_tokens": 26,
    "completion_tokens": 9,
    "total_tokens": 35,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}


def respond(comp: dict[str, Any], request: dict[str, Any] = REQUEST) -> dict[str, Any]:
    out = chat_to_response(
        comp, request=request, response_id="resp_abc", created_at=1700000000
    )
    validate("Response", out)
    return out


def test_text_answer() -> None:
    out = respond(completion({"role": "assistant", "content": "Sunny."}, usage=USAGE))
    assert out["id"] == "resp_abc"
    assert out["object"] == "response"
    assert out["status"] == "completed"
    assert out["created_at"] == 1700000000
    assert out["completed_at"] == 1700000005
    assert out["model"] == "llama3.2"
    assert out["incomplete_details"] is None
    assert out["error"] is None
    assert out["output"] == [
        {
            "id": "msg_abc",
            "type": "message",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "Sunny.",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
            "status": "completed",
        }
    ]
    assert out["usage"] == {
        "input_tokens": 26,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 35,
    }


def test_request_fields_are_echoed() -> None:
    out = respond(completion({"role": "assistant", "content": "x"}))
    assert out["instructions"] == "be brief"
    assert out["temperature"] == 0.3
    assert out["top_p"] == 0.8
    assert out["parallel_tool_calls"] is False
    assert out["tool_choice"] == "auto"
    assert out["metadata"] == {"team": "weather"}
    assert out["text"] == {"format": {"type": "text"}, "verbosity": "low"}
    assert out["user"] == "u-1"
    assert out["max_output_tokens"] == 64
    assert out["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": REQUEST["tools"][0]["parameters"],
            "strict": True,
        }
    ]
    assert "usage" not in out


def test_defaults_for_a_bare_request() -> None:
    out = respond(
        completion({"role": "assistant", "content": "x"}), {"model": "m", "input": "hi"}
    )
    assert out["instructions"] is None
    assert out["temperature"] == 1.0
    assert out["top_p"] == 1.0
    assert out["parallel_tool_calls"] is True
    assert out["tool_choice"] == "auto"
    assert out["tools"] == []
    assert out["metadata"] == {}
    assert out["text"] == {"format": {"type": "text"}}
    assert out["store"] is False
    assert "user" not in out


def test_tool_calls_become_function_call_items() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            tool_call("call_1", "get_weather", '{"city":"Paris"}'),
            tool_call("call_2", "get_weather", '{"city":"Rome"}'),
        ],
    }
    out = respond(completion(message, "tool_calls", usage=USAGE))
    assert out["status"] == "completed"
    assert out["output"] == [
        {
            "id": "fc_abc_0",
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
            "status": "completed",
        },
        {
            "id": "fc_abc_1",
            "type": "function_call",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"city":"Rome"}',
            "status": "completed",
        },
    ]


def test_text_and_tool_calls_give_message_then_calls() -> None:
    message = {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    out = respond(completion(message, "tool_calls"))
    assert [item["type"] for item in out["output"]] == ["message", "function_call"]
    assert out["output"][1]["call_id"] == "call_abc_0"


def test_length_is_incomplete() -> None:
    out = respond(completion({"role": "assistant", "content": "Once upon"}, "length"))
    assert out["status"] == "incomplete"
    assert out["incomplete_details"] == {"reason": "max_output_tokens"}
    assert out["completed_at"] is None
    assert out["output"][0]["status"] == "incomplete"


def test_content_filter_is_incomplete() -> None:
    out = respond(completion({"role": "assistant", "content": ""}, "content_filter"))
    assert out["incomplete_details"] == {"reason": "content_filter"}


def test_refusal_becomes_a_refusal_part() -> None:
    out = respond(
        completion({"role": "assistant", "content": None, "refusal": "I can't."})
    )
    assert out["output"][0]["content"] == [{"type": "refusal", "refusal": "I can't."}]


@pytest.mark.parametrize("content", [None, ""])
def test_empty_answer_still_has_one_empty_message(content: Any) -> None:
    out = respond(completion({"role": "assistant", "content": content}))
    assert [item["type"] for item in out["output"]] == ["message"]
    assert out["output"][0]["content"][0]["text"] == ""


def test_no_choices_is_an_empty_message() -> None:
    out = respond(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [],
        }
    )
    assert out["output"][0]["content"][0]["text"] == ""


def test_explicit_completed_at_wins() -> None:
    out = chat_to_response(
        completion({"role": "assistant", "content": "x"}),
        request=REQUEST,
        response_id="resp_abc",
        created_at=1,
        completed_at=2,
    )
    assert out["completed_at"] == 2


def test_sdk_parses_text_answer() -> None:
    out = respond(completion({"role": "assistant", "content": "Sunny."}, usage=USAGE))
    response = json_client(out).responses.create(
        model="auto", input="weather in Paris?"
    )
    assert response.output_text == "Sunny."
    assert response.status == "completed"
    assert response.usage is not None
    assert response.usage.total_tokens == 35


def test_sdk_parses_function_calls() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [tool_call("call_1", "get_weather", '{"city":"Paris"}')],
    }
    out = respond(completion(message, "tool_calls"))
    response = json_client(out).responses.create(model="auto", input="weather?")
    assert response.output_text == ""
    [call] = response.output
    assert call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == (
        "call_1",
        "get_weather",
        '{"city":"Paris"}',
    )
