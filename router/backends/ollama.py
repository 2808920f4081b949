"""Dispatch stage, Ollama's native API (`POST /api/chat`, NDJSON streaming).

The client's chat request (or its Responses request, translated to chat) is
translated to Ollama's shape; Ollama's answer is translated back into the
client's API: a chat completion or SSE chunks, a Response or typed events.

A pinned call is sent only to a model this Ollama runs itself: not one with a
cloud tag, and not one `/api/show` reports as remote (`remote_host`, a model
pulled from another host, which Ollama forwards there). Each answer is cached
per model for `SHOW_TTL_S`; the ones found remote are `remote_models`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
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
from router.backends.scrub import UpstreamProblem, scrub
from router.policy.model import Backend
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

SHOW_TTL_S = 60.0
SHOW_TIMEOUT_S = 10.0


class ShowCache:
    """`/api/show` verdicts per model: its remote host ('' when it runs
    here), each until it expires. `in` says "known to be remote"."""

    def __init__(self, ttl_s: float = SHOW_TTL_S) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, str]] = {}

    def get(self, model: str) -> str | None:
        entry = self._entries.get(model)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, model: str, remote_host: str) -> None:
        self._entries[model] = (time.monotonic() + self._ttl, remote_host)

    def __contains__(self, model: object) -> bool:
        return isinstance(model, str) and bool(self.get(model))


@register("ollama")
class OllamaAdapter(HTTPAdapter):
    def __init__(
        self, backend: Backend, session: aiohttp.ClientSession, key: str | None
    ) -> None:
        super().__init__(backend, session, key)
        self.remote_models = self._shown = ShowCache()
        self._asking: dict[str, asyncio.Lock] = {}
        self._show_timeout = aiohttp.ClientTimeout(
            total=min(backend.timeout_ms / 1000, SHOW_TIMEOUT_S)
        )

    async def confirm_local(self, model: str) -> None:
        await super().confirm_local(model)
        remote = self._shown.get(model)
        if remote is None:
            # One /api/show per model at a time; the others wait for its answer.
            async with self._asking.setdefault(model, asyncio.Lock()):
                remote = self._shown.get(model)
                if remote is None:
                    remote = await self._show(model)
                    self._shown.put(model, remote)
        if remote:
            raise UpstreamError(
                "pinned", f"model {model} runs on {remote}, not here; withheld"
            )

    async def _show(self, model: str) -> str:
        """The remote host `/api/show` reports for `model` ('' for none)."""
        resp = await self._request(
            "/api/show", {"model": model}, dict(self._headers), self._show_timeout
        )
        try:
            if resp.status >= 400:
                problem = await self._problem(resp)
                raise UpstreamError(
                    "status",
                    f"cannot confirm {model} is local: {problem.describe(resp.status)}",
                    status=resp.status,
                )
            try:
                shown = orjson.loads(await resp.read())
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise map_client_error(exc) from exc
            except orjson.JSONDecodeError:
                shown = None
        finally:
            resp.close()
        if not isinstance(shown, dict):
            raise UpstreamError(
                "protocol", f"cannot confirm {model} is local: /api/show not JSON"
            )
        host = shown.get("remote_host") or shown.get("remote_model")
        return str(host) if host else ""

    def _default_code(self, status: int) -> str | None:
        return "model_not_found" if status == 404 else None

    async def open(self, call: Call) -> Reply:
        try:
            body = call.body.parsed
            chat = body if call.api == "chat" else responses_to_chat(body)
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
            frames = _frames(resp, call, chat, usage, self._secrets)
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

    async def _whole(
        self, resp: aiohttp.ClientResponse, call: Call, chat: dict[str, Any]
    ) -> Reply:
        try:
            raw = await resp.read()
            obj = orjson.loads(raw)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc
        except orjson.JSONDecodeError:
            raise UpstreamError(
                "protocol", "backend answered with invalid JSON"
            ) from None
        if not isinstance(obj, dict):
            raise UpstreamError("protocol", "backend answer is not an object")
        if "error" in obj:
            problem = UpstreamProblem(raw, self._secrets)
            raise UpstreamError("status", f"backend error: {problem.message}")
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
                request=call.body.parsed,
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
    secrets: Sequence[str],
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
        ResponsesStreamWriter(call.body.parsed, f"resp_{call.request_id}", now)
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
        message = scrub(str(exc), secrets) or type(exc).__name__
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
