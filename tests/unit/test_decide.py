"""decide(): first match, fail-closed pin, latency budget, model resolution."""

from __future__ import annotations

import itertools
import random

import pytest

from router.classify.types import (
    FAMILIES,
    LEVELS,
    MODALITIES,
    TASKS,
    Classification,
)
from router.decide import HINTS_ONLY, decide, matches, resolve_model
from router.metrics.live import LiveStats
from router.policy.model import Backend, Match, Policy, Privacy, Route

LOCAL = Backend(
    name="local",
    type="ollama",
    endpoint="http://127.0.0.1:11434",
    local=True,
    families={"qwen-coder": "qwen2.5-coder:7b", "gemma": "gemma3:12b"},
    models=("llama4:16x17b", "qwen2.5-coder:7b", "gemma3:12b"),
    p50_ms=1800,
)
LOCAL2 = Backend(
    name="local2",
    type="ollama",
    endpoint="http://127.0.0.1:11435",
    local=True,
    model="phi4:14b",
    p50_ms=500,
)
SARMA = Backend(
    name="sarmalink",
    type="sarmalink",
    endpoint="https://api.sarmalink.ai/v1",
    local=False,
    model="smart",
    p50_ms=600,
)
FRONTIER = Backend(
    name="frontier",
    type="openai",
    endpoint="https://api.openai.com/v1",
    local=False,
    model="gpt-4o",
    models=("gpt-4o", "gpt-4o-mini"),
    p50_ms=900,
)
BACKENDS = {b.name: b for b in (LOCAL, LOCAL2, SARMA, FRONTIER)}


def route(
    i: int,
    backend: str,
    *fallbacks: str,
    match: Match | None = None,
    budget: float | None = None,
    reason: str = "r",
) -> Route:
    return Route(
        index=i,
        name=None,
        match=match,
        backend=backend,
        fallbacks=fallbacks,
        latency_budget_ms=budget,
        reason=reason,
    )


def policy(*routes: Route, pin: str = "high") -> Policy:
    return Policy(backends=BACKENDS, routes=routes, privacy=Privacy(pin=pin))  # type: ignore[arg-type]


def cls(**kw: object) -> Classification:
    base: dict[str, object] = dict(
        task="general",
        complexity="low",
        sensitivity="low",
        modality="text",
        family="llama",
        tokens=10,
    )
    base.update(kw)
    return Classification(**base)  # type: ignore[arg-type]


SEED = policy(
    route(0, "local", match=Match(sensitivity=frozenset({"high"})), reason="Privacy"),
    route(
        1,
        "local",
        "sarmalink",
        match=Match(task=frozenset({"code"}), complexity=frozenset({"low"})),
        budget=2500,
    ),
    route(2, "local", "sarmalink", budget=1200, reason="default route"),
)


