"""responses_to_chat(): a Responses request becomes the chat request a
chat-only backend needs; what cannot be expressed is a TranslationError."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate import TranslationError, dropped_tools, responses_to_chat
from tests.unit.test_translate_support import data, tool_call, validate


def chat(**req: Any) -> dict[str, Any]:
    return responses_to_chat({"model": "m", **req})


def test_full_request_maps_field_by_field() -> None:
    req = data("responses_request_full.json")
    validate("CreateResponse", req)
    out = responses_to_chat(req)
    validate("CreateChatCompletionRequest", out)
    assert out["messages"] == [
        {"role": "system", "content": "You are a terse weather assistant."},
        {"role": "system", "content": "Answer in metric units."},
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "What is in this picture, and what is the weather there?",
                },
                {
                    "type": "image_url",
                    "image_url": {
                        "url": "data:image/png;base64,iVBORw0KGgo=",
                        "detail": "low",
                    },
                },
            ],
        },
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                tool_call("call_a", "get_weather", '{"city":"Paris"}'),
                tool_call("call_b", "get_time", '{"tz":"Europe/Paris"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "11 degrees celsius"},
        {
            "role": "tool",
            "tool_call_id": "call_b",
            "content": [{"type": "text", "text": "14:05"}],
        },
        {"role": "user", "content": "Summarise."},
    ]
    assert out["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": req["tools"][0]["parameters"],
                "strict": True,
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "parameters": req["tools"][1]["parameters"],
                "strict": False,
            },
        },
    ]
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": req["text"]["format"]["schema"],
            "strict": True,
        },
    }
    expected = {
        "model": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "max_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "user-1234",
        "metadata": {"team": "weather"},
        "reasoning_effort": "low",
        "verbosity": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
        "options": {"num_ctx": 8192},
        "keep_alive": "10m",
    }
    assert {k: out[k] for k in expected} == expected
    dropped = {"input", "instructions", "store", "include", "text", "reasoning"}
    assert not dropped & out.keys()
    assert dropped_tools(req) == ["web_search_preview"]


def test_string_input_is_one_user_message() -> None:
    out = chat(input="hi")
    assert out == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    validate("CreateChatCompletionRequest", out)


def test_instructions_lead_and_empty_instructions_vanish() -> None:
    assert chat(instructions="be brief", input="hi")["messages"][0] == {
        "role": "system",
        "content": "be brief",
    }
    assert chat(instructions="", input="hi")["messages"] == [
        {"role": "user", "content": "hi"}
    ]


def test_stream_false_sets_no_stream_options() -> None:
    out = chat(input="hi", stream=False)
    assert out["stream"] is False
    assert "stream_options" not in out


def test_function_calls_without_a_preceding_assistant_message_get_their_own() -> None:
    out = chat(
        input=[
            {"role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "done"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": ""},
        ]
    )
    assert out["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [tool_call("c1", "f", "{}")],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [tool_call("c2", "g", "")],
        },
    ]


def test_reasoning_items_are_transparent_to_call_merging() -> None:
    out = chat(
        input=[
            {"role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "reasoning", "id": "rs", "summary": []},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
        ]
    )
    assert len(out["messages"]) == 2
    assert [c["id"] for c in out["messages"][1]["tool_calls"]] == ["c1", "c2"]


def test_content_parts_by_role() -> None:
    out = chat(
        input=[
            {"role": "system", "content": [{"type": "input_text", "text": "a"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "b", "annotations": []},
                    {"type": "output_text", "text": "c", "annotations": []},
                    {"type": "refusal", "refusal": "no"},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_image",
                        "image_url": "https://x/y.png",
                        "detail": "original",
                    },
                    {"type": "input_image", "image_url": "https://x/z.png"},
                    {"type": "input_file", "file_id": "file-1"},
                    {
                        "type": "input_file",
                        "filename": "a.txt",
                        "file_data": "data:text/plain;base64,aGk=",
                    },
                ],
            },
        ]
    )
    system, assistant, user = out["messages"]
    assert system == {"role": "system", "content": "a"}
    assert assistant == {"role": "assistant", "content": "bc", "refusal": "no"}
    assert user["content"] == [
        {
            "type": "image_url",
            "image_url": {"url": "https://x/y.png", "detail": "high"},
        },
        {
            "type": "image_url",
            "image_url": {"url": "https://x/z.png", "detail": "auto"},
        },
        {"type": "file", "file": {"file_id": "file-1"}},
        {
            "type": "file",
            "file": {"file_data": "data:text/plain;base64,aGk=", "filename": "a.txt"},
        },
    ]
    validate("CreateChatCompletionRequest", out)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {"type": "json_schema", "schema": {"type": "object"}},
            {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": {"type": "object"}},
            },
        ),
        ({"type": "text"}, None),
    ],
)
def test_text_format_becomes_response_format(
    fmt: dict[str, Any], expected: Any
) -> None:
    out = chat(input="hi", text={"format": fmt})
    assert out.get("response_format") == expected


FUNCTION = {
    "type": "function",
    "name": "f",
    "parameters": {"type": "object"},
    "strict": False,
}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", "none"),
        ("auto", "auto"),
        ("required", "required"),
        (
            {"type": "function", "name": "f"},
            {"type": "function", "function": {"name": "f"}},
        ),
        (
            {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "f"}],
            },
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "f"}}],
                },
            },
        ),
        (
            {
                "type": "allowed_tools",
                "mode": "auto",
                "tools": [{"type": "web_search_preview"}],
            },
            "auto",
        ),
        (None, None),
    ],
)
def test_tool_choice_mapping(choice: Any, expected: Any) -> None:
    req: dict[str, Any] = {
        "input": "hi",
        "tools": [FUNCTION, {"type": "web_search_preview"}],
    }
    if choice is not None:
        req["tool_choice"] = choice
    out = chat(**req)
    assert out.get("tool_choice") == expected
    validate("CreateChatCompletionRequest", out)


@pytest.mark.parametrize(
    "choice",
    [
        {"type": "web_search_preview"},
        {
            "type": "allowed_tools",
            "mode": "required",
            "tools": [{"type": "web_search_preview"}],
        },
    ],
)
def test_a_choice_that_requires_a_hosted_tool_is_refused(choice: Any) -> None:
    req = {
        "input": "news?",
        "tools": [FUNCTION, {"type": "web_search_preview"}],
        "tool_choice": choice,
    }
    with pytest.raises(TranslationError) as info:
        chat(**req)
    assert info.value.param == "tool_choice"
    assert "web_search_preview" in info.value.message


def test_only_hosted_tools_leave_no_tools_and_no_tool_choice() -> None:
    req = {
        "input": "news?",
        "tools": [{"type": "web_search_preview"}],
        "tool_choice": "required",
    }
    out = chat(**req)
    assert "tools" not in out
    assert "tool_choice" not in out
    assert dropped_tools({"model": "m", **req}) == ["web_search_preview"]


def test_dropped_tools_ignores_non_lists() -> None:
    assert dropped_tools({"tools": None}) == []
    assert dropped_tools({}) == []


@pytest.mark.parametrize(
    ("req", "param"),
    [
        ({"input": "hi", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "hi", "conversation": "conv_1"}, "conversation"),
        ({"input": "hi", "background": True}, "background"),
        ({"input": "hi", "prompt": {"id": "pmpt_1"}}, "prompt"),
        ({}, "input"),
        ({"input": []}, "input"),
        ({"input": 3}, "input"),
        ({"input": "hi", "instructions": ["x"]}, "instructions"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input[0]"),
        ({"input": ["hi"]}, "input[0]"),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role"),
        ({"input": [{"role": "user", "content": 5}]}, "input[0].content"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "input[0].content[0]",
        ),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [{"type": "input_image", "file_id": "f"}],
                    }
                ]
            },
            "input[0].content[0]",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "input[0].content[0]",
        ),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_file", "file_url": "https://x/a.pdf"}
                        ],
                    }
                ]
            },
            "input[0].content[0]",
        ),
        (
            {
                "input": [
                    {
                        "role": "system",
                        "content": [{"type": "input_image", "image_url": "https://x"}],
                    }
                ]
            },
            "input[0].content[0]",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_text"}]}]},
            "input[0].content[0].text",
        ),
        (
            {"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]},
            "input[0].call_id",
        ),
        (
            {
                "input": [
                    {
                        "type": "function_call",
                        "call_id": "c",
                        "name": "f",
                        "arguments": {},
                    }
                ]
            },
            "input[0]",
        ),
        (
            {"input": [{"type": "function_call_output", "call_id": "c", "output": {}}]},
            "input[0].output",
        ),
        (
            {
                "input": [
                    {
                        "type": "function_call_output",
                        "call_id": "c",
                        "output": [{"type": "input_image", "image_url": "x"}],
                    }
                ]
            },
            "input[0].output[0]",
        ),
        ({"input": "hi", "tools": {"type": "function"}}, "tools"),
        ({"input": "hi", "tools": [{"type": "custom", "name": "grammar"}]}, "tools[0]"),
        ({"input": "hi", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"input": "hi", "tools": [FUNCTION], "tool_choice": 7}, "tool_choice"),
        ({"input": "hi", "text": "json"}, "text"),
        ({"input": "hi", "text": {"format": {"type": "grammar"}}}, "text.format"),
    ],
)
def test_untranslatable_shapes_raise(req: dict[str, Any], param: str) -> None:
    with pytest.raises(TranslationError) as info:
        chat(**req)
    assert info.value.param == param
    assert isinstance(info.value, ValueError)
    assert info.value.message


def test_input_is_not_mutated() -> None:
    req = data("responses_request_full.json")
    before = data("responses_request_full.json")
    responses_to_chat(req)
    assert req == before
