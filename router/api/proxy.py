"""`POST /v1/chat/completions` and `POST /v1/responses`: the whole pipeline.

decode -> classify -> decide -> dispatch -> stream -> record, one way, on one
`RequestContext`. Headers `x-llr-route`, `x-llr-backend`, `x-llr-model` and
`x-llr-overhead-ms` (router time excluding the backend) go out with the
first bytes; the record is built once, at the end, whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from itertools import count
from typing import Any

import msgspec
from aiohttp import web

from router.api.jsonio import decode_with
from router.api.limits import check_request, read_body, uncancel
from router.api.route import route_on, sensitivity_hint
from router.backends.base import Api, Body, Reply, StreamBroken
from router.backends.pool import BackendPool
from router.backends.sse import error_frame, responses_failed
from router.decide import Decision
from router.dispatch import Outcome, dispatch
from router.errors import HTTPError, PrivacyPinned, ShuttingDown
from router.metrics.track import Delivery, RequestContext
from router.state import DRAIN, GATE, MIRROR, POLICY, RECORDER, SETTINGS
from router.wire import chat_decoder, responses_decoder

# nginx's convention for "client closed the connection before the answer".
CLIENT_GONE = 499
STREAM_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
SHUTTING_DOWN = "The router is shutting down and this request did not finish in time."

DECODERS: dict[Api, msgspec.json.Decoder[Any]] = {
    "chat": chat_decoder,
    "responses": responses_decoder,
}

# Request ids: a random per-process prefix and a counter (unique across
# workers and restarts, and far cheaper than uuid4 per request).
_ID_PREFIX = os.urandom(6).hex()
_ids = count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ids):010x}"


# A client's own id is kept (logged, stored, echoed, forwarded) only when it
# is a short token of printable ASCII; anything else gets an id of ours.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


def request_id(request: web.Request, own: str) -> str:
    """The client's id when it is a plain token, else `own` (ours)."""
    given = request.headers.get("x-request-id")
    if given is not None and _CLIENT_ID.fullmatch(given):
        return given
    return own


def _route_label(d: Decision) -> str:
    return str(d.route) if d.route_name is None else d.route_name


def _headers(
    route: str, outcome: Outcome, overhead_s: float, rid: str, policy: str
) -> dict[str, str]:
    return {
        "x-llr-policy": policy,
        "x-llr-route": route,
        "x-llr-backend": outcome.hop.backend,
        "x-llr-model": outcome.hop.model,
        "x-llr-overhead-ms": f"{overhead_s * 1000:.3f}",
        "x-request-id": rid,
    }


async def _proxy(request: web.Request, api: Api) -> web.StreamResponse:
    pool = request.app[POLICY].pool
    own = new_request_id()
    rid = request_id(request, own)
    # A/B samples by our id, never the client's: a client cannot pick (or
    # avoid) being mirrored by choosing its x-request-id.
    ctx = RequestContext(api=api, request_id=rid, sample_id=own)
    gate, drain = request.app[GATE], request.app[DRAIN]
    drain.enter()
    try:
        await gate.enter()
        try:
            return await _serve(request, ctx, pool)
        finally:
            gate.leave()
    except HTTPError as exc:
        _failed(exc, ctx, pool)
        raise
    except asyncio.CancelledError:
        if drain.cut and ctx.delivery is None:  # the drain's deadline passed
            uncancel()
            raise _failed(ShuttingDown(SHUTTING_DOWN), ctx, pool) from None
        ctx.failure = (_delivered(ctx), "client_disconnect")
        raise
    except ConnectionResetError:
        ctx.failure = (_delivered(ctx), "client_disconnect")
        raise
    except Exception:
        ctx.failure = (500, "internal")
        raise
    finally:
        drain.leave()
        request.app[RECORDER].record(ctx.record(pool.policy), ctx.hops())


def _delivered(ctx: RequestContext) -> int:
    return ctx.delivery.status if ctx.delivery is not None else CLIENT_GONE


def _failed(exc: HTTPError, ctx: RequestContext, pool: BackendPool) -> HTTPError:
    """`exc`, recorded on `ctx` and with the headers every answer carries."""
    ctx.failure = (exc.status, exc.code or exc.type)
    exc.headers["x-request-id"] = ctx.request_id
    exc.headers["x-llr-policy"] = pool.policy.digest
    d = ctx.decision
    if d is not None:
        exc.headers["x-llr-route"] = _route_label(d)
    return exc


