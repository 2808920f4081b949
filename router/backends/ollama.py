"""Dispatch stage, Ollama's native API (`POST /api/chat`, NDJSON streaming).

The client's chat request (or its Responses request, translated to chat) is
translated to Ollama's shape; Ollama's answer is translated back into the
client's API: a chat completion or SSE chunks, a Response or typed events.

A pinned call is sent only to a model this Ollama runs itself: not one with a
cloud tag, and not one `/api/show` reports as remote (`remote_host`, a model
pulled from another host, which Ollama forwards there). Each answer is cached
per model for `SHOW_TTL_S`; the ones found remote are `remote_models`, and
its capabilities say whether a reasoning effort may become `think`.

`/api/tags` is the inventory (`absent_models`: what is known not pulled), read
by app.model_inventory. Ollama is always asked to stream; a non-streaming
client gets the stream gathered into one answer. Ollama's refusals of a model
for this request (not found, a missing capability, a prompt past its
context) are failures of kind `model`, which fall back.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import aiohttp
import msgspec
import orjson

from router.backends.base import (
    Call,
    ErrorKind,
    HTTPAdapter,
    Reply,
    StreamBroken,
    UpstreamError,
    map_client_error,
    register,
)
from router.backends.ndjson import batches
from router.backends.scrub import scrub
from router.policy.model import Backend
from router.translate import (
    SSE_DONE,
    OllamaChatStream,
    ResponsesStreamWriter,
    TranslationError,
    UpstreamStreamError,
    chat_to_ollama,
    chat_to_response,
    dropped_tools,
    encode_chat_sse,
    encode_sse,
    ollama_to_chat,
    ollama_usage,
    responses_to_chat,
)
from router.translate.ollama_options import Adjusted

log = logging.getLogger("router.backends")

SHOW_TTL_S = 60.0
SHOW_TIMEOUT_S = 10.0
TAGS_TIMEOUT_S = 5.0
# Ollama's errors for a model it cannot use for this request: not pulled
# (two wordings, server/routes.go), a capability it lacks (tools, thinking,
# vision, ...), a prompt longer than its context (`truncate: false`).
# Another model or backend may well take it: dispatch falls back.
_UNFIT = re.compile(
    r"model ['\"].*['\"] not found|does not support|context length|context size"
    r"|exceeds the available context|longer than the context",
    re.IGNORECASE,
)


def model_key(name: str) -> str:
    """An Ollama model name as Ollama compares them: case-insensitive, with
    the `:latest` tag implied."""
    name = name.lower()
    return name if ":" in name.rpartition("/")[2] else name + ":latest"


class Shown(msgspec.Struct, frozen=True, gc=False):
    """What `/api/show` said about one model."""

    remote_host: str  # '' when it runs here
    capabilities: frozenset[str]


class ShowCache:
    """`/api/show` verdicts per model, each until it expires. `in` says
    "known to be remote"."""

    def __init__(self, ttl_s: float = SHOW_TTL_S) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, Shown]] = {}

    def get(self, model: str) -> Shown | None:
        entry = self._entries.get(model)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, model: str, shown: Shown) -> None:
        self._entries[model] = (time.monotonic() + self._ttl, shown)

    def __contains__(self, model: object) -> bool:
        if not isinstance(model, str):
            return False
        shown = self.get(model)
        return shown is not None and bool(shown.remote_host)


class Inventory:
    """The models this Ollama has pulled, from `/api/tags`. `in` says "known
    not to be pulled": until the first answer, and while `/api/tags` fails,
    nothing is (the model is tried, and a 404 falls back)."""

    def __init__(self) -> None:
        self.pulled: frozenset[str] | None = None
        self.refreshed_at: float | None = None
        self._gone: set[str] = set()

    def update(self, names: list[str]) -> None:
        self.pulled = frozenset(model_key(n) for n in names)
        self.refreshed_at = time.time()
        self._gone.clear()

    def forget(self, model: str) -> None:
        """`model` was just answered 404: absent until the next refresh."""
        self._gone.add(model_key(model))

    def __contains__(self, model: object) -> bool:
        if not isinstance(model, str):
            return False
        key = model_key(model)
        if key in self._gone:
            return True
        return self.pulled is not None and key not in self.pulled

    def missing(self, models: list[str]) -> list[str]:
        return [m for m in models if m in self]


@register("ollama")
class OllamaAdapter(HTTPAdapter):
    def __init__(
        self, backend: Backend, session: aiohttp.ClientSession, key: str | None
    ) -> None:
        super().__init__(backend, session, key)
        self.remote_models = self._shown = ShowCache()
        self.absent_models = self.inventory = Inventory()
        self._asking: dict[str, asyncio.Lock] = {}
        self._show_timeout = aiohttp.ClientTimeout(
            total=min(backend.timeout_ms / 1000, SHOW_TIMEOUT_S)
        )
        self._tags_timeout = aiohttp.ClientTimeout(
            total=min(backend.timeout_ms / 1000, TAGS_TIMEOUT_S)
        )

    async def confirm_local(self, model: str) -> None:
        await super().confirm_local(model)
        shown = await self.shown(model)
        if shown.remote_host:
            raise UpstreamError(
                "pinned",
                f"model {model} runs on {shown.remote_host}, not here; withheld",
            )

    async def shown(self, model: str) -> Shown:
        """`/api/show` for `model`, cached; one call in flight per model."""
        shown = self._shown.get(model)
        if shown is None:
            async with self._asking.setdefault(model, asyncio.Lock()):
                shown = self._shown.get(model)
                if shown is None:
                    shown = await self._show(model)
                    self._shown.put(model, shown)
        return shown

    async def _show(self, model: str) -> Shown:
        resp = await self._request(
            "/api/show", {"model": model}, dict(self._headers), self._show_timeout
        )
        try:
            if resp.status >= 400:
                problem = await self._problem(resp)
                if resp.status == 404:
                    self.inventory.forget(model)
                raise UpstreamError(
                    "model" if resp.status == 404 else "status",
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
        caps = shown.get("capabilities")
        return Shown(
            remote_host=str(host) if host else "",
            capabilities=frozenset(c for c in caps if isinstance(c, str))
            if isinstance(caps, list)
            else frozenset(),
        )

    async def refresh_inventory(self) -> None:
        """Read `/api/tags` into `inventory`; a failure leaves it as it was."""
        try:
            async with self._session.get(
                self._base + "/api/tags",
                headers=self._headers,
                timeout=self._tags_timeout,
                allow_redirects=False,
            ) as resp:
                if resp.status != 200:
                    raise UpstreamError("status", f"/api/tags: HTTP {resp.status}")
                tags = orjson.loads(await resp.read())
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.debug("backend %s: /api/tags failed: %s", self.backend.name, exc)
            return
        except UpstreamError as exc:
            log.debug("backend %s: %s", self.backend.name, exc.message)
            return
        models = tags.get("models") if isinstance(tags, dict) else None
        if isinstance(models, list):
            self.inventory.update(
                [
                    str(m.get("model") or m.get("name"))
                    for m in models
                    if isinstance(m, dict) and (m.get("model") or m.get("name"))
                ]
            )

    def _default_code(self, status: int) -> str | None:
        return "model_not_found" if status == 404 else None

    async def _thinks(self, chat: dict[str, Any], model: str) -> bool | None:
        """Whether `model` can think, asked only when the request wants it
        to (a reasoning effort); None when that is unknown."""
        if chat.get("reasoning_effort") is None or "think" in chat:
            return None
        try:
            shown = await self.shown(model)
        except UpstreamError:
            return None
        return "thinking" in shown.capabilities if shown.capabilities else None

    async def open(self, call: Call) -> Reply:
        adjusted = Adjusted()
        try:
            body = call.body.parsed
            chat = body if call.api == "chat" else responses_to_chat(body)
            thinks = await self._thinks(chat, call.model)
            payload = chat_to_ollama(
                chat,
                model=call.model,
                options=self.backend.options or None,
                keep_alive=self.backend.keep_alive,
                limits=self.backend.client_options,
                adjusted=adjusted,
                thinks=thinks,
            )
        except TranslationError as exc:
            raise UpstreamError("unsupported", str(exc), param=exc.param) from exc
        # Always streamed from Ollama: the read timeout then measures
        # silence, not the length of the whole answer.
        payload["stream"] = True
        headers = adjusted.headers()
        if call.api == "responses":
            headers.update(dropped_tools_header(body))
        resp = await self._post("/api/chat", payload, call)
        try:
            if resp.status >= 400:
                return await self._refused(resp, call)
            usage: dict[str, int] = {}
            if not call.stream:
                return await self._whole(resp, call, chat, headers)
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
                headers=headers,
            )
        except BaseException:
            resp.close()
            raise

    async def _refused(self, resp: aiohttp.ClientResponse, call: Call) -> Reply:
        """An error status: a model that cannot take this request (not
        pulled, a missing capability, too long a prompt) falls back like a
        5xx; other client errors are the answer."""
        if resp.status in (400, 404):
            problem = await self._problem(resp)
            if _UNFIT.search(problem.message):
                if resp.status == 404:
                    self.inventory.forget(call.model)
                raise UpstreamError(
                    "model", problem.describe(resp.status), status=resp.status
                )
            body = problem.client_body(
                self.backend.name, resp.status, self._default_code(resp.status)
            )
            return Reply(status=resp.status, content_type="application/json", body=body)
        return await self._failed(resp)

    async def _whole(
        self,
        resp: aiohttp.ClientResponse,
        call: Call,
        chat: dict[str, Any],
        headers: dict[str, str],
    ) -> Reply:
        """A non-streaming client's answer, gathered from Ollama's stream."""
        try:
            obj = await _gather(resp)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc
        except UpstreamStreamError as exc:
            message = scrub(exc.message, self._secrets)
            kind: ErrorKind = "model" if _UNFIT.search(message) else "protocol"
            raise UpstreamError(kind, f"backend error: {message}") from None
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
            headers=headers,
        )


def dropped_tools_header(request: dict[str, Any]) -> dict[str, str]:
    """`x-llr-dropped-tools` naming the hosted tools Ollama cannot run."""
    dropped = dropped_tools(request)
    if not dropped:
        return {}
    return {"x-llr-dropped-tools": ", ".join(dict.fromkeys(dropped))}


async def _gather(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    """Ollama's NDJSON stream as the one object its non-streaming answer
    would be: text, thinking, tool calls and logprobs joined, the final
    line's counts and `done_reason`."""
    content: list[str] = []
    thinking: list[str] = []
    calls: list[Any] = []
    logprobs: list[Any] = []
    final: dict[str, Any] | None = None
    async for batch in batches(resp):
        for line in batch:
            if "error" in line:
                raise UpstreamStreamError(str(line["error"]))
            message = line.get("message")
            if type(message) is dict:
                if type(text := message.get("content")) is str:
                    content.append(text)
                if type(text := message.get("thinking")) is str:
                    thinking.append(text)
                if type(more := message.get("tool_calls")) is list:
                    calls += more
            if type(more := line.get("logprobs")) is list:
                logprobs += more
            if line.get("done") is True:
                final = line
                break
        if final is not None:
            break
    if final is None:
        raise UpstreamStreamError("stream ended before Ollama said done")
    gathered: dict[str, Any] = {"role": "assistant", "content": "".join(content)}
    if thinking:
        gathered["thinking"] = "".join(thinking)
    if calls:
        gathered["tool_calls"] = calls
    out = {**final, "message": gathered}
    if logprobs:
        out["logprobs"] = logprobs
    return out


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
        ResponsesStreamWriter(
            call.body.parsed, f"resp_{call.request_id}", now, model=call.model
        )
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
        async for batch in batches(resp):
            # A line that fails ends the stream after the frames before it,
            # as it would had each line come in a read of its own.
            outs, failure = [], None
            for line in batch:
                try:
                    if line.get("done") is True:
                        done = True
                        counts = ollama_usage(line)
                        usage["in"] = int(counts["prompt_tokens"])
                        usage["out"] = int(counts["completion_tokens"])
                    out = encode(stream.feed(line))
                except (UpstreamStreamError, ValueError) as exc:
                    failure = exc
                    break
                if out:
                    outs.append(out)
            if outs:
                out = b"".join(outs)
                if not started and writer is not None:
                    out = b"".join(encode_sse(e) for e in writer.start()) + out
                started = True
                yield out
            if failure is not None:
                raise failure
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
            kind: ErrorKind = "model" if _UNFIT.search(message) else "protocol"
            raise UpstreamError(kind, f"backend stream failed: {message}") from exc
        tail = b""
        if writer is not None:
            events = writer.fail(
                f"backend stream failed: {message}", "stream_interrupted"
            )
            tail = b"".join(encode_sse(e) for e in events)
        raise StreamBroken(f"backend stream failed: {message}", tail=tail) from exc
    finally:
        resp.close()
