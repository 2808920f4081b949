"""Translate stage, chat stream -> Responses events: chat completion chunks in,
typed Responses streaming events (with `sequence_number`) out, then SSE bytes.

Output items stay open until the stream ends, so interleaved deltas of several
tool calls are fine; they are closed in `output_index` order.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate import shape
from router.translate.response_object import (
    ERROR_CODES,
    ItemIds,
    finish_response,
    finish_status,
    function_call_item,
    message_item,
    output_text_part,
    reasoning_item,
    refusal_part,
    response_shell,
    response_usage,
)
from router.translate.responses import namespaced

JSON = dict[str, Any]


def encode_sse(event: JSON) -> bytes:
    """One Responses event as a server-sent event."""
    return b"".join(
        (b"event: ", event["type"].encode(), b"\ndata: ", orjson.dumps(event), b"\n\n")
    )


class _Part:
    def __init__(self, kind: str, index: int) -> None:
        self.kind = kind
        self.index = index
        self.text: list[str] = []

    def json(self) -> JSON:
        text = "".join(self.text)
        return (
            output_text_part(text) if self.kind == "output_text" else refusal_part(text)
        )


class _Message:
    def __init__(self, item_id: str, output_index: int) -> None:
        self.item_id = item_id
        self.output_index = output_index
        self.parts: dict[str, _Part] = {}

    def json(self, status: str) -> JSON:
        return message_item(
            self.item_id, [p.json() for p in self.parts.values()], status
        )


class _Reasoning:
    def __init__(self, item_id: str, output_index: int) -> None:
        self.item_id = item_id
        self.output_index = output_index
        self.text: list[str] = []

    def json(self, status: str) -> JSON:
        return reasoning_item(self.item_id, "".join(self.text), status)


class _Call:
    def __init__(
        self,
        item_id: str,
        output_index: int,
        call_id: str,
        name: str,
        namespaces: dict[str, tuple[str, str]],
    ) -> None:
        self.item_id = item_id
        self.output_index = output_index
        self.call_id = call_id
        self.name = name
        self.namespaces = namespaces
        self.arguments: list[str] = []

    def json(self, status: str) -> JSON:
        return function_call_item(
            self.item_id,
            call_id=self.call_id,
            name=self.name,
            arguments="".join(self.arguments),
            status=status,
            namespaces=self.namespaces,
        )


class ResponsesStreamWriter:
    """Turns one chat completion stream into one Responses event stream.

    Call `start()`, then `feed()` per chunk, then `finish()` (or `fail()` when
    the upstream broke). Each returns the events to send, in order. After the
    end, `response` holds the final Response object.
    """

    def __init__(
        self,
        request: JSON,
        response_id: str,
        created_at: int,
        *,
        model: str | None = None,
    ) -> None:
        """`model`: the model every event names (default: the request's)."""
        self._request = request
        self._id = response_id
        self._created_at = created_at
        self._ids = ItemIds(response_id)
        self._model = model or shape.text(request, "model") or ""
        self._namespaces = namespaced(request)
        self._seq = 0
        self._started = False
        self._ended = False
        self._items: list[_Message | _Call | _Reasoning] = []
        self._message: _Message | None = None
        self._reasoning: _Reasoning | None = None
        self._calls: dict[int, _Call] = {}
        self._finish_reason: str | None = None
        self._usage: JSON | None = None
        self._completed_at = created_at
        self.response: JSON | None = None

    def start(self) -> list[JSON]:
        """`response.created` and `response.in_progress`."""
        if self._started:
            return []
        self._started = True
        return [
            self._event("response.created", response=self._shell()),
            self._event("response.in_progress", response=self._shell()),
        ]

    def feed(self, chunk: JSON) -> list[JSON]:
        """Events for one chat completion chunk (possibly none)."""
        if self._ended:
            return []
        events = self.start()
        self._model = shape.text(chunk, "model") or self._model
        created = chunk.get("created")
        if isinstance(created, int):
            self._completed_at = created
        self._usage = shape.obj(chunk, "usage") or self._usage
        for choice in shape.items(chunk, "choices"):
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = shape.obj(choice, "delta")
            thinking = shape.text(delta, "reasoning") or shape.text(
                delta, "reasoning_content"
            )
            if thinking:
                events += self._thinking(thinking)
            for kind, key in (("output_text", "content"), ("refusal", "refusal")):
                value = shape.text(delta, key)
                if value:
                    events += self._text(kind, value)
            for call in shape.items(delta, "tool_calls"):
                events += self._tool_call(call)
            self._finish_reason = (
                shape.text(choice, "finish_reason") or self._finish_reason
            )
        return events

    def finish(self, completed_at: int | None = None) -> list[JSON]:
        """Close every open item, then `response.completed` (or
        `response.incomplete` when the backend stopped at its token limit).

        `completed_at` defaults to the chunks' `created`; no clock is read here.
        """
        if self._ended:
            return []
        events = self.start()
        if not self._items:
            events += self._open_part("output_text")[2]
        status = finish_status(self._finish_reason)
        for item in self._items:
            events += self._close(item, status)
        response = finish_response(
            self._shell(),
            output=[item.json(status) for item in self._items],
            finish_reason=self._finish_reason,
            usage=self._usage,
            completed_at=completed_at or self._completed_at,
        )
        kind = "response.completed" if status == "completed" else "response.incomplete"
        events.append(self._event(kind, response=response))
        self._end(response)
        return events

    def fail(self, message: str, code: str) -> list[JSON]:
        """An `error` event, then `response.failed` carrying the partial output."""
        if self._ended:
            return []
        events = self.start()
        response = self._shell()
        response["output"] = [item.json("incomplete") for item in self._items]
        if self._usage is not None:
            response["usage"] = response_usage(self._usage)
        failed = failure_events(response, self._seq, message, code)
        self._seq += len(failed)
        events += failed
        self._end(response)
        return events

    def _end(self, response: JSON) -> None:
        self._ended = True
        self.response = response

    def _shell(self) -> JSON:
        return response_shell(
            self._request,
            response_id=self._id,
            created_at=self._created_at,
            model=self._model,
        )

    def _event(self, kind: str, **fields: Any) -> JSON:
        event = {"type": kind, **fields, "sequence_number": self._seq}
        self._seq += 1
        return event

    def _thinking(self, delta: str) -> list[JSON]:
        events: list[JSON] = []
        item = self._reasoning
        if item is None:
            item = self._reasoning = _Reasoning(self._ids.reasoning, len(self._items))
            events.append(self._add(item))
        item.text.append(delta)
        events.append(
            self._event(
                "response.reasoning_text.delta",
                item_id=item.item_id,
                output_index=item.output_index,
                content_index=0,
                delta=delta,
            )
        )
        return events

    def _add(self, item: _Message | _Call | _Reasoning) -> JSON:
        self._items.append(item)
        return self._event(
            "response.output_item.added",
            output_index=item.output_index,
            item=item.json("in_progress"),
        )

    def _open_part(self, kind: str) -> tuple[_Message, _Part, list[JSON]]:
        """The message item and its part of `kind`, with the events that
        announce whichever of them is new."""
        events: list[JSON] = []
        message = self._message
        if message is None:
            message = self._message = _Message(self._ids.message, len(self._items))
            events.append(self._add(message))
        part = message.parts.get(kind)
        if part is None:
            part = message.parts[kind] = _Part(kind, len(message.parts))
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=message.item_id,
                    output_index=message.output_index,
                    content_index=part.index,
                    part=part.json(),
                )
            )
        return message, part, events

    def _text(self, kind: str, delta: str) -> list[JSON]:
        message, part, events = self._open_part(kind)
        part.text.append(delta)
        where = {
            "item_id": message.item_id,
            "output_index": message.output_index,
            "content_index": part.index,
        }
        if kind == "output_text":
            events.append(
                self._event(
                    "response.output_text.delta", **where, delta=delta, logprobs=[]
                )
            )
        else:
            events.append(self._event("response.refusal.delta", **where, delta=delta))
        return events

    def _tool_call(self, delta: Any) -> list[JSON]:
        events: list[JSON] = []
        index = delta.get("index") if isinstance(delta, dict) else None
        index = index if isinstance(index, int) else 0
        function = shape.obj(delta, "function")
        name = shape.text(function, "name") or ""
        call = self._calls.get(index)
        if call is None:
            n = len(self._calls)
            call_id = shape.text(delta, "id") or self._ids.call_id(n)
            call = _Call(
                self._ids.call(n), len(self._items), call_id, name, self._namespaces
            )
            self._calls[index] = call
            events.append(self._add(call))
        else:
            call.name += name
        arguments = shape.text(function, "arguments")
        if arguments:
            call.arguments.append(arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=call.item_id,
                    output_index=call.output_index,
                    delta=arguments,
                )
            )
        return events

    def _close(self, item: _Message | _Call | _Reasoning, status: str) -> list[JSON]:
        events: list[JSON] = []
        if isinstance(item, _Reasoning):
            events.append(
                self._event(
                    "response.reasoning_text.done",
                    item_id=item.item_id,
                    output_index=item.output_index,
                    content_index=0,
                    text="".join(item.text),
                )
            )
        elif isinstance(item, _Call):
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item.item_id,
                    name=item.json(status)["name"],
                    output_index=item.output_index,
                    arguments="".join(item.arguments),
                )
            )
        else:
            for part in item.parts.values():
                where = {
                    "item_id": item.item_id,
                    "output_index": item.output_index,
                    "content_index": part.index,
                }
                text = "".join(part.text)
                if part.kind == "output_text":
                    events.append(
                        self._event(
                            "response.output_text.done", **where, text=text, logprobs=[]
                        )
                    )
                else:
                    events.append(
                        self._event("response.refusal.done", **where, refusal=text)
                    )
                events.append(
                    self._event("response.content_part.done", **where, part=part.json())
                )
        events.append(
            self._event(
                "response.output_item.done",
                output_index=item.output_index,
                item=item.json(status),
            )
        )
        return events


def failure_events(response: JSON, seq: int, message: str, code: str) -> list[JSON]:
    """How a Responses stream ends when its backend fails midway: an `error`
    event, then `response.failed` with `response` (marked failed), numbered
    from `seq`. Both backend kinds end a broken stream this way."""
    response["status"] = "failed"
    response["error"] = {
        "code": code if code in ERROR_CODES else "server_error",
        "message": message,
    }
    error = {
        "type": "error",
        "code": code,
        "message": message,
        "param": None,
        "sequence_number": seq,
    }
    failed = {
        "type": "response.failed",
        "response": response,
        "sequence_number": seq + 1,
    }
    return [error, failed]
