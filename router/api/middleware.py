"""Edge of the HTTP layer: inbound auth and the one place errors are rendered.

Every failure leaves as OpenAI's error shape; nothing leaks a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from router.api.jsonio import json_response
from router.errors import (
    BodyTooLarge,
    HTTPError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
)
from router.state import SETTINGS

log = logging.getLogger("router.api")

# Probes and scrapes stay open even when inbound keys are configured
# (`/metrics` too unless LLR_PROTECT_METRICS=1); none of them shows a path,
# an endpoint or a setting.
OPEN_PATHS = frozenset({"/health", "/ready", "/metrics", "/openapi.json"})


def _from_aiohttp(exc: web.HTTPException, request: web.Request) -> HTTPError:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app[SETTINGS].max_body_bytes
        return BodyTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    if isinstance(exc, web.HTTPNotFound):
        return NotFound(f"No route for {request.method} {request.path}.")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}; "
            f"allowed: {', '.join(sorted(exc.allowed_methods))}."
        )
    return InvalidRequest(exc.reason or "Bad request.")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        limit = request.app[SETTINGS].max_body_bytes
        length = request.content_length
        if length is not None and length > limit:
            raise BodyTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        return await handler(request)
    except HTTPError as exc:
        resp = json_response(exc.body(), status=exc.status, headers=exc.headers)
        if exc.closes:
            # Out now, then close: aiohttp would otherwise linger reading the
            # rest of a body that is arriving too slowly.
            await resp.prepare(request)
            await resp.write_eof()
            request.protocol.force_close()
        return resp
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        err = _from_aiohttp(exc, request)
        return json_response(err.body(), status=err.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(
            {
                "error": {
                    "message": "Internal router error; see the router's log.",
                    "type": "server_error",
                    "param": None,
                    "code": "internal_error",
                }
            },
            status=500,
        )


def _presented_key(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def make_auth(keys: frozenset[str], *, protect_metrics: bool = False) -> Middleware:
    """Require one of `keys` as a bearer token on every path but the open
    ones. Keys are compared as SHA-256 digests, each with
    `hmac.compare_digest`, against every key: the time taken reveals neither
    a key's length nor which one matched."""
    digests = [_digest(k.encode()) for k in keys]
    open_paths = OPEN_PATHS - {"/metrics"} if protect_metrics else OPEN_PATHS

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in open_paths:
            presented = _presented_key(request)
            if presented is None:
                raise Unauthorized(
                    "Missing API key: send 'Authorization: Bearer <key>'."
                )
            # Header bytes that are not UTF-8 arrive as surrogate escapes.
            given = _digest(presented.encode("utf-8", "surrogateescape"))
            ok = False
            for key in digests:
                ok |= hmac.compare_digest(given, key)
            if not ok:
                raise Unauthorized("Invalid API key.")
        return await handler(request)

    return auth
