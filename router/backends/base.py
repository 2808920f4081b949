"""Dispatch stage, backend side: the adapter protocol, its registry, one status table.

An adapter turns one `Call` (a parsed client body, the API it speaks, the
model to ask for) into a `Reply` already in the client's wire format: a
complete body, or a byte stream whose first chunk has been read. Failures
before that point raise `UpstreamError`, whose `kind` dispatch uses to decide
whether to fall back; the mapping from upstream HTTP status lives here only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp
import orjson

from router.policy.model import Backend

Api = Literal["chat", "responses"]
ErrorKind = Literal[
    "connect", "timeout", "status", "protocol", "disabled", "unsupported", "pinned"
]

# Upstream statuses that move dispatch down the chain; any other 4xx is the
# client's problem and is returned to it unchanged.
RETRY_STATUSES = frozenset({408, 429})
ERROR_BODY_LIMIT = 4096


def falls_back(status: int) -> bool:
    return status >= 500 or status in RETRY_STATUSES


class UpstreamError(Exception):
    """A backend failed before any byte of its answer reached the client."""

    def __init__(self, kind: ErrorKind, message: str, *, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    def summary(self, backend: str) -> str:
        return f"{backend}: {self.message}"


class StreamBroken(Exception):
    """A stream failed after its first bytes reached the client.

    `tail`, when given, ends the client's stream in its own API (e.g. a
    Responses `response.failed` event); otherwise the API layer writes a
    generic error event.
    """

    def __init__(self, message: str, *, tail: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.tail = tail


@dataclass(slots=True)
class Call:
    api: Api
    body: dict[str, Any]  # the client's JSON body, parsed; never mutated
    stream: bool
    model: str  # the concrete model this backend is asked for
    request_id: str


@dataclass(slots=True)
class Reply:
    """An upstream answer that has produced its first bytes (or all of them).

    `status` is 200 for success; a non-retryable 4xx from the backend comes
    back here too, with its body, to be returned to the client as is.
    """

    status: int
    content_type: str
    body: bytes = b""
    first: bytes = b""
    rest: AsyncGenerator[bytes, None] | None = None
    close: Callable[[], None] = field(default=lambda: None)
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return self.rest is not None


class Adapter(Protocol):
    backend: Backend

    async def open(self, call: Call) -> Reply: ...


class HTTPAdapter:
    """What every HTTP backend shares: its endpoint, pooled session, timeouts
    and credentials, and one POST whose transport failures become
    `UpstreamError`."""

    def __init__(
        self, backend: Backend, session: aiohttp.ClientSession, key: str | None
    ) -> None:
        self.backend = backend
        self._session = session
        self._base = backend.endpoint.rstrip("/")
        self._timeout = timeout_for(backend)
        self._headers = {"Content-Type": "application/json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"

    async def _post(
        self, path: str, payload: Any, call: Call, **headers: str
    ) -> aiohttp.ClientResponse:
        try:
            return await self._session.post(
                self._base + path,
                data=orjson.dumps(payload),
                headers={**self._headers, "X-Request-Id": call.request_id, **headers},
                timeout=self._timeout,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc


AdapterFactory = Callable[[Backend, aiohttp.ClientSession, str | None], Adapter]
REGISTRY: dict[str, AdapterFactory] = {}


def register(*types: str) -> Callable[[AdapterFactory], AdapterFactory]:
    def add(factory: AdapterFactory) -> AdapterFactory:
        for t in types:
            REGISTRY[t] = factory
        return factory

    return add


def api_key(backend: Backend) -> str | None:
    return os.environ.get(backend.api_key_env) if backend.api_key_env else None


def disabled_reason(backend: Backend) -> str | None:
    """Why a backend cannot be used at all, or None."""
    if backend.api_key_env is not None and not api_key(backend):
        return f"disabled ({backend.api_key_env} unset)"
    return None


def disabled_backends(backends: dict[str, Backend]) -> dict[str, str]:
    """Every backend that cannot be used, with why (read once per policy)."""
    out = {}
    for name, b in backends.items():
        why = disabled_reason(b)
        if why is not None:
            out[name] = why
    return out


def build_adapters(
    backends: dict[str, Backend], session: aiohttp.ClientSession
) -> dict[str, Adapter]:
    # Importing the modules fills REGISTRY; kept here so the registry is
    # complete whatever imported base first.
    from router.backends import ollama, openai  # noqa: F401

    return {
        name: REGISTRY[b.type](b, session, api_key(b)) for name, b in backends.items()
    }


def timeout_for(backend: Backend) -> aiohttp.ClientTimeout:
    """Connect within a bounded time; then `timeoutMs` for the first byte and
    between later reads, never for the whole (possibly long) stream."""
    seconds = backend.timeout_ms / 1000
    return aiohttp.ClientTimeout(
        total=None, connect=min(seconds, 10.0), sock_read=seconds
    )


async def read_error(resp: aiohttp.ClientResponse) -> str:
    """A short description of an upstream error response."""
    try:
        raw = await resp.content.read(ERROR_BODY_LIMIT)
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    text = raw.decode("utf-8", "replace").strip().replace("\n", " ")
    return f"HTTP {resp.status}" + (f": {text[:300]}" if text else "")


def map_client_error(exc: BaseException) -> UpstreamError:
    """aiohttp/asyncio failures before the first byte -> UpstreamError."""
    if isinstance(exc, TimeoutError):
        return UpstreamError("timeout", "timed out before the first byte")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError("connect", f"cannot connect: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return UpstreamError("protocol", f"connection closed early: {exc}")
    return UpstreamError("connect", f"{type(exc).__name__}: {exc}")
