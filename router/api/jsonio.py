"""The one JSON chokepoint of the HTTP layer: orjson out, msgspec in."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import orjson
from aiohttp import web

from router.errors import InvalidRequest
from router.wire import ALLOWED, Request, decode_request

T = TypeVar("T")


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _param(path_message: str) -> str | None:
    """msgspec says `... - at `$.messages[0].role``; OpenAI's `param` is the
    path without the `$.`."""
    marker = " - at `$"
    at = path_message.rfind(marker)
    if at < 0:
        return None
    path = path_message[at + len(marker) :].rstrip("`")
    return path.lstrip(".") or None


def decode_body(body: bytes) -> Request:
    """Decode a chat or responses body, or raise a 400 that says why."""
    return decode_with(decode_request, body)


def decode_with(
    decoder: Callable[[bytes], T] | msgspec.json.Decoder[T], body: bytes
) -> T:
    """Decode with `decoder`, turning msgspec's errors into a 400 with `param`."""
    if not body.strip():
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    decode = decoder.decode if isinstance(decoder, msgspec.json.Decoder) else decoder
    try:
        return decode(body)
    except msgspec.ValidationError as exc:
        param = _param(str(exc))
        message = f"Invalid request: {exc}"
        allowed = ALLOWED.get(re.sub(r"\[\d+\]", "[]", param or ""))
        if allowed is not None:
            message += f"; expected one of {', '.join(allowed)}"
        raise InvalidRequest(message, param=param) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest(
            "Request body is nested too deeply to be a chat or responses request."
        ) from None