class TestFirstMatch:
    def test_first_matching_route_wins(self) -> None:
        d = decide(cls(task="code", complexity="low", family="qwen-coder"), SEED)
        assert d.route == 1
        assert d.backend == "local"
        assert d.model == "qwen2.5-coder:7b"
        assert d.fallbacks == ("sarmalink",)
        assert not d.latency_shifted

    def test_order_matters_when_two_routes_match(self) -> None:
        d = decide(cls(task="code", complexity="low", sensitivity="high"), SEED)
        assert d.route == 0

    def test_default_when_nothing_matches(self) -> None:
        d = decide(cls(task="general", complexity="high"), SEED)
        assert d.route == 2

    @pytest.mark.parametrize(
        ("field", "values"),
        [
            ("task", TASKS),
            ("complexity", LEVELS),
            ("sensitivity", LEVELS),
            ("modality", MODALITIES),
            ("family", FAMILIES),
        ],
    )
    def test_each_dimension_scalar_and_any_of(
        self, field: str, values: tuple[str, ...]
    ) -> None:
        for k in (1, 2):
            for chosen in itertools.combinations(values, k):
                m = Match(**{field: frozenset(chosen)})  # type: ignore[arg-type]
                for v in values:
                    assert matches(m, cls(**{field: v}), "auto") == (v in chosen)

    def test_conjunction_needs_every_field(self) -> None:
        m = Match(task=frozenset({"code"}), modality=frozenset({"text"}))
        assert matches(m, cls(task="code"), "auto")
        assert not matches(m, cls(task="code", modality="image"), "auto")
        assert not matches(m, cls(task="general"), "auto")

    def test_model_match_uses_requested_model(self) -> None:
        m = Match(model=frozenset({"gpt-4o", "gpt-4o-mini"}))
        assert matches(m, cls(), "gpt-4o")
        assert not matches(m, cls(), "auto")

    @pytest.mark.parametrize(
        ("bound", "value", "tokens", "expected"),
        [
            ("gt", 100, 100, False),
            ("gt", 100, 101, True),
            ("gte", 100, 100, True),
            ("gte", 100, 99, False),
            ("lt", 100, 100, False),
            ("lt", 100, 99, True),
            ("lte", 100, 100, True),
            ("lte", 100, 101, False),
        ],
    )
    def test_token_bounds(
        self, bound: str, value: int, tokens: int, expected: bool
    ) -> None:
        m = Match(**{f"tokens_{bound}": value})  # type: ignore[arg-type]
        assert matches(m, cls(tokens=tokens), "auto") == expected

    def test_token_range(self) -> None:
        m = Match(tokens_gte=10, tokens_lt=20)
        assert [t for t in range(5, 25) if matches(m, cls(tokens=t), "auto")] == list(
            range(10, 20)
        )

    def test_empty_match_object_matches_all(self) -> None:
        assert matches(Match(), cls(), "auto")


class TestPrivacyPin:
    def test_high_strips_cloud_from_chain(self) -> None:
        p = policy(route(0, "local", "sarmalink", "frontier"))
        d = decide(cls(sensitivity="high"), p)
        assert d.pinned
        assert [h.backend for h in d.chain] == ["local"]
        assert d.withheld == ("sarmalink", "frontier")
        assert "withheld sarmalink, frontier" in d.reason

    def test_cloud_primary_with_local_fallback_goes_local(self) -> None:
        p = policy(route(0, "frontier", "sarmalink", "local2"))
        d = decide(cls(sensitivity="high"), p)
        assert d.backend == "local2"
        assert d.model == "phi4:14b"
        assert d.fallbacks == ()

    def test_no_local_left_is_blocked(self) -> None:
        p = policy(route(0, "frontier", "sarmalink"))
        d = decide(cls(sensitivity="high"), p)
        assert d.pinned and d.blocked
        assert d.backend is None and d.model is None and d.chain == ()
        assert "refused" in d.reason

    def test_below_pin_level_is_untouched(self) -> None:
        p = policy(route(0, "frontier", "local"))
        d = decide(cls(sensitivity="medium"), p)
        assert not d.pinned
        assert [h.backend for h in d.chain] == ["frontier", "local"]

    def test_pin_level_medium_pins_medium(self) -> None:
        p = policy(route(0, "frontier", "local"), pin="medium")
        assert decide(cls(sensitivity="medium"), p).backend == "local"
        assert decide(cls(sensitivity="low"), p).backend == "frontier"

    def test_pin_trumps_budget(self) -> None:
        # local is slow and over budget, the cloud fallback is fast, but the
        # request is pinned: it must stay local and not be "shifted".
        p = policy(route(0, "local", "sarmalink", budget=100))
        d = decide(cls(sensitivity="high"), p)
        assert [h.backend for h in d.chain] == ["local"]
        assert not d.latency_shifted

    def test_pin_keeps_budget_between_locals(self) -> None:
        p = policy(route(0, "local", "sarmalink", "local2", budget=1000))
        d = decide(cls(sensitivity="high"), p)
        assert [h.backend for h in d.chain] == ["local2", "local"]
        assert d.latency_shifted

    def test_random_policies_never_leak(self) -> None:
        rng = random.Random(20261125)
        names = list(BACKENDS)
        for _ in range(2000):
            chain = rng.sample(names, rng.randint(1, len(names)))
            budget = rng.choice([None, 50.0, 700.0, 5000.0])
            p = policy(
                route(0, chain[0], *chain[1:], budget=budget), pin=rng.choice(LEVELS)
            )
            c = cls(sensitivity=rng.choice(LEVELS), family=rng.choice(FAMILIES))
            live = LiveStats(clock=lambda: 0.0)
            for n in names:
                live.observe(n, rng.uniform(10, 5000))
            d = decide(c, p, live)
            if d.pinned:
                assert all(BACKENDS[h.backend].local for h in d.chain)
                assert set(d.withheld) == {n for n in chain if not BACKENDS[n].local}
            else:
                assert sorted(h.backend for h in d.chain) == sorted(chain)


