"""Dispatch stage, Ollama's native API (`POST /api/chat`, NDJSON streaming).

The client's chat request (or its Responses request, translated to chat) is
translated to Ollama's shape; Ollama's answer is translated back into the
client's API: a chat completion or SSE chunks, a Response or typed events.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import orjson

from router.backends.base import (
    Call,
    HTTPAdapter,
    Reply,
    StreamBroken,
    UpstreamError,
    falls_back,
    map_client_error,
    read_error,
    register,
)
from router.translate import (
    SSE_DONE,
    OllamaChatStream,
    ResponsesStreamWriter,
    TranslationError,
    UpstreamStreamError,
    chat_to_ollama,
    chat_to_response,
    encode_chat_sse,
    encode_sse,
    ollama_to_chat,
    ollama_usage,
    responses_to_chat,
)


def _error_body(message: str, status: int) -> bytes:
    code = "model_not_found" if status == 404 else None
    return orjson.dumps(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        }
    )


@register("ollama")
class OllamaAdapter(HTTPAdapter):
    async def open(self, call: Call) -> Reply:
        try:
            chat = call.body if call.api == "chat" else responses_to_chat(call.body)
            payload = chat_to_ollama(
                chat,
                model=call.model,
                options=self.backend.options or None,
                keep_alive=self.backend.keep_alive,
            )
        except TranslationError as exc:
            raise UpstreamError("unsupported", str(exc)) from exc
        payload["stream"] = call.stream
        resp = await self._post("/api/chat", payload, call)
        try:
            if resp.status >= 400:
                return await self._failed(resp)
            if not call.stream:
                return await self._whole(resp, call, chat)
            usage: dict[str, int] = {}
            frames = _frames(resp, call, chat, usage)
            try:
                first = await anext(frames)
            except StopAsyncIteration:
                raise UpstreamError(
                    "protocol", "backend closed an empty stream"
                ) from None
            return Reply(
                status=200,
                content_type="text/event-stream",
                first=first,
                rest=frames,
                close=resp.close,
                usage=usage,
            )
        except BaseException:
            resp.close()
            raise

    async def _failed(self, resp: aiohttp.ClientResponse) -> Reply:
        if falls_back(resp.status):
            raise UpstreamError("status", await read_error(resp), status=resp.status)
        raw = await resp.read()
        try:
            message = str(orjson.loads(raw).get("error", ""))
        except (orjson.JSONDecodeError, AttributeError):
            message = raw.decode("utf-8", "replace")[:300]
        return Reply(
            status=resp.status,
            content_type="application/json",
            body=_error_body(message or f"HTTP {resp.status}", resp.status),
        )

    async def _whole(
        self, resp: aiohttp.ClientResponse, call: Call, chat: dict[str, Any]
    ) -> Reply:
        try:
            obj = orjson.loads(await resp.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc
        except orjson.JSONDecodeError:
            raise UpstreamError(
                "protocol", "backend answered with invalid JSON"
            ) from None
        if not isinstance(obj, dict) or "error" in obj:
            what = obj.get("error") if isinstance(obj, dict) else "not an object"
            raise UpstreamError("status", f"backend error: {what}")
        now = int(time.time())
        completion = ollama_to_chat(
            obj,
            model=call.model,
            completion_id=f"chatcmpl-{call.request_id}",
            created=now,
        )
        usage = completion.get("usage") or {}
        tokens = {
            "in": int(usage.get("prompt_tokens", 0)),
            "out": int(usage.get("completion_tokens", 0)),
        }
        if call.api == "chat":
            out = completion
        else:
            out = chat_to_response(
                completion,
                request=call.body,
                response_id=f"resp_{call.request_id}",
                created_at=now,
            )
        return Reply(
            status=200,
            content_type="application/json",
            body=orjson.dumps(out),
            usage=tokens,
        )


async def _lines(resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    async for raw in resp.content:
        line = raw.strip()
        if not line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise UpstreamStreamError("backend stream is not NDJSON") from None
        if not isinstance(obj, dict):
            raise UpstreamStreamError("backend stream line is not an object")
        yield obj


async def _frames(
    resp: aiohttp.ClientResponse,
    call: Call,
    chat: dict[str, Any],
    usage: dict[str, int],
) -> AsyncGenerator[bytes, None]:
    """Ollama NDJSON -> the client's SSE. Failures before the first frame are
    `UpstreamError` (dispatch may fall back); after it, `StreamBroken`."""
    now = int(time.time())
    include_usage = call.api == "responses" or bool(
        (chat.get("stream_options") or {}).get("include_usage")
    )
    stream = OllamaChatStream(
        model=call.model,
        completion_id=f"chatcmpl-{call.request_id}",
        created=now,
        include_usage=include_usage,
    )
    writer = (
        ResponsesStreamWriter(call.body, f"resp_{call.request_id}", now)
        if call.api == "responses"
        else None
    )
    started = False
    done = False

    def encode(chunks: list[dict[str, Any]]) -> bytes:
        if writer is None:
            return b"".join(encode_chat_sse(c) for c in chunks)
        events = [e for c in chunks for e in writer.feed(c)]
        return b"".join(encode_sse(e) for e in events)

    try:
        async for line in _lines(resp):
            if line.get("done") is True:
                done = True
                counts = ollama_usage(line)
                usage["in"] = int(counts["prompt_tokens"])
                usage["out"] = int(counts["completion_tokens"])
            out = encode(stream.feed(line))
            if out:
                if not started and writer is not None:
                    out = b"".join(encode_sse(e) for e in writer.start()) + out
                started = True
                yield out
        if not done:
            raise UpstreamStreamError("stream ended before Ollama said done")
        tail = encode(stream.finish())
        if writer is not None:
            if not started:
                tail = b"".join(encode_sse(e) for e in writer.start()) + tail
            tail += b"".join(encode_sse(e) for e in writer.finish())
        else:
            tail += SSE_DONE
        started = True
        yield tail
    except (UpstreamStreamError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        message = str(exc) or type(exc).__name__
        if not started:
            if isinstance(exc, aiohttp.ClientError | TimeoutError):
                raise map_client_error(exc) from exc
            raise UpstreamError(
                "protocol", f"backend stream failed: {message}"
            ) from exc
        tail = b""
        if writer is not None:
            events = writer.fail(
                f"backend stream failed: {message}", "stream_interrupted"
            )
            tail = b"".join(encode_sse(e) for e in events)
        raise StreamBroken(f"backend stream failed: {message}", tail=tail) from exc
    finally:
        resp.close()
