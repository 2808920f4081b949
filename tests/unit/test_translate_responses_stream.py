"""ResponsesStreamWriter: chat chunks become typed Responses events that fit the
spec one by one, end in the object chat_to_response builds, and that the
official SDK's `responses.create(stream=True)` and `responses.stream()` parse."""

from __future__ import annotations

from typing import Any

import pytest

from router.translate import ResponsesStreamWriter, chat_to_response, encode_sse
from tests.unit.test_translate_support import (
    call_delta,
    sdk_stream,
    sse_client,
    tool_call,
    validate_events,
)

REQUEST: dict[str, Any] = {
    "model": "auto",
    "input": "hi",
    "stream": True,
    "tools": [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    ],
}


def chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any
) -> dict[str, Any]:
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    )
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000003,
        "model": "llama3.2",
        "choices": choices,
        **extra,
    }


USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
TEXT = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hel"}),
    chunk({"content": "lo"}),
    chunk({}, "stop"),
    chunk(None, usage=USAGE),
]
CALLS = [
    chunk({"role": "assistant", "content": None}),
    chunk({"tool_calls": [call_delta(0, "call_1", "get_weather", "")]}),
    chunk({"tool_calls": [call_delta(0, arguments='{"city":')]}),
    chunk({"tool_calls": [call_delta(0, arguments='"Paris"}')]}),
    chunk({"tool_calls": [call_delta(1, "call_2", "get_weather", '{"city":"Rome"}')]}),
    chunk({}, "tool_calls"),
    chunk(None, usage=USAGE),
]


def run(
    chunks: list[dict[str, Any]], request: dict[str, Any] = REQUEST
) -> tuple[ResponsesStreamWriter, list[dict[str, Any]]]:
    writer = ResponsesStreamWriter(request, "resp_abc", 1700000000)
    events = writer.start()
    for c in chunks:
        events += writer.feed(c)
    events += writer.finish()
    validate_events(events)
    return writer, events


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_text_stream_events() -> None:
    writer, events = run(TEXT)
    assert types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    added = events[2]
    assert added["output_index"] == 0
    assert added["item"] == {
        "id": "msg_abc",
        "type": "message",
        "role": "assistant",
        "content": [],
        "status": "in_progress",
    }
    assert [e["delta"] for e in events[4:6]] == ["Hel", "lo"]
    assert all(
        (e["item_id"], e["output_index"], e["content_index"]) == ("msg_abc", 0, 0)
        for e in events[3:8]
    )
    assert events[6]["text"] == "Hello"
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["usage"]["total_tokens"] == 8
    assert writer.response == final


def test_final_object_is_what_chat_to_response_builds() -> None:
    for chunks, message, finish in [
        (TEXT, {"role": "assistant", "content": "Hello"}, "stop"),
        (
            CALLS,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    tool_call("call_1", "get_weather", '{"city":"Paris"}'),
                    tool_call("call_2", "get_weather", '{"city":"Rome"}'),
                ],
            },
            "tool_calls",
        ),
    ]:
        writer, _ = run(chunks)
        completion = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000003,
            "model": "llama3.2",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": USAGE,
        }
        assert writer.response == chat_to_response(
            completion, request=REQUEST, response_id="resp_abc", created_at=1700000000
        )