async def _serve(
    request: web.Request, ctx: RequestContext, pool: BackendPool
) -> web.StreamResponse:
    limits = request.app[SETTINGS].limits
    body = await read_body(request, limits.body_timeout_s)
    ctx.t0 = time.perf_counter()  # router time starts once the body is in
    typed = ctx.request = decode_with(DECODERS[ctx.api], body)
    check_request(typed, limits)
    hint = sensitivity_hint(request.headers, typed)
    ctx.stream = bool(typed.stream)
    c, d = await route_on(pool, typed, body, hint)
    ctx.classification, ctx.decision = c, d
    if d.blocked:
        raise PrivacyPinned(
            f"This request was kept on this machine (sensitivity {c.sensitivity}): "
            f"its route has no local backend ({d.reason})."
        )
    raw = Body(body)
    t1 = time.perf_counter()
    o = ctx.outcome = await dispatch(
        d,
        pool,
        api=ctx.api,
        body=raw,
        stream=ctx.stream,
        request_id=ctx.request_id,
        sensitivity=c.sensitivity,
    )
    t2 = time.perf_counter()
    reply = o.reply
    dl = ctx.delivery = Delivery(
        status=reply.status,
        error_kind="backend_status" if reply.status >= 400 else None,
        overhead_s=(t1 - ctx.t0),
    )
    route = _route_label(d)
    if not reply.streaming:
        dl.usage = reply.usage
        dl.overhead_s += time.perf_counter() - t2
        headers = _headers(route, o, dl.overhead_s, ctx.request_id, pool.policy.digest)
        if reply.headers:
            headers.update(reply.headers)
        headers["Content-Type"] = reply.content_type
        resp = web.Response(status=reply.status, body=reply.body, headers=headers)
        dl.first_byte = time.perf_counter()
        _mirror(request, ctx, pool, raw)
        return resp
    return await _stream(request, ctx, pool, reply, route, t2, raw)


async def _stream(
    request: web.Request,
    ctx: RequestContext,
    pool: BackendPool,
    reply: Reply,
    route: str,
    t2: float,
    raw: Body,
) -> web.StreamResponse:
    dl, o = ctx.delivery, ctx.outcome
    assert dl is not None and o is not None and reply.rest is not None
    dl.overhead_s += time.perf_counter() - t2
    headers = _headers(route, o, dl.overhead_s, ctx.request_id, pool.policy.digest)
    if reply.headers:
        headers.update(reply.headers)
    headers.update(STREAM_HEADERS)
    stream = web.StreamResponse(status=200, headers=headers)
    rest = reply.rest
    try:
        await stream.prepare(request)
        await stream.write(reply.first)
        dl.first_byte = time.perf_counter()
        prev = last = reply.first  # the cut's end numbers after the last event
        try:
            async for chunk in rest:
                await stream.write(chunk)
                prev, last = last, chunk
        except StreamBroken as exc:
            dl.error_kind = "stream_broken"
            end = exc.tail or _stream_end(
                ctx, raw, reply.first, prev + last, exc.message
            )
            await stream.write(end)
        except asyncio.CancelledError:
            if not request.app[DRAIN].cut:
                raise
            uncancel()
            dl.error_kind = "shutdown"
            end = _stream_end(
                ctx, raw, reply.first, prev + last, SHUTTING_DOWN, "shutting_down"
            )
            await stream.write(end)
        await stream.write_eof()
        _mirror(request, ctx, pool, raw)
    finally:
        # Normal end, client gone (ConnectionResetError, cancellation) or a
        # bug: either way stop reading the backend now, not at its timeout.
        reply.close()
        await rest.aclose()
        dl.usage = reply.usage
    return stream


def _stream_end(
    ctx: RequestContext,
    raw: Body,
    first: bytes,
    tail: bytes,
    message: str,
    code: str = "stream_interrupted",
) -> bytes:
    """How a client stream cut short ends (its backend failed with no end of
    its own, or the drain cut it): an error object for chat; for Responses
    `error` and `response.failed`, numbered after the last event sent."""
    if ctx.api == "chat":
        return error_frame(message, code)
    assert ctx.outcome is not None
    return responses_failed(
        raw,
        first,
        tail,
        model=ctx.outcome.hop.model,
        request_id=ctx.request_id,
        message=message,
        code=code,
    )


def _mirror(
    request: web.Request, ctx: RequestContext, pool: BackendPool, raw: Body
) -> None:
    dl = ctx.delivery
    if dl is not None and dl.error_kind is None and dl.status < 400:
        request.app[MIRROR].maybe(ctx, pool, raw)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "chat")


async def responses(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "responses")


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
