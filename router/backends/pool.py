"""Dispatch stage, the backend pool: one per policy, built at start-up and at reload.

The one place that says whether a backend is usable and what each attempt
taught: a policy and the shared client session in; per backend its adapter,
why it is disabled (credentials are read once, here), the models it found to
run elsewhere, and `observe(attempt)` feeding the live estimates and the
`llr_backend_up` gauge. Dispatch, decide's inputs, `/v1/models`, `/ready` and
the A/B mirror all ask the pool; nothing reads the environment per request.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Container, Mapping
from typing import Final

import aiohttp
import msgspec
from prometheus_client import Gauge

from router.backends.base import REGISTRY, Adapter, ErrorKind
from router.backends.breaker import STATE_VALUE, Breaker
from router.metrics.live import LiveStats
from router.policy.model import Backend, Policy

log = logging.getLogger("router.backends")

# Kinds that say something about the backend's health; a failure of one of
# these counts against its latency estimate as if it had timed out.
HEALTH_KINDS: Final = frozenset(
    {"connect", "timeout", "status", "redirect", "protocol"}
)
# Kinds of an admitted attempt that never reached the backend.
NOT_SENT: Final = frozenset({"unsupported", "pinned", "disabled", "circuit_open"})


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
    retry_after_s: float | None = None
    param: str | None = None

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
        circuit: Gauge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.live = live
        self.disabled: Mapping[str, str] = disabled or {}
        self.adapters = {n: a for n, a in adapters.items() if n not in self.disabled}
        self.remote: Mapping[str, Container[str]] = {
            name: a.remote_models for name, a in self.adapters.items()
        }
        self.absent: Mapping[str, Container[str]] = {
            name: a.absent_models for name, a in self.adapters.items()
        }
        self.breakers = {
            name: Breaker(policy.backends[name].circuit, clock)
            for name in self.adapters
        }
        self._up: dict[str, Gauge] = {}
        self._circuit: dict[str, Gauge] = {}
        for name in policy.backends:
            if up is not None:
                self._up[name] = up.labels(name)
                self._up[name].set(0 if name in self.disabled else 1)
            if circuit is not None:
                self._circuit[name] = circuit.labels(name)
                self._circuit[name].set(0)

    def usable(self, name: str) -> bool:
        return name in self.adapters

    @staticmethod
    def models_of(backend: Backend) -> list[str]:
        """Every model the policy names for `backend`, each once."""
        names = [*backend.families.values(), *backend.models]
        if backend.model is not None:
            names.insert(0, backend.model)
        return list(dict.fromkeys(names))

    def missing_models(self) -> dict[str, list[str]]:
        """Per backend, the policy's models it is known not to have."""
        out = {}
        for name, absent in self.absent.items():
            missing = [
                m for m in self.models_of(self.policy.backends[name]) if m in absent
            ]
            if missing:
                out[name] = missing
        return out

    def admit(self, name: str) -> bool:
        """Whether `name` may be tried now (its circuit is not open); a
        half-open admission holds a probe slot until its attempt is observed."""
        breaker = self.breakers[name]
        was = breaker.state
        ok = breaker.admit()
        if breaker.state != was:
            self._show(name, breaker.state)
        return ok

    def open_circuits(self) -> dict[str, str]:
        """Backends whose circuit is not closed, with its state."""
        return {n: b.state for n, b in self.breakers.items() if b.state != "closed"}

    def observe(self, attempt: Attempt) -> None:
        """Learn from one attempt: its own time to first byte on success; a
        health failure counts as the backend's timeout and against its
        circuit; a connect failure also marks it down until it next answers."""
        name = attempt.backend
        backend = self.policy.backends.get(name)
        breaker = self.breakers.get(name)
        if backend is None or breaker is None:
            return
        if attempt.cancelled or attempt.kind in NOT_SENT:
            breaker.release()
            return
        was = breaker.state
        up = self._up.get(name)
        if attempt.kind in HEALTH_KINDS:
            self.live.observe(name, max(attempt.elapsed_ms, float(backend.timeout_ms)))
            state = breaker.record(True, attempt.retry_after_s)
            if up is not None and (attempt.kind == "connect" or state == "open"):
                up.set(0)
        else:
            # Served (a client error too: the backend is well).
            self.live.observe(name, attempt.elapsed_ms)
            state = breaker.record(False)
            if up is not None:
                up.set(1)
        if state != was:
            self._show(name, state)

    def _show(self, name: str, state: str) -> None:
        gauge = self._circuit.get(name)
        if gauge is not None:
            gauge.set(STATE_VALUE[state])
        if state != "closed":
            log.warning("backend %s: circuit %s", name, state.replace("_", "-"))
        else:
            log.info("backend %s: circuit closed", name)


def build_pool(
    policy: Policy,
    session: aiohttp.ClientSession,
    live: LiveStats,
    *,
    up: Gauge | None = None,
    circuit: Gauge | None = None,
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
    return BackendPool(
        policy, adapters, live, disabled=disabled, up=up, circuit=circuit
    )
