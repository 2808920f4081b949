"""`POST /v1/route`: decode -> classify -> decide, answered as explain JSON.

Takes either request shape and dispatches nothing.
"""

from __future__ import annotations

from aiohttp import web

from router.api.jsonio import decode_body, json_response
from router.classify.types import LEVELS
from router.errors import InvalidRequest
from router.explain import explain
from router.state import LIVE, POLICY

SENSITIVITY_HEADER = "x-llr-sensitivity"


def sensitivity_hint(request: web.Request) -> str | None:
    """The `x-llr-sensitivity` header, validated (it may only raise the level)."""
    raw = request.headers.get(SENSITIVITY_HEADER)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in LEVELS:
        raise InvalidRequest(
            f"Header {SENSITIVITY_HEADER} must be one of {', '.join(LEVELS)}; "
            f"got {raw!r}.",
            param=SENSITIVITY_HEADER,
        )
    return value


async def route(request: web.Request) -> web.Response:
    body = await request.read()
    hint = sensitivity_hint(request)
    decoded = decode_body(body)
    holder = request.app[POLICY]
    return json_response(
        explain(
            decoded,
            holder.current,
            request.app[LIVE],
            body=body,
            sensitivity_hint=hint,
            disabled=holder.disabled,
        )
    )


def setup(app: web.Application) -> None:
    app.router.add_post("/v1/route", route)
