"""`POST /v1/chat/completions` and `POST /v1/responses`: the whole pipeline.

decode -> classify -> decide -> dispatch -> stream -> record. Headers
`x-llr-route`, `x-llr-backend`, `x-llr-model` and `x-llr-overhead-ms` (router
time excluding the backend) go out with the first bytes.
"""

from __future__ import annotations

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
from router.errors import PrivacyPinned
from router.state import LIVE, POLICY, SESSION
from router.wire import chat_decoder, responses_decoder

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
    t0 = time.perf_counter()
    body = await request.read()
    hint = sensitivity_hint(request)
    typed = decode_with(DECODERS[api], body)
    raw: dict[str, Any] = orjson.loads(body)
    holder = request.app[POLICY]
    policy = holder.current
    c = classify(typed, config=policy.classifier, sensitivity_hint=hint)
    d = decide(
        c, policy, request.app[LIVE], model=typed.model, disabled=holder.disabled
    )
    if d.blocked:
        raise PrivacyPinned(
            f"This request was kept on this machine (sensitivity {c.sensitivity}): "
            f"its route has no local backend ({d.reason})."
        )
    rid = request.headers.get("x-request-id") or uuid.uuid4().hex
    route = str(d.route) if d.route_name is None else d.route_name
    adapters = holder.adapters(request.app[SESSION])
    t1 = time.perf_counter()
    outcome = await dispatch(
        d,
        policy,
        adapters,
        api=api,
        body=raw,
        stream=bool(typed.stream),
        request_id=rid,
        sensitivity=c.sensitivity,
    )
    t2 = time.perf_counter()
    request.app[LIVE].observe(outcome.hop.backend, (t2 - t1) * 1000)
    reply = outcome.reply
    if not reply.streaming:
        headers = _headers(route, outcome, (t1 - t0) + (time.perf_counter() - t2), rid)
        headers["Content-Type"] = reply.content_type
        return web.Response(status=reply.status, body=reply.body, headers=headers)

    headers = _headers(route, outcome, (t1 - t0) + (time.perf_counter() - t2), rid)
    headers.update({"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    resp = web.StreamResponse(status=200, headers=headers)
    rest = reply.rest
    assert rest is not None
    try:
        await resp.prepare(request)
        await resp.write(reply.first)
        try:
            async for chunk in rest:
                await resp.write(chunk)
        except StreamBroken as exc:
            await resp.write(exc.tail or error_frame(api, exc.message))
        await resp.write_eof()
    finally:
        # Normal end, client gone (ConnectionResetError, cancellation) or a
        # bug: either way stop reading the backend now, not at its timeout.
        reply.close()
        await rest.aclose()
    return resp


async def chat_completions(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "chat")


async def responses(request: web.Request) -> web.StreamResponse:
    return await _proxy(request, "responses")


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", responses)
