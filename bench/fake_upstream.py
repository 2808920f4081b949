"""Fake upstream for the functional tests and the benchmarks.

One aiohttp app answers as OpenAI chat completions, OpenAI Responses and Ollama's
native `/api/chat` at once, streaming and not. A request goes in; a deterministic
answer (an echo of the last user text, or one tool call) comes out, misbehaving
when the model name (or the `behaviour` argument) asks for it. Every request is
recorded so tests can assert which upstream received what.
"""

# No `from __future__ import annotations`: loaded by file path without a
# sys.modules entry, string annotations would break the dataclasses below.

import argparse
import asyncio
import random
import re
import signal
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from itertools import chain
from typing import Any, NamedTuple, Protocol

import orjson
import uvloop
from aiohttp import web

CREATED = 1_700_000_000
CREATED_AT = "2023-11-14T22:13:20Z"
PIECES = 4
CACHE_MAX = 4096
CACHE_BODY_MAX = 64 * 1024
HANG_POLL_S = 0.02
MODELS = (
    "llama3.2:latest",
    "qwen2.5-coder:7b",
    "gemma3:12b",
    "llava:latest",
    "qwen3:8b",
    "gpt-4o-mini",
)
BEHAVIOURS = (
    *("slow-<ms>", "slow-stream-<ms>", "error-<4xx|5xx>", "missing-", "cut-stream"),
    *("hang", "garbage", "ollama-error"),
)
# Fixed bytes that are neither JSON nor SSE nor NDJSON.
GARBAGE = b"\xff\xfe<garbage>\x00" + random.Random(7).randbytes(48) + b"\r\n\r\n"

JSON = "application/json"
_JSON_HEADERS = {"Content-Type": JSON}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_NDJSON_HEADERS = {"Content-Type": "application/x-ndjson"}
_OLLAMA_STATS = {
    "total_duration": 1_000_000,
    "load_duration": 10_000,
    "prompt_eval_duration": 200_000,
    "eval_duration": 700_000,
}
_BEHAVIOUR_RE = re.compile(
    r"(slow-stream|slow|error)-(\d+)|(cut-stream|hang|garbage|ollama-error|missing-)"
)


class Behaviour(NamedTuple):
    """A misbehaviour: its kind (`slow`, `error`, `hang`, ...) and its number."""

    kind: str
    arg: int = 0


@lru_cache(maxsize=1024)
def parse_behaviour(name: str) -> Behaviour | None:
    """The behaviour a model name starts with, or None for a well-behaved one."""
    m = _BEHAVIOUR_RE.match(name)
    if m is None:
        return None
    if m[3] is not None:
        return Behaviour(m[3].rstrip("-"))
    number = int(m[2])
    if m[1] == "error" and not 400 <= number <= 599:
        return None
    return Behaviour(m[1], number)


class Answer(NamedTuple):
    """What the fake replies to one request, before any wire format."""

    model: str
    stream: bool
    include_usage: bool
    ident: str
    text: str
    tool: str | None
    arguments: str
    prompt_tokens: int
    completion_tokens: int
    # Ollama only: thinking before the answer, more calls, a cut answer,
    # per-token log probabilities.
    thinking: str = ""
    more_tools: tuple[str, ...] = ()
    done_reason: str = "stop"
    logprobs: bool = False


class Frames(NamedTuple):
    """A stream: opening frames, content frames, closing frames."""

    head: list[bytes]
    body: list[bytes]
    tail: list[bytes]


Turn = tuple[str, str, int]


