"""Dispatch stage, backend side: the adapter protocol, its registry, one status table.

An adapter turns one `Call` (a parsed client body, the API it speaks, the
model to ask for) into a `Reply` already in the client's wire format: a
complete body, or a byte stream whose first chunk has been read. Failures
before that point raise `UpstreamError`, whose `kind` dispatch uses to decide
whether to fall back; the mapping from upstream HTTP status lives here only.

Nothing leaves the machine by a side door: redirects are never followed (a
3xx is a failed attempt), a pinned call is refused here again unless the
backend and its model are local, and an upstream error body reaches the
client only as the router's own scrubbed error (scrub.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Container
from typing import Any, Literal, Protocol

import aiohttp
import msgspec
import orjson

from router.backends.breaker import retry_after
from router.backends.scrub import UpstreamProblem, debug_text
from router.policy.locality import is_cloud_model
from router.policy.model import Backend
from router.translate.errors import TranslationError

log = logging.getLogger("router.backends")

Api = Literal["chat", "responses"]
ErrorKind = Literal[
    "connect",
    "timeout",
    "status",
    "redirect",
    "protocol",
    "circuit_open",
    "disabled",
    "unsupported",
    "pinned",
    "model",
]

# Upstream statuses that move dispatch down the chain; any other 4xx is the
# client's problem and is returned to it unchanged.
RETRY_STATUSES = frozenset({408, 429})
ERROR_BODY_LIMIT = 4096


def falls_back(status: int) -> bool:
    return status >= 500 or status in RETRY_STATUSES


class UpstreamError(Exception):
    """A backend failed before any byte of its answer reached the client."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        # The request field a translation could not take (kind `unsupported`).
        self.param = param
        # A 429/503's Retry-After, in seconds: the breaker waits that long.
        self.retry_after_s = retry_after_s

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


_TOP_LEVEL = msgspec.json.Decoder(dict[str, msgspec.Raw])


