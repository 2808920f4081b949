"""Policy stage, semantics: the checks that span fields, items or sections.

The partly parsed policy goes in; located Problems come out on the Reporter.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec
from msgspec import UNSET

from router.classify.types import ClassifierConfig
from router.policy.locality import cloud_domain
from router.policy.model import KNOWN_OPTIONS
from router.policy.nodes import Path, Reporter, did_you_mean
from router.policy.schema import (
    BACKEND_NAME,
    CLASSIFIER_PAIRS,
    Parsed,
    RawAB,
    RawBackend,
    RawMatch,
    RawRoute,
)
from router.translate.ollama_options import duration_s


def validate(parsed: Parsed, rep: Reporter) -> None:
    """Report every semantic problem; structural ones are already reported."""
    names = _backends(parsed.backends, rep)
    if parsed.routes is not None:
        _routes(parsed.routes, rep, names)
    if parsed.ab is not None:
        _ab(parsed.ab, rep, names)
    if parsed.classifier is not None:
        _classifier(parsed.classifier, rep)
    if isinstance(parsed.baseline, str):
        _known(parsed.baseline, ("baseline",), rep, names)


def _backends(
    backends: dict[str, RawBackend | None] | None, rep: Reporter
) -> list[str] | None:
    """The declared names, or None when there are none to check against (the
    section is missing, malformed or empty, which is reported already)."""
    if not backends:
        return None
    for name, raw in backends.items():
        path = ("backends", name)
        if not BACKEND_NAME.fullmatch(name):
            msg = f"invalid backend name {name!r}; use letters, digits, _ . -"
            rep.at(path, msg, key=True)
        if raw is None:
            continue
        endpoint, key = raw.endpoint, "endpoint"
        from_env = raw.env_endpoint()
        if from_env is not None:
            endpoint, key = from_env, "endpointEnv"
        if not _is_url(endpoint):
            msg = f"expected an http:// or https:// URL with a host, got {endpoint!r}"
            if from_env is not None:
                msg = f"${raw.endpoint_env}: {msg}"
            rep.at((*path, key), msg)
        elif raw.local is True and (domain := cloud_domain(endpoint)):
            msg = (
                f"{domain} is a hosted service, not this machine or your network; "
                "remove local: true"
            )
            rep.at((*path, "local"), msg)
        circuit = raw.circuit
        if circuit is not UNSET and circuit.max_cooldown_ms < circuit.cooldown_ms:
            rep.at(
                (*path, "circuit", "maxCooldownMs"),
                f"must be at least cooldownMs ({circuit.cooldown_ms:g})",
            )
        if raw.client_options is not UNSET:
            _client_options(raw, (*path, "clientOptions"), rep)
        given = [
            value or (value is UNSET and rep.has_key(path, key))
            for key, value in (
                ("model", raw.model),
                ("models", raw.models),
                ("families", raw.families),
            )
        ]
        if not any(given):
            rep.at(path, "no model; give at least one of model, models, families")
    return list(backends)


def _client_options(raw: RawBackend, path: Path, rep: Reporter) -> None:
    if raw.type != "ollama":
        rep.at(path, "only an ollama backend takes clientOptions", key=True)
        return
    limits = raw.client_options
    assert limits is not UNSET
    for key, names in (("allow", limits.allow), ("max", limits.max)):
        for i, name in enumerate(names or ()):
            if name not in KNOWN_OPTIONS:
                where = (*path, key, i) if key == "allow" else (*path, key, name)
                hint = did_you_mean(name, sorted(KNOWN_OPTIONS))
                rep.at(
                    where, f"{name!r} is not an Ollama option{hint}", key=key == "max"
                )
    keep = limits.keep_alive_max
    if keep is not UNSET and duration_s(keep) is None:
        rep.at(
            (*path, "keepAliveMax"),
            f"expected seconds or a duration such as 30m or 1h, got {keep!r}",
        )


def _is_url(text: str) -> bool:
    try:
        url = urlsplit(text)
        _ = url.port
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.hostname) and text.isprintable()


def _routes(
    routes: list[RawRoute | None], rep: Reporter, names: list[str] | None
) -> None:
    named: dict[str, int] = {}
    for i, raw in enumerate(routes):
        if raw is not None:
            _route(("routes", i), raw, rep, names)
            if isinstance(raw.name, str):
                if raw.name in named:
                    first = named[raw.name]
                    msg = f"route name {raw.name!r} already used by routes[{first}]"
                    rep.at(("routes", i, "name"), msg)
                named.setdefault(raw.name, i)
    if not routes:
        return
    defaults = [i for i in range(len(routes)) if rep.has_key(("routes", i), "default")]
    if not defaults:
        msg = "no default route; end the list with `- default: BACKEND`"
        rep.at(("routes",), msg)
        return
    first = defaults[0]
    for i in defaults[1:]:
        msg = f"more than one default route (the first is routes[{first}])"
        rep.at(("routes", i, "default"), msg, key=True)
    later = [j for j in range(first + 1, len(routes)) if j not in defaults]
    if later:
        msg = f"default route must be last; routes[{later[0]}] after it is never tried"
        rep.at(("routes", first, "default"), msg, key=True)


def _route(path: Path, raw: RawRoute, rep: Reporter, names: list[str] | None) -> None:
    # Roles come from the keys written, so a key whose value had problems
    # (and was left out of `raw`) does not also read as missing.
    written = {k for k in ("match", "backend", "default") if rep.has_key(path, k)}
    primary: tuple[str, Path] | None = None
    if "default" in written:
        if isinstance(raw.default, str):
            primary = (raw.default, (*path, "default"))
        if "match" in written:
            msg = "a route has match + backend or default, not both"
            rep.at((*path, "default"), msg, key=True)
        if "backend" in written:
            msg = "a default route names its backend in default; remove backend"
            rep.at((*path, "backend"), msg, key=True)
    elif "match" in written:
        if isinstance(raw.match, RawMatch):
            _match((*path, "match"), raw.match, rep)
        if isinstance(raw.backend, str):
            primary = (raw.backend, (*path, "backend"))
        elif "backend" not in written:
            rep.at((*path, "backend"), "missing required key 'backend' for this match")
    else:
        rep.at((*path, "match"), "a route needs match + backend, or default")
    chain = [primary] if primary is not None else []
    if isinstance(raw.fallback, str):
        chain.append((raw.fallback, (*path, "fallback")))
    elif isinstance(raw.fallback, list):
        chain.extend((b, (*path, "fallback", j)) for j, b in enumerate(raw.fallback))
    _chain(chain, primary is not None, rep, names)


def _chain(
    chain: list[tuple[str, Path]],
    has_primary: bool,
    rep: Reporter,
    names: list[str] | None,
) -> None:
    seen: dict[str, int] = {}
    for pos, (name, where) in enumerate(chain):
        _known(name, where, rep, names)
        if name in seen:
            if has_primary and seen[name] == 0:
                msg = f"backend {name!r} is already this route's primary"
            else:
                msg = f"backend {name!r} is listed twice in the fallback chain"
            rep.at(where, msg)
        seen.setdefault(name, pos)


def _known(
    name: str, where: Path, rep: Reporter, names: list[str] | None, *, key: bool = False
) -> None:
    if names is not None and name not in names:
        hint = did_you_mean(name, names)
        msg = f"unknown backend {name!r}{hint}; declared: {', '.join(names)}"
        rep.at(where, msg, key=key)


def _match(path: Path, match: RawMatch, rep: Reporter) -> None:
    if all(getattr(match, f) is UNSET for f in match.__struct_fields__):
        msg = "empty match matches every request; write `default: BACKEND` instead"
        rep.at(path, msg)
        return
    tokens = match.tokens
    if tokens is UNSET:
        return
    bounds = [tokens.gt, tokens.gte, tokens.lt, tokens.lte]
    if all(b is UNSET for b in bounds):
        rep.at((*path, "tokens"), "empty tokens bound; give gt, gte, lt or lte")
        return
    low = max(
        tokens.gt + 1 if isinstance(tokens.gt, int) else 0,
        tokens.gte if isinstance(tokens.gte, int) else 0,
    )
    highs = [tokens.lte] if isinstance(tokens.lte, int) else []
    if isinstance(tokens.lt, int):
        highs.append(tokens.lt - 1)
    if highs and low > min(highs):
        rep.at((*path, "tokens"), "no token count satisfies these bounds")


def _ab(ab: RawAB, rep: Reporter, names: list[str] | None) -> None:
    for primary, candidate in ab.candidates.items():
        path = ("ab", "candidates", primary)
        _known(primary, path, rep, names, key=True)
        _known(candidate, path, rep, names)
        if candidate == primary:
            rep.at(path, f"candidate {candidate!r} is its own primary")


def _classifier(config: ClassifierConfig, rep: Reporter) -> None:
    keys = {f.name: f.encode_name for f in msgspec.structs.fields(ClassifierConfig)}
    for attr, key in keys.items():
        value = getattr(config, attr)
        if value < 1:
            rep.at(("classifier", key), f"must be >= 1, got {value}")
    for medium, high in CLASSIFIER_PAIRS:
        low_value, high_value = getattr(config, medium), getattr(config, high)
        if 1 <= high_value < low_value:
            given = rep.has_key(("classifier",), keys[medium])
            where = ("classifier", keys[medium] if given else keys[high])
            msg = f"{keys[medium]} ({low_value}) must be <= {keys[high]} ({high_value})"
            rep.at(where, msg)
