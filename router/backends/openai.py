"""Dispatch stage, OpenAI-compatible backends (`openai`, `sarmalink`).

Chat completions go to `{endpoint}/chat/completions` and Responses requests to
`{endpoint}/responses`, with only the `model` field set by the router; the
answer, streamed or not, is relayed byte for byte (less the backend's own key,
should it echo it). An error status becomes the router's own error.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson

from router.backends.base import (
    Call,
    HTTPAdapter,
    Reply,
    StreamBroken,
    UpstreamError,
    map_client_error,
    register,
)
from router.backends.sse import looks_like_sse, relay, responses_failed

PATHS = {"chat": "/chat/completions", "responses": "/responses"}
STREAM_ACCEPT = {"Accept": "text/event-stream"}
NO_HEADERS: dict[str, str] = {}


@register("openai", "sarmalink")
class OpenAIAdapter(HTTPAdapter):
    async def open(self, call: Call) -> Reply:
        body = call.body.with_model(call.model)
        extra = STREAM_ACCEPT if call.stream else NO_HEADERS
        resp = await self._post(PATHS[call.api], body, call, **extra)
        try:
            return await self._reply(resp, call)
        except BaseException:
            resp.close()
            raise

    async def _reply(self, resp: aiohttp.ClientResponse, call: Call) -> Reply:
        ctype = resp.headers.get("Content-Type", "application/json")
        if resp.status >= 400:
            return await self._failed(resp)
        if not call.stream:
            data = self.redact(await _read(resp))
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise UpstreamError(
                    "protocol", "backend answered with invalid JSON"
                ) from None
            reported = parsed.get("usage") if isinstance(parsed, dict) else None
            return Reply(
                status=200, content_type=ctype, body=data, usage=_usage(reported)
            )
        chunks = resp.content.iter_any()
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            raise UpstreamError("protocol", "backend closed an empty stream") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc
        if not looks_like_sse(first):
            raise UpstreamError("protocol", "backend stream is not server-sent events")
        first = self.redact(first)
        usage: dict[str, int] = {}
        return Reply(
            status=200,
            content_type="text/event-stream",
            first=first,
            rest=_passthrough(chunks, resp, call, first, usage, self.redact),
            close=resp.close,
            usage=usage,
        )


async def _read(resp: aiohttp.ClientResponse) -> bytes:
    try:
        return await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise map_client_error(exc) from exc


def _usage(usage: Any) -> dict[str, int]:
    """`in`/`out` token counts from a chat or Responses `usage` object."""
    if not isinstance(usage, dict):
        return {}
    out: dict[str, int] = {}
    tokens_in = usage.get("prompt_tokens", usage.get("input_tokens"))
    if isinstance(tokens_in, int):
        out["in"] = tokens_in
    tokens_out = usage.get("completion_tokens", usage.get("output_tokens"))
    if isinstance(tokens_out, int):
        out["out"] = tokens_out
    return out


TAIL = 4096
USAGE = re.compile(
    rb'"(prompt_tokens|completion_tokens|input_tokens|output_tokens)":\s*(\d+)'
)
USAGE_KEYS = {
    b"prompt_tokens": "in",
    b"input_tokens": "in",
    b"completion_tokens": "out",
    b"output_tokens": "out",
}
TERMINATORS = {
    "chat": (b"data: [DONE]",),
    "responses": (b"response.completed", b"response.incomplete", b"response.failed"),
}


async def _passthrough(
    chunks: AsyncIterator[bytes],
    resp: aiohttp.ClientResponse,
    call: Call,
    first: bytes,
    usage: dict[str, int],
    redact: Callable[[bytes], bytes],
) -> AsyncGenerator[bytes, None]:
    """Relay the rest of an SSE stream; a stream that ends without its API's
    terminator was cut, and says so. Token usage, when the backend sent it
    (it comes last), is read from the tail into `usage`."""
    marks = TERMINATORS[call.api]
    tail = first[-TAIL:]
    done = any(m in first for m in marks)
    try:
        async for raw in relay(chunks):
            chunk = redact(raw)
            window = tail + chunk
            done = done or any(m in window for m in marks)
            tail = window[-TAIL:]
            yield chunk
    except StreamBroken as exc:
        raise _broken(call, first, tail, exc.message) from exc
    finally:
        resp.close()
        for key, value in USAGE.findall(tail):
            usage[USAGE_KEYS[key]] = int(value)
    if not done:
        raise _broken(call, first, tail, "backend stream ended before it was complete")


def _broken(call: Call, first: bytes, tail: bytes, message: str) -> StreamBroken:
    """A relayed stream cut short; a Responses one ends with `error` and
    `response.failed` (`responses_failed`)."""
    if call.api != "responses":
        return StreamBroken(message)
    end = responses_failed(
        call.body,
        first,
        tail,
        model=call.model,
        request_id=call.request_id,
        message=message,
        code="stream_interrupted",
    )
    return StreamBroken(message, tail=end)
