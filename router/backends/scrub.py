"""Dispatch stage, upstream error text: what a backend said, made safe to relay.

A backend's error body in; the router's own OpenAI-shaped error (or a short
description for a 502) out, with anything that looks like a credential
removed: the router's own keys by value (also a key cut short where the body
was truncated), `Authorization`, `api-key` and cookie header echoes,
`Bearer`/`Basic` values and `sk-...` keys. The raw body is never relayed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

REDACTED = "[redacted]"
MESSAGE_LIMIT = 300
FIELD_LIMIT = 64
# A truncated body may end with the start of a key; this many characters of
# one are enough to cut.
KEY_PREFIX_MIN = 4

_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api[-_]key|(?:set-)?cookie"
    r"|x-goog-api-key)(\"?'?\s*[:=]\s*\"?'?)[^\"'\r\n]*"
)
_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}")
_SK = re.compile(r"\bsk-[A-Za-z0-9_-]{6,}")
_SPACE = re.compile(r"\s+")

# What a client sees for a backend 4xx whose body names no type.
_TYPE_BY_STATUS = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` with every credential-looking part replaced by `[redacted]`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
            text = _cut_key_prefix(text, secret)
    text = _HEADER.sub(lambda m: m[1] + m[2] + REDACTED, text)
    text = _SCHEME.sub(lambda m: f"{m[1]} {REDACTED}", text)
    return _SK.sub(REDACTED, text)


def _cut_key_prefix(text: str, secret: str) -> str:
    for n in range(len(secret) - 1, KEY_PREFIX_MIN - 1, -1):
        if text.endswith(secret[:n]):
            return text[:-n] + REDACTED
    return text


def _short(text: str, limit: int) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UpstreamProblem:
    """A backend's error body, parsed where it parses, scrubbed throughout."""

    __slots__ = ("code", "message", "param", "type")

    def __init__(self, raw: bytes, secrets: Sequence[str]) -> None:
        self.type: str | None = None
        self.code: str | None = None
        self.param: str | None = None
        text = raw.decode("utf-8", "replace")
        message: Any = text
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            err = obj.get("error", obj)
            if isinstance(err, dict):
                message = err.get("message", text)
                self.type = self._field(err.get("type"), secrets)
                self.code = self._field(err.get("code"), secrets)
                self.param = self._field(err.get("param"), secrets)
            elif isinstance(err, str):
                message = err
        if not isinstance(message, str):
            message = text
        self.message = _short(scrub(message, secrets), MESSAGE_LIMIT)

    @staticmethod
    def _field(value: Any, secrets: Sequence[str]) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            return None
        return _short(scrub(value, secrets), FIELD_LIMIT)

    def describe(self, status: int) -> str:
        """`HTTP 500: message`, for the router's own 502 message."""
        return f"HTTP {status}" + (f": {self.message}" if self.message else "")

    def client_body(
        self, backend: str, status: int, default_code: str | None = None
    ) -> bytes:
        """The router's own error for a backend 4xx the client gets as is."""
        what = f"backend {backend} answered HTTP {status}"
        return orjson.dumps(
            {
                "error": {
                    "message": f"{what}: {self.message}" if self.message else what,
                    "type": self.type
                    or _TYPE_BY_STATUS.get(status, "invalid_request_error"),
                    "param": self.param,
                    "code": self.code or default_code,
                }
            }
        )


def debug_text(raw: bytes, secrets: Sequence[str]) -> str:
    """The raw body for the debug log, scrubbed the same way."""
    return scrub(raw.decode("utf-8", "replace"), secrets)