CLOUDY = Backend(
    name="cloudy",
    type="ollama",
    endpoint="http://127.0.0.1:11436",
    local=True,
    families={"llama": "gpt-oss:120b-cloud", "gemma": "gemma3:12b"},
    models=("gpt-oss:120b-cloud", "qwen3:8b"),
)
ONLY_CLOUD = Backend(
    name="only_cloud",
    type="ollama",
    endpoint="http://127.0.0.1:11437",
    local=True,
    models=("glm-4.6:cloud", "deepseek-v3.1:671b-cloud"),
)


def cloudy_policy(*routes: Route) -> Policy:
    backends = {**BACKENDS, "cloudy": CLOUDY, "only_cloud": ONLY_CLOUD}
    return Policy(backends=backends, routes=routes)


class TestModelLocality:
    def test_pinned_takes_a_model_that_runs_here(self) -> None:
        d = decide(cls(sensitivity="high"), cloudy_policy(route(0, "cloudy")))
        assert [(h.backend, h.model) for h in d.chain] == [("cloudy", "qwen3:8b")]
        assert "cloudy uses qwen3:8b; gpt-oss:120b-cloud does not run here" in d.reason

    def test_pinned_requested_cloud_model_is_not_kept(self) -> None:
        p = cloudy_policy(route(0, "cloudy"))
        d = decide(cls(sensitivity="high"), p, model="gpt-oss:120b-cloud")
        assert d.model == "qwen3:8b"

    def test_unpinned_keeps_the_route_choice(self) -> None:
        d = decide(cls(), cloudy_policy(route(0, "cloudy")))
        assert d.model == "gpt-oss:120b-cloud" and not d.withheld

    def test_backend_with_only_cloud_models_is_withheld(self) -> None:
        p = cloudy_policy(route(0, "only_cloud", "frontier", "local2"))
        d = decide(cls(sensitivity="high"), p)
        assert [h.backend for h in d.chain] == ["local2"]
        assert set(d.withheld) == {"only_cloud", "frontier"}
        assert "only_cloud has no model that runs here" in d.reason

    def test_only_cloud_models_left_is_blocked(self) -> None:
        d = decide(cls(sensitivity="high"), cloudy_policy(route(0, "only_cloud")))
        assert d.blocked and "no model that runs here" in d.reason

    def test_models_found_remote_are_skipped(self) -> None:
        p = cloudy_policy(route(0, "cloudy"))
        remote = {"cloudy": frozenset({"qwen3:8b"})}
        d = decide(cls(sensitivity="high", family="gemma"), p, remote=remote)
        assert d.model == "gemma3:12b"
        everything = {"cloudy": frozenset({"qwen3:8b", "gemma3:12b"})}
        assert decide(cls(sensitivity="high"), p, remote=everything).blocked

    def test_random_pinned_chains_hold_local_models_only(self) -> None:
        rng = random.Random(7)
        p_names = [*BACKENDS, "cloudy", "only_cloud"]
        for _ in range(500):
            chain = rng.sample(p_names, rng.randint(1, len(p_names)))
            p = cloudy_policy(route(0, chain[0], *chain[1:]))
            requested = rng.choice(["auto", "gpt-oss:120b-cloud", "qwen3:8b"])
            remote = {"cloudy": frozenset(rng.sample(["qwen3:8b", "gemma3:12b"], 1))}
            c = cls(sensitivity="high", family=rng.choice(FAMILIES))
            d = decide(c, p, model=requested, remote=remote)
            for h in d.chain:
                assert p.backends[h.backend].local
                assert not h.model.endswith("cloud")
                assert h.model not in remote.get(h.backend, ())


