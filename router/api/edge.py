"""The connection edge: aiohttp's server with the router's limits and answers.

What aiohttp itself rejects before any handler runs (a header line past
`max_header_bytes`, more than `max_headers` fields, a malformed request
line) leaves in OpenAI's error shape too: a 431 for the headers, a 400 for
the rest, with no echo of the bytes that were sent (they may hold a key)
and no traceback in the log. `idle_timeout_s` is aiohttp's keep-alive
timer, which also runs from the moment a connection opens and is not reset
by a partial head: a connection that sends nothing, or dribbles its head,
is closed when it fires. The body's own deadline is `limits.read_body`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from router.errors import HeadersTooLarge, HTTPError, InvalidRequest
from router.settings import Limits

log = logging.getLogger("router.api")

# aiohttp's parser says this when the count of header fields is past the limit.
_TOO_MANY = "Too many headers received"


def parser_error(exc: BaseException | None, limits: Limits) -> HTTPError:
    """The router's error for what aiohttp's parser refused."""
    if isinstance(exc, LineTooLong) or (
        isinstance(exc, BadHttpMessage) and exc.message == _TOO_MANY
    ):
        return HeadersTooLarge(
            "Request line or header fields too large: at most "
            f"{limits.max_header_bytes} bytes per line and {limits.max_headers} "
            "header fields."
        )
    return InvalidRequest("Malformed HTTP request.")


class _EdgeHandler(RequestHandler):
    limits: Limits

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send an error")
        if status >= 500:
            # Only a handler bug reaches here (the error middleware renders
            # everything else); say which, without the request's bytes.
            log.error("unhandled error from %s: %r", request.remote, exc)
            body: dict[str, Any] = {
                "error": {
                    "message": "Internal router error; see the router's log.",
                    "type": "server_error",
                    "param": None,
                    "code": "internal_error",
                }
            }
        else:
            err = parser_error(exc, self.limits)
            status, body = err.status, err.body()
            log.info(
                "refused a request from %s: %s (%s)",
                request.remote,
                err.code or err.type,
                type(exc).__name__,
            )
        resp = web.Response(
            status=status, body=orjson.dumps(body), content_type="application/json"
        )
        resp.force_close()
        return resp


class _EdgeServer(web.Server):
    def __init__(
        self,
        handler: Any,
        *,
        request_factory: Any,
        handler_cancellation: bool,
        limits: Limits,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            handler,
            request_factory=request_factory,
            handler_cancellation=handler_cancellation,
            **kwargs,
        )
        self._handler_kwargs = kwargs  # what each connection's handler takes
        self._limits = limits

    def __call__(self) -> RequestHandler:
        loop = asyncio.get_running_loop()
        handler = _EdgeHandler(self, loop=loop, **self._handler_kwargs)
        handler.limits = self._limits
        return handler


def edge_kwargs(limits: Limits) -> dict[str, Any]:
    """aiohttp's own knobs for `limits`."""
    return {
        "keepalive_timeout": limits.idle_timeout_s,
        "max_line_size": limits.max_header_bytes,
        "max_field_size": limits.max_header_bytes,
        "max_headers": limits.max_headers,
    }


class EdgeRunner(web.AppRunner):
    """`web.AppRunner` whose connections are `_EdgeHandler`s under `limits`."""

    def __init__(self, app: web.Application, limits: Limits, **kwargs: Any) -> None:
        self._edge = {**kwargs, **edge_kwargs(limits)}
        self._limits = limits
        super().__init__(app, **self._edge)

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        runner_only = ("handler_cancellation", "shutdown_timeout")
        kwargs = {k: v for k, v in self._edge.items() if k not in runner_only}
        return _EdgeServer(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=bool(self._edge.get("handler_cancellation")),
            limits=self._limits,
            **kwargs,
        )
