"""Dispatch stage, the backend pool: one per policy, built at start-up and at reload.

The one place that says whether a backend is usable and what each attempt
taught: a policy and the shared client session in; per backend its adapter,
why it is disabled (credentials are read once, here), the models it found to
run elsewhere, and `observe(attempt)` feeding the live estimates and the
`llr_backend_up` gauge. Dispatch, decide's inputs, `/v1/models`, `/ready` and
the A/B mirror all ask the pool; nothing reads the environment per request.
"""

from __future__ import annotations

import os
from collections.abc import Container, Mapping
from typing import Final

import aiohttp
import msgspec
from prometheus_client import Gauge

from router.backends.base import REGISTRY, Adapter, ErrorKind
from router.metrics.live import LiveStats
from router.policy.model import Backend, Policy

# Kinds that say something about the backend's health; a failure of one of
# these counts against its latency estimate as if it had timed out.
HEALTH_KINDS: Final = frozenset(
    {"connect", "timeout", "status", "redirect", "protocol"}
)


class Attempt(msgspec.Struct, gc=False):
    """One try of one backend: when it started, when its first byte came (or
    it failed, or was cancelled), with what. `kind` is None on success."""

    backend: str
    model: str
    start: float  # perf_counter seconds
    end: float
    kind: ErrorKind | None = None
    message: str = ""
    status: int | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.kind is None and not self.cancelled

    @property
    def elapsed_ms(self) -> float:
        return (self.end - self.start) * 1000


def disabled_reason(backend: Backend, env: Mapping[str, str]) -> str | None:
    """Why a backend cannot be used at all, or None."""
    if backend.api_key_env is not None and not env.get(backend.api_key_env):
        return f"disabled ({backend.api_key_env} unset)"
    return None


def disabled_backends(
    backends: Mapping[str, Backend], env: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """Every backend that cannot be used, with why."""
    out = {}
    for name, b in backends.items():
        why = disabled_reason(b, env)
        if why is not None:
            out[name] = why
    return out


def api_key(backend: Backend, env: Mapping[str, str]) -> str | None:
    return env.get(backend.api_key_env) if backend.api_key_env else None


class BackendPool:
    def __init__(
        self,
        policy: Policy,
        adapters: Mapping[str, Adapter],
        live: LiveStats,
        *,
        disabled: Mapping[str, str] | None = None,
        up: Gauge | None = None,
    ) -> None:
        self.policy = policy
        self.live = live
        self.disabled: Mapping[str, str] = disabled or {}
        self.adapters = {n: a for n, a in adapters.items() if n not in self.disabled}
        self.remote: Mapping[str, Container[str]] = {
            name: a.remote_models for name, a in self.adapters.items()
        }
        self._up: dict[str, Gauge] = {}
        if up is not None:
            for name in policy.backends:
                child = up.labels(name)
                child.set(0 if name in self.disabled else 1)
                self._up[name] = child

    def usable(self, name: str) -> bool:
        return name in self.adapters

    def observe(self, attempt: Attempt) -> None:
        """Learn from one attempt: its own time to first byte on success; a
        health failure counts as the backend's timeout; a connect failure
        also marks it down until it next answers."""
        name = attempt.backend
        backend = self.policy.backends.get(name)
        if backend is None or attempt.cancelled:
            return
        up = self._up.get(name)
        if attempt.kind is None:
            self.live.observe(name, attempt.elapsed_ms)
            if up is not None:
                up.set(1)
        elif attempt.kind in HEALTH_KINDS:
            self.live.observe(name, max(attempt.elapsed_ms, float(backend.timeout_ms)))
            if attempt.kind == "connect" and up is not None:
                up.set(0)


def build_pool(
    policy: Policy,
    session: aiohttp.ClientSession,
    live: LiveStats,
    up: Gauge | None = None,
    env: Mapping[str, str] = os.environ,
) -> BackendPool:
    """The pool of `policy`: an adapter per usable backend on `session`, with
    credentials read from `env` once."""
    # Importing the adapter modules fills REGISTRY.
    from router.backends import ollama, openai  # noqa: F401

    disabled = disabled_backends(policy.backends, env)
    adapters = {
        name: REGISTRY[b.type](b, session, api_key(b, env))
        for name, b in policy.backends.items()
        if name not in disabled
    }
    return BackendPool(policy, adapters, live, disabled=disabled, up=up)