class Dialect(Protocol):
    """One upstream API. `read` gives the request's (role, text, image count)
    turns, whether it streams and whether it wants a usage chunk; the rest
    render an Answer (or a failure) in the API's wire format."""

    name: str
    stream_type: str
    stream_headers: dict[str, str]

    def read(self, body: dict[str, Any]) -> tuple[list[Turn], bool, bool]: ...
    def document(self, a: Answer) -> bytes: ...
    def frames(self, a: Answer) -> Frames: ...
    def error(self, status: int, message: str, code: str | None) -> bytes: ...
    def stream_error(self, message: str, seq: int) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the fake received it; header names are lower case."""

    upstream: str
    path: str
    method: str
    headers: dict[str, str]
    body: Any
    model: str | None
    at: float


@dataclass(slots=True)
class _State:
    name: str
    record: bool
    behaviour: Behaviour | None
    cache: dict[tuple[str, bytes], tuple[Answer, bytes]] = field(default_factory=dict)


REQUESTS = web.AppKey("fake_upstream.requests", list[Recorded])
# Models asked for on `/api/show`, in order (not in REQUESTS: no prompt there).
SHOWN = web.AppKey("fake_upstream.shown", list[str])
# When `/api/tags` was asked (not in REQUESTS either: routers poll it).
TAGGED = web.AppKey("fake_upstream.tagged", list[float])
_STATE = web.AppKey("fake_upstream.state", _State)


def _parts(content: Any, image: str) -> tuple[str, int]:
    """Text and image count of a string or a list of content parts."""
    if isinstance(content, str):
        return content, 0
    texts = [p["text"] for p in content or () if isinstance(p.get("text"), str)]
    return "\n".join(texts), sum(1 for p in content or () if p.get("type") == image)


def _first_function(tools: Any) -> str | None:
    for tool in tools or ():
        if tool.get("type", "function") == "function":
            name = (tool.get("function") or tool).get("name")
            if isinstance(name, str):
                return name
    return None


def _answer(
    body: dict[str, Any], ident: str, read: tuple[list[Turn], bool, bool]
) -> Answer:
    """The deterministic reply: a tool call, a tool-result echo or a text echo."""
    turns, stream, include_usage = read
    tool = _first_function(body.get("tools"))
    role, last_text, _ = turns[-1] if turns else ("", "", 0)
    said = next((text for r, text, _ in reversed(turns) if r == "user"), "")
    images = sum(n for _, _, n in turns)
    text = arguments = ""
    if role == "tool":
        text = f"tool said: {last_text}"
    elif tool is not None and role == "user":
        arguments = orjson.dumps({"echo": said[:50]}).decode()
    else:
        text = f"echo: {said[:200]}" + (f" [images: {images}]" if images else "")
    return Answer(
        model=str(body.get("model") or ""),
        stream=stream,
        include_usage=include_usage,
        ident=ident,
        text=text,
        tool=tool if arguments else None,
        arguments=arguments,
        prompt_tokens=max(1, sum(len(t) for _, t, _ in turns) // 4),
        completion_tokens=len(text or arguments) // 4,
    )


def _pieces(text: str) -> list[str]:
    step = max(1, -(-len(text) // PIECES))
    return [text[i : i + step] for i in range(0, len(text), step)] or [""]


def _openai_error(status: int, message: str, code: str | None) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"message": message, "type": kind, "param": None, "code": code}


def _sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


class _Chat:
    """OpenAI chat completions (also SarmaLink): JSON or `data:` SSE chunks."""

    name = "chat"
    stream_type = "text/event-stream"
    stream_headers = _SSE_HEADERS

    def read(self, body: dict[str, Any]) -> tuple[list[Turn], bool, bool]:
        turns = [
            (m.get("role", ""), *_parts(m.get("content"), "image_url"))
            for m in body.get("messages") or ()
        ]
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return turns, bool(body.get("stream")), usage

    def _head(self, a: Answer) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{a.ident}",
            "created": CREATED,
            "model": a.model,
            "system_fingerprint": "fp_fake",
        }

    def document(self, a: Answer) -> bytes:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": a.text or None,
            "refusal": None,
        }
        if a.tool is not None:
            function = {"name": a.tool, "arguments": a.arguments}
            call = {"id": f"call_{a.ident}", "type": "function", "function": function}
            message["tool_calls"] = [call]
        choice = {"index": 0, "message": message, "logprobs": None}
        return orjson.dumps(
            {
                **self._head(a),
                "object": "chat.completion",
                "choices": [{**choice, "finish_reason": _finish(a)}],
                "usage": _chat_usage(a),
            }
        )

    def frames(self, a: Answer) -> Frames:
        head = {**self._head(a), "object": "chat.completion.chunk"}
        if a.include_usage:
            head["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None}
            return _sse({**head, "choices": [{**choice, "finish_reason": finish}]})

        opening: dict[str, Any] = {"role": "assistant", "content": ""}
        if a.tool is not None:
            function = {"name": a.tool, "arguments": ""}
            call = {"index": 0, "id": f"call_{a.ident}", "type": "function"}
            opening = {**opening, "content": None}
            opening["tool_calls"] = [{**call, "function": function}]
            body = [
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
                for p in _pieces(a.arguments)
            ]
        else:
            body = [chunk({"content": p}) for p in _pieces(a.text)]
        tail = [chunk({}, _finish(a))]
        if a.include_usage:
            tail.append(_sse({**head, "choices": [], "usage": _chat_usage(a)}))
        return Frames([chunk(opening)], body, [*tail, b"data: [DONE]\n\n"])

    def error(self, status: int, message: str, code: str | None) -> bytes:
        return orjson.dumps({"error": _openai_error(status, message, code)})

    def stream_error(self, message: str, seq: int) -> bytes:
        return _sse({"error": _openai_error(500, message, "server_error")})


def _finish(a: Answer) -> str:
    return "stop" if a.tool is None else "tool_calls"


def _chat_usage(a: Answer) -> dict[str, int]:
    total = a.prompt_tokens + a.completion_tokens
    return {
        "prompt_tokens": a.prompt_tokens,
        "completion_tokens": a.completion_tokens,
        "total_tokens": total,
    }


class _Responses(_Chat):
    """OpenAI Responses: a Response object or typed `event:` SSE events."""

    name = "responses"

    def read(self, body: dict[str, Any]) -> tuple[list[Turn], bool, bool]:
        turns: list[Turn] = []
        if isinstance(body.get("instructions"), str):
            turns.append(("system", body["instructions"], 0))
        items = body.get("input")
        for item in [{"content": items}] if isinstance(items, str) else items or ():
            kind = item.get("type", "message")
            if kind == "message":
                content = _parts(item.get("content"), "input_image")
                turns.append((item.get("role", "user"), *content))
            elif kind == "function_call_output":
                turns.append(("tool", *_parts(item.get("output"), "input_image")))
            else:
                turns.append(("assistant", "", 0))
        return turns, bool(body.get("stream")), False

    def _item(self, a: Answer, done: bool) -> dict[str, Any]:
        status = "completed" if done else "in_progress"
        if a.tool is not None:
            return {
                "id": f"fc_{a.ident}",
                "type": "function_call",
                "status": status,
                "call_id": f"call_{a.ident}",
                "name": a.tool,
                "arguments": a.arguments if done else "",
            }
        content = [_output_text(a.text)] if done else []
        return {
            "id": f"msg_{a.ident}",
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content,
        }

    def _response(self, a: Answer, done: bool) -> dict[str, Any]:
        usage = {
            "input_tokens": a.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": a.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": a.prompt_tokens + a.completion_tokens,
        }
        return {
            "id": f"resp_{a.ident}",
            "object": "response",
            "created_at": CREATED,
            "status": "completed" if done else "in_progress",
            "completed_at": CREATED if done else None,
            "error": None,
            "incomplete_details": None,
            "instructions": None,
            "max_output_tokens": None,
            "model": a.model,
            "output": [self._item(a, True)] if done else [],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "store": False,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage if done else None,
            "metadata": {},
        }

    def document(self, a: Answer) -> bytes:
        return orjson.dumps(self._response(a, True))

    def frames(self, a: Answer) -> Frames:
        at = {"item_id": self._item(a, True)["id"], "output_index": 0}
        part = {**at, "content_index": 0}
        started = {"response": self._response(a, False)}
        head = [
            ("response.created", started),
            ("response.in_progress", started),
            ("response.output_item.added", {**at, "item": self._item(a, False)}),
        ]
        if a.tool is None:
            blank = {**part, "part": _output_text("")}
            head.append(("response.content_part.added", blank))
            kind, pieces = "response.output_text.delta", _pieces(a.text)
            body = [(kind, {**part, "delta": p, "logprobs": []}) for p in pieces]
            tail = [
                ("response.output_text.done", {**part, "text": a.text, "logprobs": []}),
                ("response.content_part.done", {**part, "part": _output_text(a.text)}),
            ]
        else:
            kind, pieces = (
                "response.function_call_arguments.delta",
                _pieces(a.arguments),
            )
            body = [(kind, {**at, "delta": p}) for p in pieces]
            done = {**at, "name": a.tool, "arguments": a.arguments}
            tail = [("response.function_call_arguments.done", done)]
        tail.append(("response.output_item.done", {**at, "item": self._item(a, True)}))
        tail.append(("response.completed", {"response": self._response(a, True)}))
        events = [_event(t, f, seq) for seq, (t, f) in enumerate(head + body + tail)]
        return Frames(
            events[: len(head)], events[len(head) : -len(tail)], events[-len(tail) :]
        )

    def stream_error(self, message: str, seq: int) -> bytes:
        fields = {"code": "server_error", "message": message, "param": None}
        return _event("error", fields, seq)


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _event(kind: str, fields: dict[str, Any], seq: int) -> bytes:
    data = orjson.dumps({"type": kind, **fields, "sequence_number": seq})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


# Ollama model capabilities (`/api/show`, and the 400s of `/api/chat`) by
# name: thinking models think, vision models see, `notools-*` has no tools.
_THINKERS = ("qwen3", "deepseek-r1", "gpt-oss", "think-")
# Ollama's default context, in tokens (the fake counts 4 characters each).
NUM_CTX = 4096
_SEERS = ("llava", "gemma3", "vision-")


def capabilities(model: str) -> list[str]:
    caps = ["completion"]
    if not model.startswith("notools-"):
        caps.append("tools")
    if model.startswith(_THINKERS):
        caps.append("thinking")
    if model.startswith(_SEERS):
        caps.append("vision")
    return caps


def _ollama_refusal(model: str, body: dict[str, Any]) -> tuple[int, str] | None:
    """The 404 or 400 Ollama gives before it streams, in its own wording."""
    if model.startswith("missing-"):
        return 404, f"model '{model}' not found"
    if model.startswith("unpulled-"):
        return 404, f'model "{model}" not found, try pulling it first'
    caps = capabilities(model)
    if body.get("tools") and "tools" not in caps:
        return 400, f"registry.ollama.ai/library/{model} does not support tools"
    think = body.get("think")
    if think not in (None, False) and "thinking" not in caps:
        return 400, f'"{model}" does not support thinking'
    context = (body.get("options") or {}).get("num_ctx") or NUM_CTX
    prompt = sum(len(m.get("content") or "") for m in body.get("messages") or ())
    if prompt // 4 > context and body.get("truncate") is False:
        return 400, "the request exceeds the available context size, try increasing it"
    return None


def _logprobs(text: str) -> list[dict[str, Any]]:
    return [
        {"token": t, "logprob": -0.5, "bytes": list(t.encode()), "top_logprobs": []}
        for t in re.findall(r"\S+|\s+", text)
    ]


class _Ollama:
    """Ollama native `/api/chat`: one JSON object or NDJSON lines (the default).

    As Ollama today: tool calls carry ids (`call_...`) and an index, several
    when the user asks for them `in parallel`; a thinking model thinks when
    asked (`think`), streamed before the answer; `options.num_predict`
    shorter than the answer cuts it (`done_reason: length`); `logprobs`."""

    name = "ollama"
    stream_type = "application/x-ndjson"
    stream_headers = _NDJSON_HEADERS

    def read(self, body: dict[str, Any]) -> tuple[list[Turn], bool, bool]:
        turns = [
            (m.get("role", ""), m.get("content") or "", len(m.get("images") or ()))
            for m in body.get("messages") or ()
        ]
        return turns, body.get("stream") is not False, False

    @staticmethod
    def shape(a: Answer, body: dict[str, Any]) -> Answer:
        """`a` as this model answers `body`: thinking, calls, length."""
        model = a.model
        said = next(
            (
                m.get("content") or ""
                for m in reversed(body.get("messages") or ())
                if m.get("role") == "user"
            ),
            "",
        )
        think = body.get("think")
        if think not in (None, False) and "thinking" in capabilities(model):
            a = a._replace(thinking=f"thinking about: {said[:40]}")
        if a.tool is not None and "in parallel" in said:
            names = [
                (t.get("function") or {}).get("name") for t in body.get("tools") or ()
            ]
            a = a._replace(more_tools=tuple(n for n in names[1:] if isinstance(n, str)))
        limit = (body.get("options") or {}).get("num_predict")
        if isinstance(limit, int) and limit > 0 and len(a.text) > limit * 4:
            a = a._replace(text=a.text[: limit * 4], done_reason="length")
        if body.get("logprobs"):
            a = a._replace(logprobs=True)
        return a

    def _line(self, a: Answer, message: dict[str, Any], **extra: Any) -> bytes:
        full = {"role": "assistant", **message}
        line = {"model": a.model, "created_at": CREATED_AT, "message": full, **extra}
        if a.logprobs and message.get("content"):
            line["logprobs"] = _logprobs(message["content"])
        return orjson.dumps(line)

    def _done(self, a: Answer, message: dict[str, Any]) -> bytes:
        counts = {
            "prompt_eval_count": a.prompt_tokens,
            "eval_count": a.completion_tokens,
        }
        return self._line(
            a, message, done=True, done_reason=a.done_reason, **_OLLAMA_STATS, **counts
        )

    def _calls(self, a: Answer) -> list[dict[str, Any]]:
        assert a.tool is not None
        arguments = orjson.loads(a.arguments)
        return [
            {
                "id": f"call_{a.ident[-8:]}{i}",
                "function": {"index": i, "name": name, "arguments": arguments},
            }
            for i, name in enumerate((a.tool, *a.more_tools))
        ]

    def _message(self, a: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {"content": a.text}
        if a.thinking:
            message["thinking"] = a.thinking
        if a.tool is not None:
            message = {**message, "content": "", "tool_calls": self._calls(a)}
        return message

    def document(self, a: Answer) -> bytes:
        return self._done(a, self._message(a))

    def frames(self, a: Answer) -> Frames:
        lines = [
            self._line(a, {"content": "", "thinking": p}, done=False)
            for p in (_pieces(a.thinking) if a.thinking else ())
        ]
        if a.tool is None:
            lines += [
                self._line(a, {"content": p}, done=False) for p in _pieces(a.text)
            ]
        else:
            calls = {"content": "", "tool_calls": self._calls(a)}
            lines.append(self._line(a, calls, done=False))
        end = self._done(a, {"content": ""})
        return Frames([], [line + b"\n" for line in lines], [end + b"\n"])

    def error(self, status: int, message: str, code: str | None) -> bytes:
        return orjson.dumps({"error": message})

    def stream_error(self, message: str, seq: int) -> bytes:
        return orjson.dumps({"error": message}) + b"\n"


def _record(request: web.Request, state: _State, body: Any, at: float) -> None:
    model = body.get("model") if isinstance(body, dict) else None
    headers = {k.lower(): v for k, v in request.headers.items()}
    entry = Recorded(state.name, request.path, request.method, headers, body, model, at)
    request.app[REQUESTS].append(entry)


def _prepare(
    state: _State, dialect: Dialect, raw: bytes, body: Any
) -> tuple[Answer, bytes] | None:
    """The answer and its well-behaved payload, cached by request bytes; None
    when the body is not a request of this dialect."""
    try:
        answer = _answer(body, f"fake{zlib.crc32(raw):08x}", dialect.read(body))
        if isinstance(dialect, _Ollama):
            answer = dialect.shape(answer, body)
    except (AttributeError, TypeError, ValueError):
        return None
    if answer.stream:
        payload = b"".join(chain.from_iterable(dialect.frames(answer)))
    else:
        payload = dialect.document(answer)
    if len(state.cache) >= CACHE_MAX:
        state.cache.clear()
    if len(raw) <= CACHE_BODY_MAX:
        state.cache[dialect.name, raw] = answer, payload
    return answer, payload


def _generate(dialect: Dialect) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        state = request.app[_STATE]
        raw = await request.read()
        prepared = state.cache.get((dialect.name, raw))
        if prepared is None or state.record:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = None
            if state.record:
                _record(request, state, body, at)
            if prepared is None:
                prepared = _prepare(state, dialect, raw, body)
            if prepared is None:
                msg = "request body is not a JSON object of the expected shape"
                return _error(dialect, 400, msg, None)
        answer, payload = prepared
        if isinstance(dialect, _Ollama) and (
            answer.model.startswith(("missing-", "unpulled-", "notools-"))
            or b'"think"' in raw
            or len(raw) > NUM_CTX * 4
        ):
            refused = _ollama_refusal(answer.model, orjson.loads(raw))
            if refused is not None:
                return _error(dialect, refused[0], refused[1], None)
        fault = parse_fault(answer.model)
        if fault is not None:
            faulty = await _fault(request, dialect, answer, payload, fault)
            if faulty is not None:
                return faulty
        behaviour = state.behaviour or parse_behaviour(answer.model)
        if behaviour is not None:
            early = await _misbehave(request, dialect, answer, behaviour)
            if early is not None:
                return early
        if not answer.stream:
            return web.Response(body=payload, headers=_JSON_HEADERS)
        response = web.StreamResponse(headers=dialect.stream_headers)
        await response.prepare(request)
        await response.write_eof(payload)
        return response

    return handle


def _error(d: Dialect, status: int, msg: str, code: str | None) -> web.Response:
    body = d.error(status, msg, code)
    return web.Response(status=status, body=body, headers=_JSON_HEADERS)


async def _misbehave(
    request: web.Request, dialect: Dialect, a: Answer, behaviour: Behaviour
) -> web.StreamResponse | None:
    """The misbehaving response, or None to go on with the normal one."""
    kind, arg = behaviour
    if kind == "slow":
        await asyncio.sleep(arg / 1000)
        return None
    if kind == "slow-stream" and not a.stream:
        # A whole answer waits for the whole generation, as Ollama's does.
        frames = dialect.frames(a)
        await asyncio.sleep(arg / 1000 * (len(frames.body) + len(frames.tail) - 1))
        return None
    if kind == "hang":
        while (t := request.transport) is not None and not t.is_closing():
            await asyncio.sleep(HANG_POLL_S)
        return web.Response()
    if kind == "error":
        return _error(dialect, arg, f"fake upstream error {arg}", None)
    if kind == "missing":
        return _error(dialect, 404, f"model '{a.model}' not found", "model_not_found")
    if kind == "garbage":
        content_type = dialect.stream_type if a.stream else JSON
        return web.Response(body=GARBAGE, headers={"Content-Type": content_type})
    if a.stream:
        return await _stream(request, dialect, a, kind, arg)
    if kind == "ollama-error":
        return _error(dialect, 500, "fake upstream failed", "server_error")
    if kind != "cut-stream":
        return None
    doc = dialect.document(a)
    response = web.StreamResponse(headers=_JSON_HEADERS)
    response.content_length = len(doc)
    await response.prepare(request)
    await response.write(doc[: len(doc) // 2])
    return _abort(request, response)


async def _stream(
    request: web.Request, dialect: Dialect, a: Answer, kind: str, arg: int
) -> web.StreamResponse:
    """A stream that is cut, fails midway (`ollama-error`) or trickles."""
    head, body, tail = dialect.frames(a)
    frames = [*head, *body, *tail]
    if kind == "cut-stream":
        frames = [*head, *body[:2]]
    elif kind == "ollama-error":
        failure = dialect.stream_error("fake upstream failed mid-stream", len(head) + 1)
        frames = [*head, *body[:1], failure]
    response = web.StreamResponse(headers=dialect.stream_headers)
    await response.prepare(request)
    for i, frame in enumerate(frames):
        if kind == "slow-stream" and i:
            await asyncio.sleep(arg / 1000)
        await response.write(frame)
    return _abort(request, response) if kind == "cut-stream" else response


def _abort(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Close the connection with the body unfinished (no terminator)."""
    if request.transport is not None:
        request.transport.close()
    return response