class TestModelInventory:
    def test_unpinned_hop_to_an_unpulled_model_is_skipped(self) -> None:
        p = policy(route(0, "local", "frontier"))
        absent = {"local": frozenset({"llama4:16x17b"})}
        d = decide(cls(), p, absent=absent)
        assert [h.backend for h in d.chain] == ["frontier"]
        assert d.unavailable == (("local", "llama4:16x17b is not pulled there"),)
        assert "skipped local: llama4:16x17b is not pulled there" in d.reason

    def test_pinned_takes_the_next_pulled_model(self) -> None:
        p = policy(route(0, "local", "frontier"))
        absent = {"local": frozenset({"llama4:16x17b"})}
        d = decide(cls(sensitivity="high"), p, absent=absent)
        assert [(h.backend, h.model) for h in d.chain] == [
            ("local", "qwen2.5-coder:7b")
        ]
        everything = {"local": frozenset(LOCAL.models)}
        assert decide(cls(sensitivity="high"), p, absent=everything).blocked

    def test_random_chains_never_hold_an_absent_model(self) -> None:
        rng = random.Random(3)
        names = list(BACKENDS)
        for _ in range(300):
            chain = rng.sample(names, rng.randint(1, len(names)))
            p = policy(route(0, chain[0], *chain[1:]))
            absent = {
                "local": frozenset(rng.sample(LOCAL.models, rng.randint(0, 3))),
                "local2": frozenset(rng.sample(["phi4:14b"], rng.randint(0, 1))),
            }
            c = cls(
                sensitivity=rng.choice(["low", "high"]), family=rng.choice(FAMILIES)
            )
            d = decide(c, p, absent=absent)
            for h in d.chain:
                assert h.model not in absent.get(h.backend, ())


class TestLatencyBudget:
    def test_hint_over_budget_shifts_to_faster_fallback(self) -> None:
        d = decide(cls(), SEED)  # default route: local 1800 > 1200, sarmalink 600
        assert d.latency_shifted
        assert [h.backend for h in d.chain] == ["sarmalink", "local"]
        assert d.model == "smart"
        assert "over budget" in d.reason

    def test_within_budget_keeps_primary(self) -> None:
        d = decide(cls(task="code", complexity="low"), SEED)  # 1800 <= 2500
        assert not d.latency_shifted and d.backend == "local"

    def test_no_faster_fallback_keeps_primary(self) -> None:
        p = policy(route(0, "sarmalink", "frontier", budget=100))
        d = decide(cls(), p)  # 600 > 100 but frontier is 900: nothing faster
        assert not d.latency_shifted and d.backend == "sarmalink"

    def test_first_fallback_within_budget_wins_over_fastest(self) -> None:
        p = policy(route(0, "local", "frontier", "local2", budget=1000))
        d = decide(cls(), p)  # frontier 900 fits; local2 500 is faster but later
        assert [h.backend for h in d.chain] == ["frontier", "local", "local2"]

    def test_fastest_when_none_fits(self) -> None:
        p = policy(route(0, "local", "frontier", "sarmalink", budget=100))
        d = decide(cls(), p)
        assert [h.backend for h in d.chain] == ["sarmalink", "local", "frontier"]

    def test_no_budget_no_shift(self) -> None:
        p = policy(route(0, "local", "sarmalink"))
        assert not decide(cls(), p).latency_shifted

    def test_live_estimate_shifts_and_unshifts(self) -> None:
        now = [0.0]
        live = LiveStats(clock=lambda: now[0], stale_half_life_s=60)
        p = policy(route(0, "sarmalink", "local2", budget=800))
        assert decide(cls(), p, live).backend == "sarmalink"  # hint 600 fits
        for _ in range(20):
            live.observe("sarmalink", 3000)
        assert decide(cls(), p, live).backend == "local2"  # live 3000 over budget
        live.observe("sarmalink", 300)  # one fast sample barely moves the mean
        assert decide(cls(), p, live).backend == "local2"
        now[0] = 600.0  # ten half-lives without traffic: back to the hint
        d = decide(cls(), p, live)
        assert d.backend == "sarmalink" and not d.latency_shifted

    def test_live_fast_primary_beats_slow_hint(self) -> None:
        live = LiveStats(clock=lambda: 0.0)
        live.observe("local", 200)
        d = decide(cls(), SEED, live)
        assert d.backend == "local" and not d.latency_shifted


