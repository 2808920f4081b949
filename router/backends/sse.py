"""Dispatch stage, stream plumbing shared by the adapters.

`relay` turns transport failures in the middle of an upstream stream into
`StreamBroken`, so the API layer has one exception to end a client stream on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import orjson

from router.backends.base import StreamBroken

SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:", b":")


def looks_like_sse(chunk: bytes) -> bool:
    """Whether a stream's first bytes start a server-sent event."""
    head = chunk.lstrip(b"\xef\xbb\xbf\r\n ")
    return not head or head.startswith(SSE_FIELDS)


async def relay(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StreamBroken(f"backend stream failed: {type(exc).__name__}") from exc


def error_frame(api: str, message: str, code: str = "stream_interrupted") -> bytes:
    """The event that ends a client stream whose backend failed mid-way (or
    that the shutdown's drain cut), in the client's API: an OpenAI error
    object for chat, an `error` event for Responses. The OpenAI SDKs raise
    on both."""
    error = {
        "message": message,
        "type": "upstream_error" if code == "stream_interrupted" else "server_error",
        "param": None,
        "code": code,
    }
    if api == "chat":
        return b"data: " + orjson.dumps({"error": error}) + b"\n\n"
    event = {"type": "error", "code": error["code"], "message": message, "param": None}
    return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"
