"""Application assembly: `create_app(policy, settings)` -> aiohttp Application."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from router.ab import Mirror
from router.api import admin, openapi, proxy, reports, route
from router.api.limits import Drain, Gate
from router.api.middleware import errors, make_auth
from router.backends.pool import build_pool, disabled_backends
from router.classify import preparing
from router.logs import access_log
from router.metrics.live import LiveStats
from router.metrics.prom import Metrics
from router.metrics.recorder import Recorder
from router.metrics.store import Store
from router.policy.model import Policy
from router.settings import DB_OFF, Settings
from router.state import (
    DRAIN,
    GATE,
    LIVE,
    MIRROR,
    POLICY,
    RECORDER,
    SESSION,
    SETTINGS,
    STORE,
    PolicyHolder,
)

# One pooled client for every backend: keep-alive, bounded connections. Each
# open client stream holds one upstream connection for as long as it lasts,
# so the bound is well above the concurrent streams a worker serves (at 512,
# 1,000 slow streams waited for the first half: bench_load's rss run).
POOL_LIMIT = 8192
KEEPALIVE_S = 60.0
# After the drain's grace, how long the requests it cut get to write their
# clean error (and anything else still running, to end).
CUT_S = 5.0

log = logging.getLogger("router")


async def client_session(app: web.Application) -> AsyncIterator[None]:
    """The pooled client session, and the backend pool built on it."""
    connector = aiohttp.TCPConnector(
        limit=POOL_LIMIT, keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=300
    )
    async with aiohttp.ClientSession(connector=connector) as session:
        app[SESSION] = session
        live, metrics = app[LIVE], app[RECORDER].metrics
        app[POLICY].start(
            lambda policy: build_pool(
                policy,
                session,
                live,
                up=metrics.backend_up,
                circuit=metrics.circuit_state,
            )
        )
        yield


def backend_status(policy: Policy) -> list[str]:
    """One line per backend saying whether it can be used: a backend whose key
    is unset is disabled (local reachability is probed at start-up)."""
    disabled = disabled_backends(policy.backends)
    lines = []
    for b in policy.backends.values():
        if b.name in disabled:
            lines.append(f"backend {b.name} ({b.type}) disabled: {b.api_key_env} unset")
        else:
            where = "local" if b.local else "remote"
            lines.append(f"backend {b.name} ({b.type}, {where}) at {b.endpoint}")
    return lines


WARM_WINDOW_S = 3600.0


async def metrics_store(app: web.Application) -> AsyncIterator[None]:
    """Open the SQLite spool, warm the live estimates from its last hour, and
    on shutdown drain every queued record before closing it."""
    settings, recorder = app[SETTINGS], app[RECORDER]
    retention = float(os.environ.get("LLR_DB_RETENTION_DAYS", "30"))
    store = await Store.open(
        settings.db, retention_days=retention, on_drop=recorder.metrics.dropped.inc
    )
    app[STORE] = store
    recorder.spool = store
    try:
        app[LIVE].warm(await store.recent_latencies(time.time() - WARM_WINDOW_S))
        yield
    finally:
        recorder.spool = None
        await store.close()


METRICS_FLUSH_S = 1.0


async def metrics_flusher(app: web.Application) -> AsyncIterator[None]:
    """Apply held Prometheus observations every second, so a scrape answered
    by another worker (multiprocess mode) sees this one's too."""
    metrics = app[RECORDER].metrics

    async def loop() -> None:
        while True:
            await asyncio.sleep(METRICS_FLUSH_S)
            metrics.flush()

    task = asyncio.create_task(loop(), name="metrics-flush")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        metrics.flush()


INVENTORY_S = 30.0


async def model_inventory(app: web.Application) -> AsyncIterator[None]:
    """Ask every Ollama of the policy in force which models it has pulled
    (`/api/tags`), at start-up and every `INVENTORY_S`, so that decide skips
    a model that is not there and `/v1/models` lists what is."""
    holder = app[POLICY]

    async def loop() -> None:
        while True:
            pool = holder.pool
            await asyncio.gather(
                *(
                    refresh()
                    for a in pool.adapters.values()
                    if (refresh := getattr(a, "refresh_inventory", None))
                ),
                return_exceptions=True,
            )
            await asyncio.sleep(INVENTORY_S)

    task = asyncio.create_task(loop(), name="model-inventory")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def drain_requests(app: web.Application) -> None:
    """On shutdown, once nothing new is accepted: the requests in flight
    finish within the grace, the rest end with a clean error."""
    drain = app[DRAIN]
    if len(drain):
        log.info("waiting for %d requests in flight", len(drain))
    grace = app[SETTINGS].limits.shutdown_grace_s
    cut = await drain.drain(grace, CUT_S)
    if cut:
        log.warning(
            "shutdown: %d requests still running after %g s ended with an error",
            cut,
            grace,
        )


async def stop_mirror(app: web.Application) -> None:
    await app[MIRROR].close()


def create_app(policy: Policy, settings: Settings) -> web.Application:
    middlewares: list[Middleware] = [errors]
    if settings.api_keys:
        middlewares.append(
            make_auth(settings.api_keys, protect_metrics=settings.protect_metrics)
        )
    app = web.Application(
        middlewares=middlewares, client_max_size=settings.max_body_bytes
    )
    app[RECORDER] = recorder = Recorder(Metrics())
    recorder.access = access_log()
    reloads = recorder.metrics.reloads
    app[POLICY] = PolicyHolder(
        policy, settings.policy, lambda outcome: reloads.labels(outcome).inc()
    )
    app[LIVE] = LiveStats()
    app[SETTINGS] = settings
    app[MIRROR] = Mirror(recorder)
    limits = settings.limits
    app[GATE] = Gate(limits.max_concurrent, limits.max_queued, limits.queue_timeout_s)
    app[DRAIN] = Drain()
    app.on_shutdown.append(drain_requests)
    app.on_shutdown.append(stop_mirror)
    # The classifier's bank loads (or builds) in a thread while serving starts.
    app.cleanup_ctx.append(preparing)
    app.cleanup_ctx.append(client_session)
    app.cleanup_ctx.append(model_inventory)
    app.cleanup_ctx.append(metrics_flusher)
    if settings.db != DB_OFF:
        app.cleanup_ctx.append(metrics_store)
    admin.setup(app)
    route.setup(app)
    proxy.setup(app)
    reports.setup(app)
    openapi.setup(app)
    return app
