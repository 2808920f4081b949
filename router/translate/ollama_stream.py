"""Translate stage, Ollama answer -> chat result: an `/api/chat` answer (one JSON
object, or its NDJSON stream line by line) in, a chat completion object or
chat completion chunks out, then SSE bytes.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate import shape
from router.translate.errors import UpstreamStreamError

JSON = dict[str, Any]

SSE_DONE = b"data: [DONE]\n\n"


def encode_chat_sse(chunk: JSON) -> bytes:
    """One chat completion chunk as a server-sent event."""
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def ollama_to_chat(resp: JSON, *, model: str, completion_id: str, created: int) -> JSON:
    """A non-streaming `/api/chat` answer -> a chat completion object."""
    _raise_error(resp)
    message = shape.obj(resp, "message")
    calls = _tool_calls(shape.items(message, "tool_calls"), completion_id, 0)
    content = shape.text(message, "content") or ""
    answer: JSON = {
        "role": "assistant",
        "content": content if content or not calls else None,
        "refusal": None,
        "annotations": [],
    }
    if calls:
        answer["tool_calls"] = calls
    thinking = shape.text(message, "thinking")
    if thinking:
        answer["reasoning"] = thinking
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": answer,
                "logprobs": _logprobs(resp),
                "finish_reason": _finish_reason(resp, bool(calls)),
            }
        ],
        "usage": ollama_usage(resp),
    }


def ollama_usage(resp: JSON) -> JSON:
    """Chat `usage` from Ollama's final object (`prompt_eval_count`, `eval_count`)."""
    prompt = shape.count(resp, "prompt_eval_count")
    completion = shape.count(resp, "eval_count")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class OllamaChatStream:
    """Turns Ollama's NDJSON stream into chat completion chunks, OpenAI-style.

    `feed()` each decoded line; the `done` line yields the finishing chunk
    (and, with `include_usage`, a usage chunk with empty `choices`). `finish()`
    at end of input raises UpstreamStreamError when no `done` line came.
    An `error` line raises UpstreamStreamError at once.
    """

    def __init__(
        self, model: str, completion_id: str, created: int, include_usage: bool
    ) -> None:
        self.model = model
        self.completion_id = completion_id
        self.created = created
        self.include_usage = include_usage
        self.usage: JSON | None = None
        self._started = False
        self._done = False
        self._calls = 0

    def feed(self, line: JSON) -> list[JSON]:
        _raise_error(line)
        if self._done:
            return []
        chunks: list[JSON] = []
        if not self._started:
            self._started = True
            chunks.append(self._chunk({"role": "assistant", "content": ""}))
        message = shape.obj(line, "message")
        logprobs = _logprobs(line)
        for key, value in (
            ("reasoning", shape.text(message, "thinking")),
            ("content", shape.text(message, "content")),
        ):
            if value:
                chunks.append(self._chunk({key: value}, logprobs=logprobs))
                logprobs = None
        calls = _tool_calls(
            shape.items(message, "tool_calls"), self.completion_id, self._calls
        )
        if calls:
            deltas = [{"index": self._calls + j, **c} for j, c in enumerate(calls)]
            self._calls += len(calls)
            chunks.append(self._chunk({"tool_calls": deltas}))
        if line.get("done"):
            self._done = True
            reason = _finish_reason(line, self._calls > 0)
            chunks.append(self._chunk({}, reason))
            self.usage = ollama_usage(line)
            if self.include_usage:
                chunks.append({**self._envelope(), "choices": [], "usage": self.usage})
        return chunks

    def finish(self) -> list[JSON]:
        if not self._done:
            raise UpstreamStreamError("the Ollama stream ended before its final object")
        return []

    def _envelope(self) -> JSON:
        return {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(
        self,
        delta: JSON,
        finish_reason: str | None = None,
        *,
        logprobs: JSON | None = None,
    ) -> JSON:
        choice = {
            "index": 0,
            "delta": delta,
            "logprobs": logprobs,
            "finish_reason": finish_reason,
        }
        chunk = {**self._envelope(), "choices": [choice]}
        if self.include_usage:
            chunk["usage"] = None
        return chunk


def _raise_error(obj: JSON) -> None:
    if "error" in obj:
        error = obj["error"]
        if isinstance(error, dict):
            error = error.get("message") or orjson.dumps(error).decode()
        raise UpstreamStreamError(str(error))


def _finish_reason(final: JSON, has_calls: bool) -> str:
    """Ollama's `done_reason` as OpenAI's finish_reason, as Ollama's own
    OpenAI layer maps it: `tool_calls` only overrides `stop` (a call cut by
    the length limit is `length`)."""
    if final.get("done_reason") == "length":
        return "length"
    return "tool_calls" if has_calls else "stop"


def _logprobs(line: JSON) -> JSON | None:
    """Ollama's per-token `logprobs` -> a chat choice's `logprobs`."""
    tokens = shape.items(line, "logprobs")
    if not tokens:
        return None
    return {
        "content": [
            {
                **_token(t),
                "top_logprobs": [_token(x) for x in shape.items(t, "top_logprobs")],
            }
            for t in tokens
            if isinstance(t, dict)
        ],
        "refusal": None,
    }


def _token(t: Any) -> JSON:
    if not isinstance(t, dict):
        return {"token": "", "logprob": 0.0, "bytes": None}
    logprob = t.get("logprob")
    return {
        "token": shape.text(t, "token") or "",
        "logprob": float(logprob) if isinstance(logprob, int | float) else 0.0,
        "bytes": t.get("bytes") if isinstance(t.get("bytes"), list) else None,
    }


def _tool_calls(calls: list[Any], completion_id: str, start: int) -> list[JSON]:
    """Ollama tool calls (arguments as objects) -> chat tool calls (arguments as
    JSON strings, ids unique per completion)."""
    suffix = completion_id.removeprefix("chatcmpl-")
    out: list[JSON] = []
    for call in calls:
        function = shape.obj(call, "function")
        if not function:
            continue
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = orjson.dumps(
                arguments if arguments is not None else {}
            ).decode()
        n = start + len(out)
        out.append(
            {
                "id": shape.text(call, "id") or f"call_{suffix}_{n}",
                "type": "function",
                "function": {
                    "name": shape.text(function, "name") or "",
                    "arguments": arguments,
                },
            }
        )
    return out