class TestModelResolution:
    def test_family_map(self) -> None:
        assert resolve_model(LOCAL, "gemma", "auto") == "gemma3:12b"

    def test_requested_concrete_model_kept_when_served(self) -> None:
        assert resolve_model(LOCAL, "llama", "gemma3:12b") == "gemma3:12b"
        assert resolve_model(FRONTIER, "gpt", "gpt-4o-mini") == "gpt-4o-mini"

    def test_unserved_request_falls_to_family_then_model(self) -> None:
        assert resolve_model(LOCAL, "qwen-coder", "gpt-4o") == "qwen2.5-coder:7b"
        assert resolve_model(SARMA, "gpt", "gpt-4o") == "smart"

    def test_first_of_models_when_no_model(self) -> None:
        assert resolve_model(LOCAL, "llama", "auto") == "llama4:16x17b"

    def test_families_only_backend(self) -> None:
        b = Backend(
            name="x",
            type="ollama",
            endpoint="http://127.0.0.1:1",
            local=True,
            families={"gemma": "gemma3:4b"},
        )
        assert resolve_model(b, "llama", "auto") == "gemma3:4b"

    def test_every_hop_gets_its_own_model(self) -> None:
        p = policy(route(0, "local", "sarmalink", "frontier"))
        d = decide(cls(family="gpt"), p, model="gpt-4o")
        assert [(h.backend, h.model) for h in d.chain] == [
            ("local", "llama4:16x17b"),
            ("sarmalink", "smart"),
            ("frontier", "gpt-4o"),
        ]


def test_decide_is_pure() -> None:
    c = cls(task="code", complexity="low", family="qwen-coder")
    assert decide(c, SEED, HINTS_ONLY) == decide(c, SEED, HINTS_ONLY)


def test_live_warm_start_keeps_recent_and_decays_old() -> None:
    now = [1000.0]
    live = LiveStats(clock=lambda: now[0], stale_half_life_s=60)
    wall = 1_800_000_000.0
    n = live.warm(
        {
            "sarmalink": [(wall - 30, 3000.0), (wall - 10, 3000.0)],
            "local2": [(wall - 3600, 5000.0)],
        },
        wall_now=wall,
    )
    assert n == 3 and live.samples("sarmalink") == 2
    # 10 s old: still mostly the observed 3000 ms, so the budget shifts away
    assert live.expected_ms(SARMA) > 2500
    p = policy(route(0, "sarmalink", "local2", budget=800))
    assert decide(cls(), p, live).backend == "local2"
    # an hour old: decayed back to the hint
    assert abs(live.expected_ms(LOCAL2) - LOCAL2.p50_ms) < 1
