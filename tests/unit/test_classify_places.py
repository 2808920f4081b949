"""Sensitivity reads everything that would leave the machine: each place a
sensitive value can hide in either request shape pins the request."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from router.classify import Classify
from router.wire import ChatRequest, ResponsesRequest

SSN = "078-05-1123"
CARD_DIGITS = "4111111111111111"


def chat(messages: list[dict[str, Any]], **extra: Any) -> ChatRequest:
    return msgspec.convert(
        {"model": "auto", "messages": messages, **extra}, ChatRequest
    )


def responses(input_: Any, **extra: Any) -> ResponsesRequest:
    return msgspec.convert(
        {"model": "auto", "input": input_, **extra}, ResponsesRequest
    )


def _call(arguments: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "type": "function",
        "function": {"name": "f", "arguments": arguments},
    }


USER_HI = {"role": "user", "content": "hi"}
PLACES = {
    "chat system message": chat([{"role": "system", "content": f"SSN {SSN}"}, USER_HI]),
    "chat developer message": chat([{"role": "developer", "content": f"SSN {SSN}"}]),
    "chat user text part": chat(
        [{"role": "user", "content": [{"type": "text", "text": f"SSN {SSN}"}]}]
    ),
    "chat assistant message": chat([USER_HI, {"role": "assistant", "content": SSN}]),
    "chat assistant tool-call arguments": chat(
        [USER_HI, {"role": "assistant", "tool_calls": [_call(f'{{"ssn": "{SSN}"}}')]}]
    ),
    "chat legacy function_call": chat(
        [{"role": "assistant", "function_call": {"name": "f", "arguments": SSN}}]
    ),
    "chat tool result": chat(
        [{"role": "tool", "tool_call_id": "c1", "content": f"record: {SSN}"}]
    ),
    "chat tool result parts": chat(
        [
            {
                "role": "tool",
                "tool_call_id": "c1",
                "content": [{"type": "text", "text": SSN}],
            }
        ]
    ),
    "chat refusal part": chat(
        [{"role": "assistant", "content": [{"type": "refusal", "refusal": SSN}]}]
    ),
    "chat file name": chat(
        [
            {
                "role": "user",
                "content": [
                    {"type": "file", "filename": f"ssn {SSN}.pdf", "file_id": "f1"}
                ],
            }
        ]
    ),
    "chat tool description": chat(
        [USER_HI],
        tools=[
            {
                "type": "function",
                "function": {"name": "lookup", "description": f"default SSN {SSN}"},
            }
        ],
    ),
    "chat tool parameter schema": chat(
        [USER_HI],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "parameters": {
                        "type": "object",
                        "properties": {"s": {"default": SSN}},
                    },
                },
            }
        ],
    ),
    "chat legacy functions": chat(
        [USER_HI], functions=[{"name": "lookup", "description": f"SSN {SSN}"}]
    ),
    "chat image URL query": chat(
        [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": f"https://x.test/a.png?ssn={SSN}"},
                    }
                ],
            }
        ]
    ),
    "responses instructions": responses("hi", instructions=f"Customer SSN {SSN}"),
    "responses input string": responses(f"my SSN is {SSN}"),
    "responses input_text part": responses(
        [{"role": "user", "content": [{"type": "input_text", "text": SSN}]}]
    ),
    "responses output_text part": responses(
        [{"role": "assistant", "content": [{"type": "output_text", "text": SSN}]}]
    ),
    "responses function_call arguments": responses(
        [{"type": "function_call", "call_id": "c1", "name": "f", "arguments": SSN}]
    ),
    "responses function_call_output": responses(
        [{"type": "function_call_output", "call_id": "c1", "output": f"SSN {SSN}"}]
    ),
    "responses function_call_output parts": responses(
        [
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": SSN}],
            }
        ]
    ),
    "responses tool description": responses(
        "hi", tools=[{"type": "function", "name": "f", "description": f"SSN {SSN}"}]
    ),
    "responses system item": responses(
        [{"role": "system", "content": SSN}, {"role": "user", "content": "hi"}]
    ),
}


@pytest.mark.parametrize("place", PLACES)
def test_sensitive_value_in_each_place_pins(place: str, classifier: Classify) -> None:
    c = classifier(PLACES[place])
    assert c.sensitivity == "high"
    assert "pii:ssn" in c.signals


def test_data_url_payloads_are_not_scanned(classifier: Classify) -> None:
    payload = f"data:image/png;base64,AAAA{CARD_DIGITS}AAAA{SSN}"
    request = chat(
        [{"role": "user", "content": [
            {"type": "text", "text": "what is in this picture?"},
            {"type": "image_url", "image_url": {"url": payload}}]}]
    )  # fmt: skip
    c = classifier(request)
    assert c.sensitivity == "low"
    assert c.task == "vision"


def test_responses_image_data_url_is_not_scanned(classifier: Classify) -> None:
    request = responses(
        [{"role": "user", "content": [
            {"type": "input_image", "image_url": f"data:image/png;base64,{SSN}"}]}]
    )  # fmt: skip
    c = classifier(request)
    assert c.sensitivity == "low"
    assert "unreadable:image" in c.signals
    assert "pii:ssn" not in c.signals


def test_responses_binary_file_data_is_unreadable(classifier: Classify) -> None:
    pdf = base64.b64encode(b"%PDF-1.7\n\x00\x01\x02" + SSN.encode()).decode()
    request = responses(
        [{"role": "user", "content": [
            {"type": "input_file", "filename": "scan.pdf",
             "file_data": f"data:application/pdf;base64,{pdf}"}]}]
    )  # fmt: skip
    c = classifier(request)
    assert c.sensitivity == "high"
    assert "unreadable:file" in c.signals
    assert "pii:ssn" not in c.signals


def test_sensitive_system_prompt_does_not_make_the_task_code(
    classifier: Classify,
) -> None:
    system = "Answer with ```python fences```.\n```\ndef f():\n    pass\n```"
    request = chat(
        [{"role": "system", "content": system}, {"role": "user", "content": "hi"}]
    )
    c = classifier(request)
    assert c.task == "general"
    assert c.complexity == "low"
