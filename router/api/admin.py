"""Probes, catalogue and control: `/health`, `/ready`, `/v1/models`,
`/metrics`, `POST /admin/reload`."""

from __future__ import annotations

import os
import signal
import time

from aiohttp import web

from router.api.jsonio import json_response
from router.errors import NotReady, PolicyError, PolicyRejected
from router.metrics.prom import CONTENT_TYPE
from router.settings import DB_OFF
from router.state import POLICY, RECORDER, SETTINGS, STORE


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    holder = request.app.get(POLICY)
    if holder is None:
        raise NotReady("No policy loaded.")
    store = request.app.get(STORE)
    store_off = request.app[SETTINGS].db == DB_OFF
    if not store_off and (store is None or not store.is_open):
        raise NotReady("The metrics store is not open.")
    pool = holder.pool
    # Open without a key: the policy's digest, the backends that cannot be
    # used and the circuits that are not closed, by name; never a path, an
    # endpoint or which credential is unset (the start-up log says that).
    return json_response(
        {
            "status": "ready",
            "policy_hash": pool.policy.digest,
            "policy_loaded_at": holder.loaded_at,
            "disabled": sorted(pool.disabled),
            "circuits": pool.open_circuits(),
            # How many of each backend's models are not pulled (which ones:
            # /v1/models lists what is there; nothing here names configuration).
            "missing_models": {n: len(m) for n, m in pool.missing_models().items()},
        }
    )


async def reload(request: web.Request) -> web.Response:
    """Validate, compile and swap in the policy file; a policy that fails is
    refused with its FILE:LINE:COL lines and the running one keeps serving.
    With several workers the others are told to reload too (SIGHUP to the
    parent, which forwards it to every worker)."""
    holder = request.app[POLICY]
    try:
        policy = holder.reload_or_raise()
    except PolicyError as exc:
        raise PolicyRejected(
            "The policy was not reloaded; the running one keeps serving:\n"
            + "\n".join(str(p) for p in exc.problems)
        ) from None
    if request.app[SETTINGS].workers > 1:
        os.kill(os.getppid(), signal.SIGHUP)
    return json_response(
        {
            "status": "reloaded",
            "policy_hash": policy.digest,
            "policy_loaded_at": holder.loaded_at,
        }
    )


async def models(request: web.Request) -> web.Response:
    """`auto` and every model of a usable backend, less those an Ollama is
    known not to have pulled (its `/api/tags`)."""
    pool = request.app[POLICY].pool
    seen: dict[str, str] = {}
    for b in pool.policy.backends.values():
        if not pool.usable(b.name):
            continue
        absent = pool.absent[b.name]
        for name in pool.models_of(b):
            if name not in absent:
                seen.setdefault(name, b.name)
    created = int(time.time())
    data = [{"id": "auto", "object": "model", "created": created, "owned_by": "router"}]
    data += [
        {"id": name, "object": "model", "created": created, "owned_by": backend}
        for name, backend in seen.items()
    ]
    return json_response({"object": "list", "data": data})


async def prometheus(request: web.Request) -> web.Response:
    body = request.app[RECORDER].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def setup(app: web.Application) -> None:
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_post("/admin/reload", reload)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/metrics", prometheus)
