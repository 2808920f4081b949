"""chat_to_ollama(): an OpenAI chat request becomes an Ollama `/api/chat` body;
images, tools, tool results, format and options map; the rest is refused."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate import TranslationError, chat_to_ollama
from tests.unit.test_translate_support import tool_call

PNG = "iVBORw0KGgoAAAANSUhEUg=="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CLOCK = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object"}},
}


def ollama(req: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return chat_to_ollama({"model": "auto", **req}, model="llama3.2", **kwargs)


def test_plain_request_sets_stream_explicitly() -> None:
    body = ollama({"messages": [{"role": "user", "content": "hi"}]})
    assert body == {
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "truncate": False,
    }
    assert (
        ollama({"messages": [{"role": "user", "content": "hi"}], "stream": True})[
            "stream"
        ]
        is True
    )


def test_history_with_tools_matches_the_ollama_docs() -> None:
    body = ollama(
        {
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": "what is the weather in Toronto?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        tool_call("call_1", "get_weather", '{"city": "Toronto"}'),
                        tool_call("call_2", "get_time", ""),
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_1",
                    "content": "11 degrees celsius",
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_2",
                    "content": [{"type": "text", "text": "14:05"}],
                },
                {"role": "tool", "tool_call_id": "unknown", "content": "?"},
            ],
            "tools": [WEATHER, CLOCK],
        }
    )
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "what is the weather in Toronto?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "function": {
                        "name": "get_weather",
                        "arguments": {"city": "Toronto"},
                    },
                    "id": "call_1",
                },
                {"function": {"name": "get_time", "arguments": {}}, "id": "call_2"},
            ],
        },
        {
            "role": "tool",
            "content": "11 degrees celsius",
            "tool_name": "get_weather",
            "tool_call_id": "call_1",
        },
        {
            "role": "tool",
            "content": "14:05",
            "tool_name": "get_time",
            "tool_call_id": "call_2",
        },
        # Ollama pairs results by id where the template does: ids go both ways.
        {"role": "tool", "content": "?", "tool_call_id": "unknown"},
    ]
    assert body["tools"] == [WEATHER, CLOCK]


def test_legacy_function_role_is_a_tool_result() -> None:
    body = ollama({"messages": [{"role": "function", "name": "f", "content": "1"}]})
    assert body["messages"] == [{"role": "tool", "content": "1", "tool_name": "f"}]


def test_parts_join_and_data_url_images_go_to_images() -> None:
    body = ollama(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is in"},
                        {
                            "type": "image_url",
                            "image_url": {
                                "url": f"data:image/png;base64,{PNG}",
                                "detail": "low",
                            },
                        },
                        {"type": "text", "text": "these images?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": f"data:image/jpeg;base64,{PNG}"},
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "refusal", "refusal": "b"},
                    ],
                },
            ]
        }
    )
    assert body["messages"] == [
        {"role": "user", "content": "what is in\nthese images?", "images": [PNG, PNG]},
        {"role": "assistant", "content": "a\nb"},
    ]


def test_text_files_are_inlined() -> None:
    part = {
        "type": "file",
        "file": {
            "filename": "notes.txt",
            "file_data": "data:text/plain;base64,aGVsbG8=",
        },
    }
    body = ollama(
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "read"}, part]}
            ]
        }
    )
    assert body["messages"][0]["content"] == "read\nnotes.txt:\nhello"
    unnamed = {
        "type": "file",
        "file": {"file_data": "data:application/json;base64,e30="},
    }
    assert (
        ollama({"messages": [{"role": "user", "content": [unnamed]}]})["messages"][0][
            "content"
        ]
        == "{}"
    )


def test_options_mapping_and_precedence() -> None:
    body = ollama(
        {
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2,
            "top_p": 0.9,
            "seed": 7,
            "stop": "END",
            "max_tokens": 100,
            "max_completion_tokens": 50,
            "frequency_penalty": 0.5,
            "presence_penalty": 0.25,
            "num_ctx": 4096,
            "options": {"top_k": 20, "temperature": 0.1},
        },
        options={"num_ctx": 2048, "num_gpu": 1, "temperature": 0.9},
    )
    assert body["options"] == {
        "num_ctx": 4096,
        "num_gpu": 1,
        "temperature": 0.1,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["END"],
        "num_predict": 50,
        "frequency_penalty": 0.5,
        "presence_penalty": 0.25,
        "top_k": 20,
    }
    assert ollama(
        {
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 9,
            "stop": ["a", "b"],
        }
    )["options"] == {
        "num_predict": 9,
        "stop": ["a", "b"],
    }


def test_keep_alive_client_wins_over_policy() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert ollama({"messages": messages}, keep_alive="5m")["keep_alive"] == "5m"
    assert (
        ollama({"messages": messages, "keep_alive": 0}, keep_alive="5m")["keep_alive"]
        == 0
    )
    assert "keep_alive" not in ollama({"messages": messages})
    assert ollama({"messages": messages}, options={"num_ctx": 1})["options"] == {
        "num_ctx": 1
    }


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"type": "json_object"}, "json"),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "a", "schema": {"type": "object"}},
            },
            {"type": "object"},
        ),
        ({"type": "json_schema", "json_schema": {"name": "a"}}, "json"),
        ({"type": "text"}, None),
    ],
)
def test_response_format_becomes_format(fmt: dict[str, Any], expected: Any) -> None:
    body = ollama(
        {"messages": [{"role": "user", "content": "x"}], "response_format": fmt}
    )
    assert body.get("format") == expected


def test_native_format_passes_through() -> None:
    body = ollama({"messages": [{"role": "user", "content": "x"}], "format": "json"})
    assert body["format"] == "json"


@pytest.mark.parametrize(
    ("extra", "think"),
    [
        ({"reasoning_effort": "none"}, False),
        ({"reasoning_effort": "medium"}, "medium"),
        ({"reasoning_effort": "minimal"}, "low"),
        ({"reasoning_effort": "medium", "think": True}, True),
        ({}, None),
    ],
)
def test_reasoning_effort_becomes_think(extra: dict[str, Any], think: Any) -> None:
    body = ollama({"messages": [{"role": "user", "content": "x"}], **extra})
    assert body.get("think") == think


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        ("auto", ["get_weather", "get_time"]),
        ("required", ["get_weather", "get_time"]),
        ("none", None),
        ({"type": "function", "function": {"name": "get_time"}}, ["get_time"]),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "auto",
                    "tools": [
                        {"type": "function", "function": {"name": "get_weather"}}
                    ],
                },
            },
            ["get_weather"],
        ),
    ],
)
def test_tool_choice_narrows_tools(choice: Any, names: list[str] | None) -> None:
    body = ollama(
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [WEATHER, CLOCK],
            "tool_choice": choice,
        }
    )
    if names is None:
        assert "tools" not in body
    else:
        assert [t["function"]["name"] for t in body["tools"]] == names


def test_input_is_not_mutated() -> None:
    req = {"messages": [{"role": "user", "content": "x"}], "options": {"num_ctx": 1}}
    policy = {"num_ctx": 2}
    ollama(req, options=policy)
    assert req == {
        "messages": [{"role": "user", "content": "x"}],
        "options": {"num_ctx": 1},
    }
    assert policy == {"num_ctx": 2}


def user(*parts: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": list(parts)}]}


def call(arguments: Any) -> dict[str, Any]:
    return {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": arguments},
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize(
    ("req", "param", "words"),
    [
        (
            user({"type": "image_url", "image_url": {"url": "https://x/y.png"}}),
            "messages[0].content[0]",
            "data: URL",
        ),
        (
            user(
                {"type": "image_url", "image_url": {"url": "data:image/png,rawbytes"}}
            ),
            "messages[0].content[0]",
            "base64",
        ),
        (user({"type": "image_url", "image_url": {}}), "messages[0].content[0]", "url"),
        (
            user(
                {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}
            ),
            "messages[0].content[0]",
            "input_audio",
        ),
        (
            user({"type": "file", "file": {"file_id": "file-1"}}),
            "messages[0].content[0]",
            "text",
        ),
        (
            user(
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBERg=="},
                }
            ),
            "messages[0].content[0]",
            "text",
        ),
        (
            user({"type": "file", "file": {"file_data": "data:text/plain;base64,!!"}}),
            "messages[0].content[0]",
            "base64",
        ),
        (call("{not json"), "messages[0].tool_calls[0]", "not valid JSON"),
        (call("[1, 2]"), "messages[0].tool_calls[0]", "JSON object"),
        (
            {
                "messages": [
                    {"role": "assistant", "tool_calls": [{"id": "c", "function": {}}]}
                ]
            },
            "messages[0].tool_calls[0]",
            "name",
        ),
        ({"messages": []}, "messages", "non-empty"),
        ({}, "messages", "non-empty"),
        ({"messages": ["hi"]}, "messages[0]", "object"),
        ({"messages": [{"role": "critic", "content": "x"}]}, "messages[0]", "critic"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0]", "string"),
        (
            {"messages": [{"role": "user", "content": "x"}], "n": 2},
            "n",
            "single choice",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "options": "fast"},
            "options",
            "object",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"type": "custom", "custom": {"name": "g"}}],
            },
            "tools",
            "function tools",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "tools": [WEATHER],
                "tool_choice": {"type": "function", "function": {"name": "nope"}},
            },
            "tool_choice",
            "no function",
        ),
        (
            {
                "messages": [{"role": "user", "content": "x"}],
                "response_format": {"type": "grammar"},
            },
            "response_format",
            "grammar",
        ),
    ],
)
def test_untranslatable_shapes_raise(
    req: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(TranslationError, match=words) as info:
        ollama(req)
    assert info.value.param == param
