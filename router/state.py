"""Shared application state behind typed AppKeys.

The policy in force and its backend pool are held by `PolicyHolder` and
swapped together on a successful reload; handlers read `holder.pool` once
per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from router.ab import Mirror
from router.api.limits import Drain, Gate
from router.backends.pool import BackendPool
from router.errors import NotReady, PolicyError, Problem
from router.metrics.live import LiveStats
from router.metrics.recorder import Recorder
from router.metrics.store import Store
from router.policy import load_policy
from router.policy.model import Policy
from router.settings import Settings

log = logging.getLogger("router")


PoolFactory = Callable[[Policy], BackendPool]


class PolicyHolder:
    """The policy in force and its backend pool, replaced together on a
    successful reload, never in part. A handler reads `pool` once and keeps
    that pool (and its `policy`) for the whole request."""

    def __init__(
        self,
        policy: Policy,
        path: str | None,
        on_reload: Callable[[str], object] | None = None,
    ) -> None:
        self.path = path
        self._policy = policy
        self._pool: BackendPool | None = None
        self._make: PoolFactory | None = None
        self._on_reload = on_reload  # told "ok" or "failed" after each try
        self.loaded_at = time.time()

    def start(self, make: PoolFactory) -> None:
        """Build the pool once the client session exists (app start-up)."""
        self._make = make
        self._pool = make(self._policy)

    @property
    def current(self) -> Policy:
        return self._policy

    @property
    def pool(self) -> BackendPool:
        if self._pool is None:
            raise NotReady("The backends are not set up yet.")
        return self._pool

    def reload(self) -> bool:
        """Load `path` again; on any problem keep the running policy."""
        try:
            self.reload_or_raise()
        except PolicyError:
            return False
        return True

    def reload_or_raise(self) -> Policy:
        """Load `path` again and swap it in (with a new pool); on a problem
        raise `PolicyError`, logged and counted, the running policy kept."""
        if self.path is None:
            error = Problem(
                file="(none)", line=1, col=1, path="(file)", message="no policy file"
            )
            raise PolicyError([error])
        try:
            fresh = load_policy(self.path)
        except PolicyError as exc:
            log.error("policy reload failed; keeping the running policy:\n%s", exc)
            self._counted("failed")
            raise
        pool = self._make(fresh) if self._make is not None else None
        self._policy, self._pool = fresh, pool
        self.loaded_at = time.time()
        log.info("policy reloaded from %s (%s)", self.path, fresh.digest)
        self._counted("ok")
        return fresh

    def _counted(self, outcome: str) -> None:
        if self._on_reload is not None:
            self._on_reload(outcome)


POLICY = web.AppKey("policy", PolicyHolder)
LIVE = web.AppKey("live", LiveStats)
SETTINGS = web.AppKey("settings", Settings)
SESSION = web.AppKey("session", aiohttp.ClientSession)
RECORDER = web.AppKey("recorder", Recorder)
MIRROR = web.AppKey("mirror", Mirror)
STORE = web.AppKey("store", Store)
GATE = web.AppKey("gate", Gate)
DRAIN = web.AppKey("drain", Drain)
