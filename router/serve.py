"""Running the server: uvloop, signals, reload, workers.

SIGTERM/SIGINT stop accepting and finish in-flight requests; SIGHUP reloads
the policy (a failing reload keeps the old one). With `workers > 1`, N
processes share the port through SO_REUSEPORT.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
from multiprocessing.connection import wait
from typing import Any
from urllib.parse import urlsplit

import uvloop
from aiohttp import web
from prometheus_client import Gauge

from router.api.edge import EdgeRunner
from router.app import CUT_S, backend_status, create_app
from router.backends.pool import disabled_backends
from router.logs import configure
from router.policy.model import Policy
from router.settings import Settings, exposure_warning
from router.state import POLICY, RECORDER, PolicyHolder

log = logging.getLogger("router")

# How often the parent looks for a worker ready to take a held SIGHUP.
HELD_POLL_S = 0.1


NO_BACKEND_HINT = (
    "no backend can answer: chat requests fail until one is up (/v1/route "
    "works without any); to see routed answers from stand-in backends, run "
    "`make demo` in the source tree"
)


async def _probe_local(policy: Policy, up: Gauge) -> None:
    """Say once whether each local backend answers a TCP connect, and how to
    see the router work when no backend at all can answer."""
    disabled = disabled_backends(policy.backends)
    remote = [b for b in policy.backends.values() if not b.local]
    usable = sum(1 for b in remote if b.name not in disabled)
    for b in policy.backends.values():
        if not b.local or b.name in disabled:
            continue
        parts = urlsplit(b.endpoint)
        host = parts.hostname or "localhost"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), timeout=1.0
            )
        except (OSError, TimeoutError) as exc:
            log.warning("backend %s unreachable at %s: %s", b.name, b.endpoint, exc)
            up.labels(b.name).set(0)
            continue
        writer.close()
        usable += 1
        log.info("backend %s reachable at %s", b.name, b.endpoint)
    if usable == 0:
        log.warning(NO_BACKEND_HINT)


# Young-generation collections run this much less often than by default (700
# allocations): a request allocates hundreds of short-lived containers.
GC_GEN0_THRESHOLD = 7_000


def settle_heap() -> None:
    """Once start-up is done: move everything it allocated (modules, the
    compiled bank, the policy) out of the collector's sight, so full
    collections under traffic no longer walk it, and collect the young
    generation less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


WATCH_INTERVAL_S = 1.0


def _stamp(path: str) -> bytes | None:
    """The file's content digest (a change within one mtime tick, or an edit
    that keeps the size, still counts); None while it cannot be read."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).digest()
    except OSError:
        return None


async def _watch(holder: PolicyHolder) -> None:
    """Reload when the policy file changes (a failing one is refused, logged
    and counted; the next change is tried again)."""
    if holder.path is None:
        return
    seen = _stamp(holder.path)
    while True:
        await asyncio.sleep(WATCH_INTERVAL_S)
        now = _stamp(holder.path)
        if now is not None and now != seen:
            seen = now
            holder.reload()


async def _serve(
    policy: Policy, settings: Settings, reuse_port: bool, ready: Any = None
) -> None:
    """Serve until SIGTERM/SIGINT; `ready` (a multiprocessing Event) is set
    once SIGHUP reloads, so a parent knows it may forward one."""
    app = create_app(policy, settings)
    runner = EdgeRunner(
        app,
        settings.limits,
        access_log=None,
        handler_cancellation=True,
        shutdown_timeout=CUT_S,
    )
    await runner.setup()
    site = web.TCPSite(
        runner,
        settings.host,
        settings.port,
        reuse_port=reuse_port or None,
    )
    await site.start()
    settle_heap()
    log.info("serving %s on http://%s:%d", policy.source, settings.host, settings.port)
    for line in backend_status(policy):
        log.info(line)
    exposed = exposure_warning(settings)
    if exposed is not None:
        log.warning(exposed)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, app[POLICY].reload)
    if ready is not None:
        ready.set()
    probe = asyncio.create_task(_probe_local(policy, app[RECORDER].metrics.backend_up))
    tasks = [probe]
    if settings.watch:
        tasks.append(asyncio.create_task(_watch(app[POLICY])))
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()


def _worker(policy: Policy, settings: Settings, ready: Any) -> None:
    configure(settings.log_format, settings.log_level)
    uvloop.run(_serve(policy, settings, reuse_port=True, ready=ready))


def serve(policy: Policy, settings: Settings) -> None:
    if settings.workers == 1:
        uvloop.run(_serve(policy, settings, reuse_port=False))
        return
    # One scrape must see every worker: prometheus_client's multiprocess mode,
    # set up before any worker imports it.
    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = tempfile.mkdtemp(prefix="llr-prom-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    ctx = multiprocessing.get_context("spawn")
    # A worker takes SIGHUP once its loop handles it (`ready`); the parent
    # holds each one until then (the default action would end the worker).
    # The children start with it ignored, for the moment before that.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    readies = [ctx.Event() for _ in range(settings.workers)]
    procs = [
        ctx.Process(
            target=_worker, args=(policy, settings, ready), name=f"llr-worker-{i}"
        )
        for i, ready in enumerate(readies)
    ]
    for p in procs:
        p.start()
    held: set[int] = set()

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            held.update(range(len(procs)))  # sent by the loop below
            return
        for p in procs:
            if p.pid is not None and p.is_alive():
                os.kill(p.pid, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    try:
        while any(p.is_alive() for p in procs):
            # tuple() copies in one step: the handler may add to `held`.
            for i in tuple(held):
                if not readies[i].is_set():
                    continue
                held.discard(i)
                pid = procs[i].pid
                if pid is not None and procs[i].is_alive():
                    os.kill(pid, signal.SIGHUP)
            wait([p.sentinel for p in procs], timeout=HELD_POLL_S)
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
