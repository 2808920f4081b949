"""Dispatch stage, stream plumbing shared by the adapters.

`relay` turns transport failures in the middle of an upstream stream into
`StreamBroken`, so the API layer has one exception to end a client stream on.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import aiohttp
import orjson

from router.backends.base import Body, StreamBroken
from router.translate import (
    TranslationError,
    encode_sse,
    failure_events,
    response_shell,
)

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


def error_frame(message: str, code: str = "stream_interrupted") -> bytes:
    """The event that ends a chat stream cut short (its backend failed
    mid-way, or the shutdown's drain cut it): an OpenAI error object, which
    the SDKs raise on. Responses streams end with `responses_failed`."""
    error = {
        "message": message,
        "type": "upstream_error" if code == "stream_interrupted" else "server_error",
        "param": None,
        "code": code,
    }
    return b"data: " + orjson.dumps({"error": error}) + b"\n\n"


SEQUENCE = re.compile(rb'"sequence_number":\s*(\d+)')
RESPONSE_ID = re.compile(rb'"id":\s*"(resp_[^"\\]{1,200})"')
CREATED_AT = re.compile(rb'"created_at":\s*(\d{1,12})')


def responses_failed(
    body: Body,
    first: bytes,
    tail: bytes,
    *,
    model: str,
    request_id: str,
    message: str,
    code: str,
) -> bytes:
    """The end of a Responses stream cut short, as a translated one ends:
    `error`, then `response.failed`, numbered after the last event in `tail`
    and naming the response `first` opened."""
    seqs = SEQUENCE.findall(tail)
    rid, created = RESPONSE_ID.search(first), CREATED_AT.search(first)
    try:
        request = body.parsed
    except TranslationError:  # a body the backend took but Python cannot parse
        request = {}
    response = response_shell(
        request,
        response_id=rid[1].decode() if rid else f"resp_{request_id}",
        created_at=int(created[1]) if created else int(time.time()),
        model=model,
    )
    events = failure_events(response, int(seqs[-1]) + 1 if seqs else 0, message, code)
    return b"".join(encode_sse(e) for e in events)