def _static(body: Any, *, record: bool = True) -> Callable[[web.Request], Any]:
    payload = orjson.dumps(body)

    async def handle(request: web.Request) -> web.Response:
        state = request.app[_STATE]
        if record and state.record:
            _record(request, state, None, time.monotonic())
        elif not record:
            request.app[TAGGED].append(time.monotonic())
        return web.Response(body=payload, headers=_JSON_HEADERS)

    return handle


async def _show(request: web.Request) -> web.Response:
    """Ollama's `/api/show`: `missing-*` and `unpulled-*` are not pulled
    (404), capabilities by name (`capabilities`), `remote-*` was
    pulled from another host (`remote_host`, as Ollama reports such a model);
    every other model is local."""
    try:
        model = str(orjson.loads(await request.read())["model"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return web.Response(status=400, body=b'{"error":"model is required"}')
    request.app[SHOWN].append(model)
    if model.startswith(("missing-", "unpulled-")):
        body: dict[str, Any] = {"error": f"model '{model}' not found"}
        return web.Response(status=404, body=orjson.dumps(body), headers=_JSON_HEADERS)
    body = {
        "details": {"format": "gguf", "family": "llama", "parameter_size": "8B"},
        "capabilities": capabilities(model),
        "model_info": {},
        "modified_at": CREATED_AT,
    }
    if model.startswith("remote-"):
        body["remote_model"] = model.removeprefix("remote-")
        body["remote_host"] = "https://ollama.com:443"
    return web.Response(body=orjson.dumps(body), headers=_JSON_HEADERS)


async def _list_requests(request: web.Request) -> web.Response:
    entries = [asdict(r) for r in request.app[REQUESTS]]
    return web.Response(body=orjson.dumps(entries), headers=_JSON_HEADERS)


async def _clear_requests(request: web.Request) -> web.Response:
    request.app[REQUESTS].clear()
    return web.Response(status=204)


def make_app(
    *,
    behaviour: str | None = None,
    record: bool = True,
    name: str = "fake",
    pulled: Sequence[str] = MODELS,
) -> web.Application:
    """The fake upstream; `behaviour` forces one misbehaviour on every request
    (the model lists and `/_fake/requests` always answer). `pulled` is what
    Ollama's `/api/tags` lists (other models are answered all the same,
    except `missing-*` and `unpulled-*`, which are not found)."""
    forced = None
    if behaviour is not None:
        forced = parse_behaviour(behaviour)
        if forced is None:
            known = ", ".join(BEHAVIOURS)
            raise ValueError(f"unknown behaviour {behaviour!r}, not one of {known}")
    app = web.Application()
    app[_STATE] = _State(name, record, forced)
    app[REQUESTS] = []
    app[FAULT_COUNTS] = {}
    app[SHOWN] = []
    app[TAGGED] = []
    chat, responses = _generate(_Chat()), _generate(_Responses())
    tags = [
        {"name": m, "model": m, "modified_at": CREATED_AT, "size": 1} for m in pulled
    ]
    models = [
        {"id": m, "object": "model", "created": CREATED, "owned_by": name}
        for m in MODELS
    ]
    listing = _static({"object": "list", "data": models})
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/chat/completions", chat)
    app.router.add_post("/v1/responses", responses)
    app.router.add_post("/responses", responses)
    app.router.add_post("/api/chat", _generate(_Ollama()))
    app.router.add_get("/api/tags", _static({"models": tags}, record=False))
    app.router.add_post("/api/show", _show)
    app.router.add_get("/v1/models", listing)
    app.router.add_get("/models", listing)
    app.router.add_get("/_fake/requests", _list_requests)
    app.router.add_delete("/_fake/requests", _clear_requests)
    return app


# -- backend faults (the reliability tests) ------------------------------------
# Picked by the model name, like the behaviours above, and answered before
# them: `reset` (the connection aborted halfway through the body),
# `drip-<ms>` (one byte every <ms>), `bad-frames` (a stream whose framing
# breaks after its first frame), `wrong-type` (the right body as text/html),
# `retry-after-<s>` (429 with Retry-After), `burst-<n>` (this model's
# requests fail in bursts of n with 500, then n succeed, ...), `recover-<n>`
# (the first n fail with 503, every later one succeeds), `sick-<ms>` (a 500
# after <ms>).

FAULTS = ("reset", "drip-<ms>", "bad-frames", "wrong-type", "retry-after-<s>",
          "burst-<n>", "recover-<n>", "sick-<ms>")  # fmt: skip
_FAULT_RE = re.compile(
    r"(drip|retry-after|burst|recover|sick)-(\d+)|(reset|bad-frames|wrong-type)"
)
# Requests seen per fault model name, for burst and recover.
FAULT_COUNTS = web.AppKey("fake_upstream.fault_counts", dict[str, int])


@lru_cache(maxsize=1024)
def parse_fault(name: str) -> Behaviour | None:
    m = _FAULT_RE.match(name)
    if m is None:
        return None
    if m[3] is not None:
        return Behaviour(m[3])
    return Behaviour(m[1], int(m[2]))


async def _fault(
    request: web.Request,
    dialect: Dialect,
    a: Answer,
    payload: bytes,
    fault: Behaviour,
) -> web.StreamResponse | None:
    """The faulty response, or None for the normal one."""
    kind, arg = fault
    headers = dialect.stream_headers if a.stream else _JSON_HEADERS
    if kind in ("burst", "recover"):
        counts = request.app[FAULT_COUNTS]
        seen = counts[a.model] = counts.get(a.model, 0) + 1
        failing = (seen - 1) // arg % 2 == 0 if kind == "burst" else seen <= arg
        if not failing:
            return None
        status = 500 if kind == "burst" else 503
        return _error(dialect, status, f"fake upstream {kind} {seen}", None)
    if kind == "sick":
        await asyncio.sleep(arg / 1000)
        return _error(dialect, 500, "fake upstream is sick", None)
    if kind == "retry-after":
        body = dialect.error(429, "fake upstream rate limit", "rate_limit_exceeded")
        return web.Response(
            status=429, body=body, headers={**_JSON_HEADERS, "Retry-After": str(arg)}
        )
    if kind == "wrong-type":
        return web.Response(body=payload, headers={"Content-Type": "text/html"})
    response = web.StreamResponse(headers=headers)
    if not a.stream:
        response.content_length = len(payload)
    await response.prepare(request)
    if kind == "reset":
        await response.write(payload[: len(payload) // 2])
        if request.transport is not None:
            request.transport.abort()
        return response
    if kind == "drip":
        for i in range(len(payload)):
            await response.write(payload[i : i + 1])
            await asyncio.sleep(arg / 1000)
        await response.write_eof()
        return response
    head, body, _ = dialect.frames(a)
    first = (head or body)[0]
    await response.write(first)
    await response.write(b'data: {not json\n\nevent without data\n\n{"half": ')
    return _abort(request, response)


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM; print one `listening on URL` line first."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0][1]
        print(f"{app[_STATE].name} listening on http://{host}:{bound}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake upstream as a program (uvloop, no access log)."""
    global PIECES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--behaviour", help=f"force one of {', '.join(BEHAVIOURS)}")
    parser.add_argument("--no-record", action="store_true", help="for benchmarks")
    parser.add_argument("--name", default="fake")
    parser.add_argument(
        "--pulled",
        help=f"comma-separated models /api/tags lists (default {','.join(MODELS)})",
    )
    parser.add_argument(
        "--pieces",
        type=int,
        default=PIECES,
        help=f"content chunks per stream (default {PIECES}; bench_load uses 50)",
    )
    args = parser.parse_args(argv)
    if args.pieces < 1:
        parser.error("--pieces: expected at least 1")
    PIECES = args.pieces
    try:
        pulled = args.pulled.split(",") if args.pulled else MODELS
        app = make_app(
            behaviour=args.behaviour,
            record=not args.no_record,
            name=args.name,
            pulled=pulled,
        )
    except ValueError as exc:
        parser.error(str(exc))
    uvloop.run(serve(app, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
