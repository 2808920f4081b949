"""Decide stage: (classification, policy, live estimates) -> Decision.

Pure and synchronous: no I/O, no clock, no randomness; everything it needs is
an argument. Implements DESIGN.md's sequence: first matching route, privacy
pin (fail-closed), latency budget, family -> model resolution. Sensitivity pin
trumps budget; budget trumps preference.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from types import MappingProxyType
from typing import Protocol

import msgspec

from router.classify.types import LEVEL_RANK, Classification
from router.policy.locality import is_cloud_model
from router.policy.model import Backend, Match, Policy, Route


class LiveView(Protocol):
    """What decide reads of live traffic: an expected latency per backend."""

    def expected_ms(self, backend: Backend) -> float:
        """Expected latency of `backend` in ms (live estimate, else its hint)."""
        ...


class HintsOnly:
    """A LiveView with no traffic: every backend is expected at its `p50Ms`."""

    def expected_ms(self, backend: Backend) -> float:
        return backend.p50_ms


HINTS_ONLY = HintsOnly()
EMPTY: Mapping[str, str] = MappingProxyType({})
NONE_REMOTE: Mapping[str, Container[str]] = MappingProxyType({})


class _Either:
    """In either of two containers."""

    __slots__ = ("a", "b")

    def __init__(self, a: Container[str], b: Container[str]) -> None:
        self.a, self.b = a, b

    def __contains__(self, item: object) -> bool:
        return item in self.a or item in self.b


def _unusable(
    remote: Mapping[str, Container[str]], absent: Mapping[str, Container[str]]
) -> Mapping[str, Container[str]]:
    """Per backend, the models a pinned request cannot use: remote or absent."""
    if not absent:
        return remote
    names = set(remote) | set(absent)
    return {n: _Either(remote.get(n, ()), absent.get(n, ())) for n in names}


class Hop(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the dispatch chain: a backend and the model to ask it for."""

    backend: str
    model: str


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    route: int
    route_name: str | None
    reason: str
    chain: tuple[Hop, ...]
    pinned: bool
    latency_shifted: bool
    # The route's budget; dispatch hedges to the next hop when it runs out.
    latency_budget_ms: float | None = None
    # Backends the pin removed; non-empty only when `pinned`.
    withheld: tuple[str, ...] = ()
    # Backends left out because they cannot be used at all: (name, why).
    unavailable: tuple[tuple[str, str], ...] = ()

    @property
    def blocked(self) -> bool:
        """Pinned with no local backend left: the request must not be sent."""
        return self.pinned and not self.chain

    @property
    def backend(self) -> str | None:
        return self.chain[0].backend if self.chain else None

    @property
    def model(self) -> str | None:
        return self.chain[0].model if self.chain else None

    @property
    def fallbacks(self) -> tuple[str, ...]:
        return tuple(hop.backend for hop in self.chain[1:])


def matches(match: Match, c: Classification, model: str) -> bool:
    """Whether a route's conjunction holds for this request."""
    if match.task is not None and c.task not in match.task:
        return False
    if match.complexity is not None and c.complexity not in match.complexity:
        return False
    if match.sensitivity is not None and c.sensitivity not in match.sensitivity:
        return False
    if match.modality is not None and c.modality not in match.modality:
        return False
    if match.family is not None and c.family not in match.family:
        return False
    if match.model is not None and model not in match.model:
        return False
    if match.tokens_gt is not None and not c.tokens > match.tokens_gt:
        return False
    if match.tokens_gte is not None and not c.tokens >= match.tokens_gte:
        return False
    if match.tokens_lt is not None and not c.tokens < match.tokens_lt:
        return False
    return match.tokens_lte is None or c.tokens <= match.tokens_lte


def first_match(policy: Policy, c: Classification, model: str) -> Route:
    for route in policy.routes:
        if route.match is None or matches(route.match, c, model):
            return route
    # The loader guarantees a default route, last; this is unreachable for a
    # compiled policy and kept as a loud failure for a hand-built one.
    raise ValueError(f"{policy.source}: no default route")


def is_pinned(policy: Policy, c: Classification) -> bool:
    return LEVEL_RANK[c.sensitivity] >= LEVEL_RANK[policy.privacy.pin]


def _candidates(backend: Backend, family: str, requested: str) -> Iterator[str]:
    """The models `backend` could be asked for, best first (DESIGN.md step 4)."""
    if requested != "auto" and backend.serves(requested):
        yield requested
    by_family = backend.families.get(family)
    if by_family is not None:
        yield by_family
    if backend.model is not None:
        yield backend.model
    yield from backend.models
    yield from backend.families.values()


def resolve_model(backend: Backend, family: str, requested: str) -> str:
    """Family -> concrete model on `backend` (DESIGN.md step 4)."""
    return next(_candidates(backend, family, requested))


def resolve_local_model(
    backend: Backend, family: str, requested: str, remote: Container[str]
) -> str | None:
    """The best model of `backend` that runs here: not an Ollama cloud model,
    not one found remote; None when it has none."""
    for model in _candidates(backend, family, requested):
        if not is_cloud_model(model) and model not in remote:
            return model
    return None


