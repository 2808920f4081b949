"""`POST /v1/chat/completions` and `POST /v1/responses`: the whole pipeline.

decode -> classify -> decide -> dispatch -> stream -> record. Headers
`x-llr-route`, `x-llr-backend`, `x-llr-model` and `x-llr-overhead-ms` (router
time excluding the backend) go out with the first bytes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import msgspec
import orjson
from aiohttp import web

from router.api.jsonio import decode_with
from router.api.route import sensitivity_hint
from router.backends.base import Api, StreamBroken
from router.backends.sse import error_frame
from router.classify import classify
from router.decide import decide
from router.dispatch import Outcome, dispatch
from router.errors import HTTPError, PrivacyPinned
from router.metrics.track import Tracker
from router.policy.model import Policy
from router.state import LIVE, MIRROR, POLICY, RECORDER, SESSION, PolicyHolder
from router.wire import chat_decoder, responses_decoder

# nginx's convention for "client closed the connection before the answer".
CLIENT_GONE = 499

DECODERS: dict[Api, msgspec.json.Decoder[Any]] = {
    "chat": chat_decoder,
    "responses": responses_decoder,
}


def _headers(
    route: str, outcome: Outcome, overhead_s: float, rid: str
) -> dict[str, str]:
    return {
        "x-llr-route": route,
        "x-llr-backend": outcome.hop.backend,
        "x-llr-model": outcome.hop.model,
        "x-llr-overhead-ms": f"{overhead_s * 1000:.3f}",
        "x-request-id": rid,
    }


async def _proxy(request: web.Request, api: Api) -> web.StreamResponse:
    holder = request.app[POLICY]
    policy = holder.current
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex
    t = Tracker(api=api, stream=False, request_id=rid)
    try:
        return await _serve(request, api, t, holder, policy)
    except HTTPError as exc:
        t.failed(exc.status, exc.code or exc.type)
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        t.failed(t.status or CLIENT_GONE, "client_disconnect")
        raise
    except Exception:
        t.failed(500, "internal")
        raise
    finally:
        request.app[RECORDER].record(t.record(policy), t.hops())


async def _serve(
    request: web.Request, api: Api, t: Tracker, holder: PolicyHolder, policy: Policy
) -> web.StreamResponse:
    body = await request.read()
    t.t0 = time.perf_counter()  # router time starts once the body is in
    hint = sensitivity_hint(request)
    typed = decode_with(DECODERS[api], body)
    t.stream = bool(typed.stream)
    raw: dict[str, Any] = orjson.loads(body)
    c = t.classification = classify(
        typed,
        body=body,
        config=policy.classifier,
        sensitivity_hint=hint,
        unreadable=policy.privacy.unreadable,
    )
    d = t.decision = decide(
        c, policy, request.app[LIVE], model=typed.model, disabled=holder.disabled
    )
    if d.blocked:
        raise PrivacyPinned(
            f"This request was kept on this machine (sensitivity {c.sensitivity}): "
            f"its route has no local backend ({d.reason})."
        )
    route = str(d.route) if d.route_name is None else d.route_name
    adapters = holder.adapters(request.app[SESSION])
    t1 = time.perf_counter()
    o = t.outcome = await dispatch(
        d,
        policy,
        adapters,
        api=api,
        body=raw,
        stream=t.stream,
        request_id=t.request_id,
        sensitivity=c.sensitivity,
    )
    t2 = time.perf_counter()
    request.app[LIVE].observe(o.hop.backend, (t2 - t1) * 1000)
    reply = o.reply
    t.status = reply.status
    if reply.status >= 400:
        t.error_kind = "backend_status"
    t.overhead_s = (t1 - t.t0) + (time.perf_counter() - t2)
    headers = _headers(route, o, t.overhead_s, t.request_id)

    def mirror() -> None:
        if t.error_kind is None and reply.status < 400:
            request.app[MIRROR].maybe(
                policy=policy,
                c=c,
                d=d,
                primary=o.hop.backend,
                requested_model=typed.model,
                adapters=adapters,
                disabled=holder.disabled,
                api=api,
                body=raw,
                stream=t.stream,
                request_id=t.request_id,
            )

    if not reply.streaming:
        t.take_usage(reply.usage)
        headers["Content-Type"] = reply.content_type
        resp = web.Response(status=reply.status, body=reply.body, headers=headers)
        t.first_byte()
        mirror()
        return resp

    headers.update({"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    stream = web.StreamResponse(status=200, headers=headers)
    rest = reply.rest
    assert rest is not None
    try:
        await stream.prepare(request)
        await stream.write(reply.first)
        t.first_byte()
        try:
            async for chunk in rest:
                await stream.write(chunk)
        except StreamBroken as exc:
            t.error_kind = "stream_broken"
            await stream.write(exc.tail or error_frame(api, exc.message))
        await stream.write_eof()
        mirror()
    finally:
        # Normal end, client gone (ConnectionResetError, cancellation) or a
        # bug: either way stop reading the backend now, not at its timeout.
        reply.close()
        await rest.aclose()
        t.take_usage(reply.usage)
    return stream


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "chat")


async def responses(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "responses")


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