class Body:
    """The client's JSON body as it arrived: pass-through backends get it
    with only `model` replaced, its other values never parsed (their bytes
    are copied as they are); a translating backend parses it once, on
    demand. Never mutated."""

    __slots__ = ("_parsed", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._parsed: dict[str, Any] | None = None

    @property
    def parsed(self) -> dict[str, Any]:
        """The body as Python values; `TranslationError` for JSON that no
        backend could be sent as such (a number out of range, say)."""
        if self._parsed is None:
            try:
                self._parsed = orjson.loads(self.raw)
            except orjson.JSONDecodeError as exc:
                raise TranslationError(
                    f"request body cannot be forwarded: {exc}"
                ) from None
        return self._parsed

    def with_model(self, model: str) -> bytes:
        """The body with its top-level `model` set to `model`."""
        top = _TOP_LEVEL.decode(self.raw)
        top["model"] = msgspec.Raw(orjson.dumps(model))
        return msgspec.json.encode(top)


class Call(msgspec.Struct, kw_only=True, gc=False):
    api: Api
    body: Body  # the client's JSON body
    stream: bool
    model: str  # the concrete model this backend is asked for
    request_id: str
    # At or above the pin level: only a local backend and model may take it.
    pinned: bool = False


def _nothing() -> None:
    return None


class Reply(msgspec.Struct, kw_only=True):
    """An upstream answer that has produced its first bytes (or all of them).

    `status` is 200 for success; a non-retryable 4xx from the backend comes
    back here too, as the router's own error body, to be returned to the
    client with the backend's status.
    """

    status: int
    content_type: str
    body: bytes = b""
    first: bytes = b""
    rest: AsyncGenerator[bytes, None] | None = None
    close: Callable[[], None] = _nothing
    usage: dict[str, int] = msgspec.field(default_factory=dict)
    # Said to the client with the answer (e.g. x-llr-dropped-options).
    headers: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def streaming(self) -> bool:
        return self.rest is not None


class Adapter(Protocol):
    backend: Backend
    # Models this backend was found to run remotely (decide skips them for
    # pinned requests); empty for backends that cannot tell.
    remote_models: Container[str]
    # Models this backend is known not to have (an Ollama's unpulled ones).
    absent_models: Container[str]

    async def open(self, call: Call) -> Reply: ...


class HTTPAdapter:
    """What every HTTP backend shares: its endpoint, pooled session, timeouts
    and credentials, and one POST whose transport failures become
    `UpstreamError`."""

    remote_models: Container[str] = frozenset()
    absent_models: Container[str] = frozenset()

    def __init__(
        self, backend: Backend, session: aiohttp.ClientSession, key: str | None
    ) -> None:
        self.backend = backend
        self._session = session
        self._base = backend.endpoint.rstrip("/")
        self._timeout = timeout_for(backend)
        self._whole_timeout = whole_timeout_for(backend)
        self._headers = {"Content-Type": "application/json"}
        self._secrets: tuple[str, ...] = (key,) if key else ()
        self._secret_bytes = tuple(k.encode() for k in self._secrets)
        if key:
            self._headers["Authorization"] = f"Bearer {key}"

    async def confirm_local(self, model: str) -> None:
        """Raise unless a pinned call for `model` may go to this backend."""
        if not self.backend.local:
            raise UpstreamError("pinned", "not local; withheld")
        if is_cloud_model(model):
            raise UpstreamError(
                "pinned", f"model {model} is an Ollama cloud model; withheld"
            )

    async def _post(
        self, path: str, payload: Any, call: Call, **headers: str
    ) -> aiohttp.ClientResponse:
        if call.pinned:
            await self.confirm_local(call.model)
        return await self._request(
            path,
            payload,
            {**self._headers, "X-Request-Id": call.request_id, **headers},
            self._timeout if call.stream else self._whole_timeout,
        )

    async def _request(
        self,
        path: str,
        payload: Any,
        headers: dict[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        """One POST; never follows a redirect (a 3xx is a failed attempt)."""
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        try:
            resp = await self._session.post(
                self._base + path,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise map_client_error(exc) from exc
        if 300 <= resp.status < 400:
            resp.close()
            raise UpstreamError(
                "redirect",
                f"HTTP {resp.status} redirect refused (redirects are never followed)",
                status=resp.status,
            )
        return resp

    async def _problem(self, resp: aiohttp.ClientResponse) -> UpstreamProblem:
        """The error body of `resp`, read (bounded), scrubbed, logged at debug."""
        try:
            raw = await resp.content.read(ERROR_BODY_LIMIT)
        except (aiohttp.ClientError, TimeoutError):
            raw = b""
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "backend %s answered HTTP %d: %s",
                self.backend.name,
                resp.status,
                debug_text(raw, self._secrets),
            )
        return UpstreamProblem(raw, self._secrets)

    async def _failed(self, resp: aiohttp.ClientResponse) -> Reply:
        """A backend error status: fall back (5xx, 408, 429) or answer the
        client with the router's own error carrying the backend's status."""
        problem = await self._problem(resp)
        if falls_back(resp.status):
            wait = None
            if resp.status in (429, 503):
                wait = retry_after(resp.headers.get("Retry-After"))
            raise UpstreamError(
                "status",
                problem.describe(resp.status),
                status=resp.status,
                retry_after_s=wait,
            )
        body = problem.client_body(
            self.backend.name, resp.status, self._default_code(resp.status)
        )
        return Reply(status=resp.status, content_type="application/json", body=body)

    def _default_code(self, status: int) -> str | None:
        """The `code` of a client error whose body names none."""
        return None

    def redact(self, data: bytes) -> bytes:
        """`data` with this backend's own key removed, should it echo it."""
        for secret in self._secret_bytes:
            if secret in data:
                data = data.replace(secret, b"[redacted]")
        return data


AdapterFactory = Callable[[Backend, aiohttp.ClientSession, str | None], Adapter]
REGISTRY: dict[str, AdapterFactory] = {}


def register(*types: str) -> Callable[[AdapterFactory], AdapterFactory]:
    def add(factory: AdapterFactory) -> AdapterFactory:
        for t in types:
            REGISTRY[t] = factory
        return factory

    return add


def timeout_for(backend: Backend) -> aiohttp.ClientTimeout:
    """Connect within a bounded time; then `timeoutMs` for the first byte and
    between later reads, never for the whole (possibly long) stream."""
    seconds = backend.timeout_ms / 1000
    return aiohttp.ClientTimeout(
        total=None, connect=min(seconds, 10.0), sock_read=seconds
    )


def whole_timeout_for(backend: Backend) -> aiohttp.ClientTimeout:
    """For an answer that is not streamed: as `timeout_for`, and the whole
    answer within `timeoutMs` of its first byte (a backend sending a byte at
    a time can no longer hold a request for ever)."""
    seconds = backend.timeout_ms / 1000
    connect = min(seconds, 10.0)
    return aiohttp.ClientTimeout(
        total=connect + 2 * seconds, connect=connect, sock_read=seconds
    )


def map_client_error(exc: BaseException) -> UpstreamError:
    """aiohttp/asyncio failures before the first byte -> UpstreamError."""
    if isinstance(exc, TimeoutError):
        return UpstreamError("timeout", "timed out before the first byte")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamError("connect", f"cannot connect: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return UpstreamError("protocol", f"connection closed early: {exc}")
    return UpstreamError("connect", f"{type(exc).__name__}: {exc}")
