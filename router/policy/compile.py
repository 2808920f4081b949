"""Policy stage, compile: a validated `RawPolicy` in, the runtime `Policy` out.

Defaults are applied here (by backend type; locality by type and endpoint
host, the endpoint being `endpointEnv`'s value when that variable is set),
match values become frozensets, fallbacks and model lists become tuples,
routes without a reason get one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from msgspec import UnsetType

from router.policy.locality import is_loopback
from router.policy.model import (
    AB,
    DEFAULT_API_KEY_ENV,
    SAMPLING_OPTIONS,
    Backend,
    Circuit,
    ClientOptions,
    Cost,
    Match,
    Policy,
    Privacy,
    Route,
)
from router.policy.schema import (
    MATCH_LISTS,
    RawBackend,
    RawCircuit,
    RawClientOptions,
    RawMatch,
    RawPolicy,
    RawRoute,
    RawTokens,
)
from router.translate.ollama_options import duration_s

T = TypeVar("T")

_TOKEN_OPS = (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<="))


def compile_policy(raw: RawPolicy, source: str, digest: str = "") -> Policy:
    """Build the runtime policy; `raw` must already have passed validation."""
    return Policy(
        backends={name: _backend(name, b) for name, b in raw.backends.items()},
        routes=tuple(_route(i, r) for i, r in enumerate(raw.routes)),
        privacy=Privacy(pin=raw.privacy.pin, unreadable=raw.privacy.unreadable),
        ab=AB(
            enabled=raw.ab.enabled,
            sample_rate=raw.ab.sample_rate,
            min_samples=raw.ab.min_samples,
            max_concurrent=raw.ab.max_concurrent,
            candidates=dict(raw.ab.candidates),
        ),
        classifier=raw.classifier,
        baseline=None if isinstance(raw.baseline, UnsetType) else raw.baseline,
        source=source,
        digest=digest,
    )


def _backend(name: str, raw: RawBackend) -> Backend:
    api_key_env = raw.api_key_env
    if isinstance(api_key_env, UnsetType):
        api_key_env = DEFAULT_API_KEY_ENV[raw.type]
    # Checked, not trusted: by default only an Ollama on loopback is local;
    # `local: true` vouches for another host (validation refuses it on
    # hosted services), `local: false` overrides loopback.
    endpoint = raw.effective_endpoint()
    if isinstance(raw.local, bool):
        local = raw.local
    else:
        local = raw.type == "ollama" and is_loopback(endpoint)
    return Backend(
        name=name,
        type=raw.type,
        endpoint=endpoint,
        local=local,
        model=_unset_none(raw.model),
        models=tuple(_unset_none(raw.models) or ()),
        families={k: v for k, v in (_unset_none(raw.families) or {}).items()},
        p50_ms=float(raw.p50_ms),
        api_key_env=api_key_env,
        timeout_ms=raw.timeout_ms,
        options=dict(_unset_none(raw.options) or {}),
        keep_alive=None if isinstance(raw.keep_alive, UnsetType) else raw.keep_alive,
        cost=None
        if isinstance(raw.cost, UnsetType)
        else Cost(
            input_per_1m=raw.cost.input_per_1m, output_per_1m=raw.cost.output_per_1m
        ),
        circuit=_circuit(raw.circuit),
        client_options=_client_options(raw.client_options),
    )


def _client_options(raw: RawClientOptions | UnsetType) -> ClientOptions:
    if isinstance(raw, UnsetType):
        return ClientOptions()
    maximum = dict(_unset_none(raw.max) or {})
    allow = raw.allow if isinstance(raw.allow, list) else SAMPLING_OPTIONS
    keep = raw.keep_alive_max
    return ClientOptions(
        allow=frozenset(allow),
        maximum=maximum,
        keep_alive_max_s=None if isinstance(keep, UnsetType) else duration_s(keep),
    )


def _circuit(raw: RawCircuit | UnsetType) -> Circuit:
    if isinstance(raw, UnsetType):
        return Circuit()
    return Circuit(
        failures=raw.failures,
        rate=raw.failure_rate,
        window=raw.window,
        cooldown_s=raw.cooldown_ms / 1000,
        max_cooldown_s=max(raw.max_cooldown_ms, raw.cooldown_ms) / 1000,
        probes=raw.probes,
    )


def _route(index: int, raw: RawRoute) -> Route:
    if isinstance(raw.default, str):
        backend, match = raw.default, None
    else:
        assert isinstance(raw.backend, str) and isinstance(raw.match, RawMatch)
        backend, match = raw.backend, raw.match
    fallback = raw.fallback
    fallbacks = (fallback,) if isinstance(fallback, str) else tuple(fallback or ())
    reason = raw.reason if isinstance(raw.reason, str) else _reason(match)
    return Route(
        index=index,
        name=_unset_none(raw.name),
        match=_match(match) if match is not None else None,
        backend=backend,
        fallbacks=fallbacks,
        latency_budget_ms=_unset_none(raw.latency_budget_ms),
        reason=reason,
    )


def _values(value: str | Sequence[str] | UnsetType) -> list[str] | None:
    """A match value in file order, a scalar as a one-item list."""
    if isinstance(value, UnsetType):
        return None
    return [value] if isinstance(value, str) else list(value)


def _set(value: str | Sequence[str] | UnsetType) -> frozenset[str] | None:
    values = _values(value)
    return frozenset(values) if values is not None else None


def _match(raw: RawMatch) -> Match:
    tokens = raw.tokens if isinstance(raw.tokens, RawTokens) else RawTokens()
    return Match(
        task=_set(raw.task),
        complexity=_set(raw.complexity),
        sensitivity=_set(raw.sensitivity),
        modality=_set(raw.modality),
        family=_set(raw.family),
        model=_set(raw.model),
        tokens_gt=_unset_none(tokens.gt),
        tokens_gte=_unset_none(tokens.gte),
        tokens_lt=_unset_none(tokens.lt),
        tokens_lte=_unset_none(tokens.lte),
    )


def _reason(match: RawMatch | None) -> str:
    """What the route matches, e.g. `task=code, complexity=low`."""
    if match is None:
        return "default route"
    parts = []
    for key in MATCH_LISTS:
        values = _values(getattr(match, key))
        if values is not None:
            parts.append(f"{key}={'|'.join(dict.fromkeys(values))}")
    if not isinstance(match.tokens, UnsetType):
        for op, sign in _TOKEN_OPS:
            bound = getattr(match.tokens, op)
            if isinstance(bound, int):
                parts.append(f"tokens{sign}{bound}")
    return ", ".join(parts)


def _unset_none(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value