def test_tool_call_stream_events() -> None:
    _, events = run(CALLS)
    assert types(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    first, second = events[2]["item"], events[5]["item"]
    assert (first["id"], first["call_id"], first["name"], first["arguments"]) == (
        "fc_abc_0",
        "call_1",
        "get_weather",
        "",
    )
    assert (second["id"], second["call_id"], events[5]["output_index"]) == (
        "fc_abc_1",
        "call_2",
        1,
    )
    done = events[7]
    assert (done["item_id"], done["name"], done["arguments"], done["output_index"]) == (
        "fc_abc_0",
        "get_weather",
        '{"city":"Paris"}',
        0,
    )
    assert events[8]["item"]["status"] == "completed"


def test_text_then_tool_call_and_missing_call_id() -> None:
    chunks = [
        chunk({"content": "Checking."}),
        chunk({"tool_calls": [call_delta(0, name="get_weather", arguments="{}")]}),
        chunk({}, "tool_calls"),
    ]
    _, events = run(chunks)
    final = events[-1]["response"]
    assert [(i["type"], i["id"]) for i in final["output"]] == [
        ("message", "msg_abc"),
        ("function_call", "fc_abc_0"),
    ]
    assert final["output"][1]["call_id"] == "call_abc_0"
    assert "usage" not in final


def test_interleaved_tool_calls_stay_apart() -> None:
    chunks = [
        chunk({"tool_calls": [call_delta(0, "a", "f", '{"x":')]}),
        chunk({"tool_calls": [call_delta(1, "b", "g", '{"y":')]}),
        chunk(
            {
                "tool_calls": [
                    call_delta(0, arguments="1}"),
                    call_delta(1, arguments="2}"),
                ]
            }
        ),
        chunk({}, "tool_calls"),
    ]
    writer, _ = run(chunks)
    assert writer.response is not None
    assert [(i["name"], i["arguments"]) for i in writer.response["output"]] == [
        ("f", '{"x":1}'),
        ("g", '{"y":2}'),
    ]


def test_text_after_a_tool_call_and_late_name_fragment() -> None:
    chunks = [
        chunk({"tool_calls": [call_delta(0, "a", "get_", "")]}),
        chunk({"tool_calls": [call_delta(0, name="weather", arguments="{}")]}),
        chunk({"content": "done"}),
        chunk({}, "stop"),
    ]
    writer, events = run(chunks)
    assert writer.response is not None
    assert [i["type"] for i in writer.response["output"]] == [
        "function_call",
        "message",
    ]
    assert writer.response["output"][0]["name"] == "get_weather"
    assert events[-1]["response"]["output"][1]["content"][0]["text"] == "done"


def test_refusal_deltas() -> None:
    _, events = run(
        [chunk({"refusal": "I can"}), chunk({"refusal": "'t."}), chunk({}, "stop")]
    )
    assert "response.refusal.delta" in types(events)
    done = next(e for e in events if e["type"] == "response.refusal.done")
    assert done["refusal"] == "I can't."
    assert events[-1]["response"]["output"][0]["content"] == [
        {"type": "refusal", "refusal": "I can't."}
    ]


def test_length_ends_incomplete() -> None:
    writer, events = run([chunk({"content": "Once upon"}), chunk({}, "length")])
    assert events[-1]["type"] == "response.incomplete"
    assert writer.response is not None
    assert writer.response["status"] == "incomplete"
    assert writer.response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert writer.response["output"][0]["status"] == "incomplete"


def test_empty_stream_still_has_an_empty_message() -> None:
    writer, events = run([])
    assert types(events)[2:4] == [
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert writer.response is not None
    assert writer.response["output"][0]["content"][0]["text"] == ""


def test_other_choices_are_ignored() -> None:
    other = {"index": 1, "delta": {"content": "no"}, "finish_reason": None}
    writer, _ = run(
        [
            {
                **chunk({"content": "yes"}),
                "choices": [chunk({"content": "yes"})["choices"][0], other],
            }
        ]
    )
    assert writer.response is not None
    assert writer.response["output"][0]["content"][0]["text"] == "yes"


def test_feed_starts_the_stream_when_start_was_not_called() -> None:
    writer = ResponsesStreamWriter(REQUEST, "resp_abc", 1)
    events = writer.feed(chunk({"content": "x"}))
    assert types(events)[:2] == ["response.created", "response.in_progress"]
    assert writer.start() == []
    validate_events(events + writer.finish())


def test_fail_mid_stream_carries_partial_output() -> None:
    writer = ResponsesStreamWriter(REQUEST, "resp_abc", 1700000000)
    events = writer.start()
    events += writer.feed(chunk({"content": "Hel"}))
    events += writer.feed(chunk({"tool_calls": [call_delta(0, "c", "f", "{")]}))
    events += writer.feed(chunk(None, usage=USAGE))
    events += writer.fail("backend stream failed: model crashed", "stream_interrupted")
    validate_events(events)
    error, failed = events[-2:]
    assert error == {
        "type": "error",
        "code": "stream_interrupted",
        "message": "backend stream failed: model crashed",
        "param": None,
        "sequence_number": error["sequence_number"],
    }
    response = failed["response"]
    assert failed["type"] == "response.failed"
    assert response["status"] == "failed"
    assert response["error"] == {
        "code": "server_error",
        "message": "backend stream failed: model crashed",
    }
    assert [(i["type"], i["status"]) for i in response["output"]] == [
        ("message", "incomplete"),
        ("function_call", "incomplete"),
    ]
    assert response["output"][0]["content"][0]["text"] == "Hel"
    assert response["usage"]["input_tokens"] == 5
    assert writer.response == response
    assert writer.feed(chunk({"content": "late"})) == []
    assert writer.finish() == []
    assert writer.fail("again", "server_error") == []


def test_fail_before_anything_and_known_codes_are_kept() -> None:
    writer = ResponsesStreamWriter(REQUEST, "resp_abc", 1)
    events = writer.fail("rate limited upstream", "rate_limit_exceeded")
    validate_events(events)
    assert types(events) == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]
    assert events[-1]["response"]["error"]["code"] == "rate_limit_exceeded"
    assert events[-1]["response"]["output"] == []


def test_finish_twice_is_a_no_op() -> None:
    writer, _ = run(TEXT)
    assert writer.finish() == []
    assert writer.fail("x", "server_error") == []


def test_encode_sse() -> None:
    event = {"type": "response.output_text.delta", "delta": "é\n", "sequence_number": 3}
    assert encode_sse(event) == (
        b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
        b'"delta":"\xc3\xa9\\n","sequence_number":3}\n\n'
    )


def test_sdk_iterates_raw_events() -> None:
    _, events = run(TEXT)
    client = sse_client(encode_sse(e) for e in events)
    seen = list(client.responses.create(model="auto", input="hi", stream=True))
    assert [e.type for e in seen] == types(events)
    assert [e.sequence_number for e in seen] == list(range(len(events)))
    assert seen[-1].response.output_text == "Hello"


def test_sdk_stream_helper_accumulates_text_and_calls() -> None:
    chunks = [chunk({"content": "Checking."}), *CALLS[1:]]
    _, events = run(chunks)
    deltas, final = sdk_stream(events)
    assert deltas == ["Checking."]
    assert final.output_text == "Checking."
    calls = [item for item in final.output if item.type == "function_call"]
    assert [(c.call_id, c.arguments) for c in calls] == [
        ("call_1", '{"city":"Paris"}'),
        ("call_2", '{"city":"Rome"}'),
    ]
    assert final.usage is not None
    assert final.usage.output_tokens == 3


def test_sdk_sees_incomplete_as_openai_sends_it() -> None:
    _, events = run([chunk({"content": "Once"}), chunk({}, "length")])
    client = sse_client(encode_sse(e) for e in events)
    with client.responses.stream(model="auto", input="hi") as stream:
        last = list(stream)[-1]
        assert last.type == "response.incomplete"
        assert last.response.output_text == "Once"
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()


def test_sdk_sees_failure() -> None:
    writer = ResponsesStreamWriter(REQUEST, "resp_abc", 1)
    events = (
        writer.start()
        + writer.feed(chunk({"content": "Hel"}))
        + writer.fail("boom", "server_error")
    )
    client = sse_client(encode_sse(e) for e in events)
    with client.responses.stream(model="auto", input="hi") as stream:
        seen = list(stream)
    assert [e.type for e in seen[-2:]] == ["error", "response.failed"]
    assert seen[-1].response.error.message == "boom"
    assert seen[-1].response.output_text == "Hel"


def test_finish_takes_the_completion_time() -> None:
    writer = ResponsesStreamWriter(REQUEST, "resp_abc", 1700000000)
    writer.feed(chunk({"content": "x"}))
    assert (
        writer.finish(completed_at=1700000042)[-1]["response"]["completed_at"]
        == 1700000042
    )
