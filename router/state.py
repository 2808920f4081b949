"""Shared application state behind typed AppKeys.

The policy in force is held by `PolicyHolder` and swapped whole on a
successful reload; handlers read `holder.current` once per request.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from typing import NamedTuple

import aiohttp
from aiohttp import web

from router.ab import Mirror
from router.backends.base import Adapter, build_adapters, disabled_backends
from router.errors import PolicyError
from router.metrics.live import LiveStats
from router.metrics.recorder import Recorder
from router.metrics.store import Store
from router.policy import load_policy
from router.policy.model import Policy
from router.settings import Settings

log = logging.getLogger("router")


class _Built(NamedTuple):
    policy: Policy
    adapters: dict[str, Adapter]
    remote: Mapping[str, Container[str]]


class PolicyHolder:
    """The policy in force. A reload replaces it atomically or not at all."""

    def __init__(self, policy: Policy, path: str | None) -> None:
        self.current = policy
        self.path = path
        self._adapters: _Built | None = None
        self.disabled = disabled_backends(policy.backends)

    def _built(self, session: aiohttp.ClientSession) -> _Built:
        policy = self.current
        if self._adapters is None or self._adapters.policy is not policy:
            adapters = build_adapters(policy.backends, session)
            remote = {name: a.remote_models for name, a in adapters.items()}
            self._adapters = _Built(policy, adapters, remote)
        return self._adapters

    def adapters(self, session: aiohttp.ClientSession) -> dict[str, Adapter]:
        """The backend adapters of the policy in force, rebuilt after a reload."""
        return self._built(session).adapters

    def remote_models(
        self, session: aiohttp.ClientSession
    ) -> Mapping[str, Container[str]]:
        """Per backend, the models its adapter found to run elsewhere."""
        return self._built(session).remote

    def reload(self) -> bool:
        """Load `path` again; on any problem keep the running policy."""
        if self.path is None:
            return False
        try:
            fresh = load_policy(self.path)
        except PolicyError as exc:
            log.error("policy reload failed; keeping the running policy:\n%s", exc)
            return False
        self.current = fresh
        self.disabled = disabled_backends(fresh.backends)
        log.info("policy reloaded from %s", self.path)
        return True


POLICY = web.AppKey("policy", PolicyHolder)
LIVE = web.AppKey("live", LiveStats)
SETTINGS = web.AppKey("settings", Settings)
SESSION = web.AppKey("session", aiohttp.ClientSession)
RECORDER = web.AppKey("recorder", Recorder)
MIRROR = web.AppKey("mirror", Mirror)
STORE = web.AppKey("store", Store)
