"""`POST /v1/route`: decode -> classify -> decide, answered as explain JSON.

Takes either request shape and dispatches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from router.api.jsonio import decode_body, json_response
from router.api.limits import check_request, read_body
from router.backends.pool import BackendPool
from router.classify.types import LEVELS, Classification
from router.decide import Decision
from router.errors import InvalidRequest
from router.explain import explain_dict, route_request_async
from router.state import GATE, POLICY, SETTINGS
from router.wire import Request

SENSITIVITY_HEADER = "x-llr-sensitivity"
METADATA_PARAM = "metadata.sensitivity"


async def route_on(
    pool: BackendPool, request: Request, body: bytes, hint: str | None
) -> tuple[Classification, Decision]:
    """Classify and decide `request` on the pool it is served by: its policy,
    live estimates and what it cannot use (disabled, remote, unpulled)."""
    return await route_request_async(
        request,
        pool.policy,
        pool.live,
        body=body,
        sensitivity_hint=hint,
        disabled=pool.disabled,
        remote=pool.remote,
        absent=pool.absent,
    )


def _level(value: object, where: str) -> str:
    if isinstance(value, str) and value.strip().lower() in LEVELS:
        return value.strip().lower()
    raise InvalidRequest(
        f"{where} must be one of {', '.join(LEVELS)}; got {value!r}.", param=where
    )


def sensitivity_hint(headers: Mapping[str, str], decoded: Request) -> str | None:
    """The `x-llr-sensitivity` header (`headers` are the request's,
    case-insensitive), validated; a `metadata.sensitivity`
    in the body is validated the same way (classify reads it from there).
    Either may only raise the level; a bad value is a 400 wherever it is."""
    metadata = decoded.metadata
    if metadata is not None and "sensitivity" in metadata:
        _level(metadata["sensitivity"], METADATA_PARAM)
    raw = headers.get(SENSITIVITY_HEADER)
    return None if raw is None else _level(raw, SENSITIVITY_HEADER)


async def route(request: web.Request) -> web.Response:
    gate, limits = request.app[GATE], request.app[SETTINGS].limits
    await gate.enter()
    try:
        body = await read_body(request, limits.body_timeout_s)
    finally:
        gate.leave()
    decoded = decode_body(body)
    check_request(decoded, limits)
    hint = sensitivity_hint(request.headers, decoded)
    holder = request.app[POLICY]
    pool = holder.pool
    return json_response(
        headers={
            "x-llr-policy": pool.policy.digest,
            "x-llr-policy-loaded-at": f"{holder.loaded_at:.3f}",
        },
        data=explain_dict(*await route_on(pool, decoded, body, hint)),
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/route", route)