def _budget_shift(
    names: list[str], policy: Policy, budget: float, live: LiveView
) -> tuple[list[str], str | None]:
    """Move a faster fallback ahead of a primary expected over budget.

    Among fallbacks expected faster than the primary, the first (in policy
    order) that fits the budget wins, else the fastest. The primary stays in
    the chain right after it, so it still serves if the fallback fails.
    """
    primary = names[0]
    expected = {n: live.expected_ms(policy.backends[n]) for n in names}
    if expected[primary] <= budget:
        return names, None
    faster = [n for n in names[1:] if expected[n] < expected[primary]]
    if not faster:
        return names, None
    within = [n for n in faster if expected[n] <= budget]
    chosen = within[0] if within else min(faster, key=lambda n: expected[n])
    rest = [n for n in names if n != chosen]
    note = (
        f"latency: {primary} expected {expected[primary]:.0f}ms over budget "
        f"{budget:.0f}ms, {chosen} ({expected[chosen]:.0f}ms) first"
    )
    return [chosen, *rest], note


def _pin(
    names: list[str],
    policy: Policy,
    c: Classification,
    model: str,
    remote: Mapping[str, Container[str]],
    notes: list[str],
) -> tuple[list[str], dict[str, str], tuple[str, ...]]:
    """DESIGN.md step 2: the local backends of `names` with the model each
    is asked for (one that runs there), and the backends withheld."""
    pin = f"privacy pin ({c.sensitivity} >= {policy.privacy.pin})"
    withheld = [n for n in names if not policy.backends[n].local]
    models: dict[str, str] = {}
    no_model = []
    for n in names:
        b = policy.backends[n]
        if not b.local:
            continue
        local = resolve_local_model(b, c.family, model, remote.get(n, ()))
        if local is None:
            no_model.append(n)
            continue
        models[n] = local
        usual = resolve_model(b, c.family, model)
        if local != usual:
            notes.append(f"{pin}: {n} uses {local}; {usual} does not run here")
    if no_model:
        withheld += no_model
        notes.append(
            f"{pin}: {', '.join(no_model)} has no model that runs here "
            "(Ollama cloud, remote or unpulled models only)"
        )
    kept = [n for n in names if n in models]
    if not kept:
        notes.append(
            f"{pin}: no local backend in this route; the request is refused, not sent"
        )
    elif withheld:
        notes.append(f"{pin}: withheld {', '.join(withheld)}")
    return kept, models, tuple(withheld)


def shadow_hop(
    d: Decision,
    c: Classification,
    policy: Policy,
    candidate: str,
    *,
    model: str = "auto",
    remote: Mapping[str, Container[str]] = NONE_REMOTE,
    absent: Mapping[str, Container[str]] = NONE_REMOTE,
) -> Decision | None:
    """The one-hop decision that mirrors `d` to the A/B `candidate`, with the
    pin applied as decide applies it; None when the pin forbids it or the
    candidate has not pulled its model."""
    notes = [f"A/B shadow of route {d.route} to {candidate}"]
    names = [candidate]
    models: dict[str, str] = {}
    if d.pinned:
        names, models, _ = _pin(
            names, policy, c, model, _unusable(remote, absent), notes
        )
        if not names:
            return None
    backend = policy.backends[candidate]
    hop = Hop(
        backend=candidate,
        model=models.get(candidate) or resolve_model(backend, c.family, model),
    )
    if hop.model in absent.get(candidate, ()):
        return None
    return Decision(
        route=d.route,
        route_name=d.route_name,
        reason="; ".join(notes),
        chain=(hop,),
        pinned=d.pinned,
        latency_shifted=False,
    )


def decide(
    c: Classification,
    policy: Policy,
    live: LiveView = HINTS_ONLY,
    *,
    model: str = "auto",
    disabled: Mapping[str, str] = EMPTY,
    remote: Mapping[str, Container[str]] = NONE_REMOTE,
    absent: Mapping[str, Container[str]] = NONE_REMOTE,
) -> Decision:
    """Route one classified request. `model` is the model the client asked
    for; `disabled` maps backends that cannot be used (e.g. no API key) to
    why, and they are left out of the chain; `remote` holds, per backend,
    the models found to run elsewhere (a pinned request never goes there),
    `absent` the models it is known not to have (not pulled): a hop to one
    is skipped, as the 404 it would get would fall back."""
    route = first_match(policy, c, model)
    names = [route.backend, *route.fallbacks]
    notes = [route.reason]
    pinned = is_pinned(policy, c)
    unavailable = [(n, disabled[n]) for n in names if n in disabled]
    if not pinned and absent:
        for n in names:
            wanted = resolve_model(policy.backends[n], c.family, model)
            if n not in disabled and wanted in absent.get(n, ()):
                unavailable.append((n, f"{wanted} is not pulled there"))
    if unavailable:
        gone = {n for n, _ in unavailable}
        names = [n for n in names if n not in gone]
        notes.append("skipped " + "; ".join(f"{n}: {why}" for n, why in unavailable))

    withheld: tuple[str, ...] = ()
    models: dict[str, str] = {}
    if pinned:
        names, models, withheld = _pin(
            names, policy, c, model, _unusable(remote, absent), notes
        )

    shifted = False
    if names and route.latency_budget_ms is not None and len(names) > 1:
        names, note = _budget_shift(names, policy, route.latency_budget_ms, live)
        if note is not None:
            shifted = True
            notes.append(note)

    chain = tuple(
        Hop(
            backend=n,
            model=models.get(n) or resolve_model(policy.backends[n], c.family, model),
        )
        for n in names
    )
    return Decision(
        route=route.index,
        route_name=route.name,
        reason="; ".join(notes),
        chain=chain,
        pinned=pinned,
        latency_shifted=shifted,
        latency_budget_ms=route.latency_budget_ms,
        withheld=withheld,
        unavailable=tuple(unavailable),
    )
