"""Dispatch stage, reading an NDJSON stream (Ollama's) into objects.

One await and one parse per socket read, not per line: a 50-line answer
arrives in a read or two, and its lines are parsed as one JSON array. A bad
line fails where it stands, after the objects before it, however the reads
fell; a line past `MAX_LINE_BYTES` is refused rather than held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson

from router.translate.errors import UpstreamStreamError

# One line at most (Ollama sends a tool call whole, in one line).
MAX_LINE_BYTES = 16 * 1024 * 1024


async def batches(resp: aiohttp.ClientResponse) -> AsyncIterator[list[dict[str, Any]]]:
    """The objects of the whole lines each read of `resp` brought."""
    tail = b""
    async for chunk in resp.content.iter_any():
        data = tail + chunk if tail else chunk
        end = data.rfind(b"\n")
        tail = data[end + 1 :]
        if len(tail) > MAX_LINE_BYTES:
            raise UpstreamStreamError("backend stream line is too long")
        if end >= 0:
            for objects in _parsed(data[:end]):
                yield objects
    for objects in _parsed(tail):
        yield objects


def _parsed(block: bytes) -> Iterator[list[dict[str, Any]]]:
    """The objects of a block of lines, parsed as one array; when a line is
    bad, the objects before it, then its error."""
    lines = [line for line in block.split(b"\n") if line.strip()]
    if not lines:
        return
    try:
        objects = orjson.loads(b"[" + b",".join(lines) + b"]")
    except orjson.JSONDecodeError:
        objects = None
    if (
        objects is not None
        and len(objects) == len(lines)
        and all(type(o) is dict for o in objects)
    ):
        yield objects
        return
    good: list[dict[str, Any]] = []
    for line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            error = UpstreamStreamError("backend stream is not NDJSON")
        else:
            if type(obj) is dict:
                good.append(obj)
                continue
            error = UpstreamStreamError("backend stream line is not an object")
        if good:
            yield good
        raise error
    yield good
