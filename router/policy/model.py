"""Compiled policy: the runtime form that `decide` reads.

`load.py` turns YAML into the raw Structs of `schema.py`, validates them and
compiles them into these frozen values: names resolved, defaults applied,
match values turned into frozensets, the default route last.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from router.classify.types import ClassifierConfig, Level, Unreadable

BackendType = Literal["ollama", "openai", "sarmalink"]

DEFAULT_API_KEY_ENV: dict[str, str | None] = {
    "ollama": None,
    "openai": "OPENAI_API_KEY",
    "sarmalink": "SARMALINK_API_KEY",
}
DEFAULT_TIMEOUT_MS = 120_000
DEFAULT_P50_MS = 1000.0


# Ollama's option names today (api/types.go: Options and Runner).
SAMPLING_OPTIONS = frozenset(
    {
        "num_keep",
        "seed",
        "num_predict",
        "top_k",
        "top_p",
        "min_p",
        "typical_p",
        "repeat_last_n",
        "temperature",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
        "stop",
    }
)
RUNNER_OPTIONS = frozenset(
    {
        "num_ctx",
        "num_batch",
        "num_gpu",
        "main_gpu",
        "use_mmap",
        "num_thread",
        "draft_num_predict",
    }
)
KNOWN_OPTIONS = SAMPLING_OPTIONS | RUNNER_OPTIONS


class ClientOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What clients may set on one Ollama backend. By default the sampling
    options, uncapped; no runner option and no `keep_alive`."""

    allow: frozenset[str] = SAMPLING_OPTIONS
    maximum: dict[str, float] = msgspec.field(default_factory=dict)
    # None: a client's keep_alive is dropped (the policy's applies).
    keep_alive_max_s: float | None = None


class Cost(msgspec.Struct, frozen=True, kw_only=True):
    input_per_1m: float
    output_per_1m: float


class Circuit(msgspec.Struct, frozen=True, kw_only=True):
    """A backend's circuit breaker (backends/breaker.py says how it acts)."""

    failures: int = 5  # consecutive health failures that open it
    rate: float = 0.5  # or this share failed of the last `window` attempts
    window: int = 20
    cooldown_s: float = 10.0  # open this long before a probe is let through
    max_cooldown_s: float = 120.0  # the cool-down doubles up to this
    probes: int = 1  # requests let through at a time while half-open


class Backend(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: BackendType
    endpoint: str
    local: bool
    model: str | None = None
    models: tuple[str, ...] = ()
    families: dict[str, str] = msgspec.field(default_factory=dict)
    p50_ms: float = DEFAULT_P50_MS
    api_key_env: str | None = None
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    # Ollama `options` and `keep_alive` the policy sets, and what clients may.
    options: dict[str, Any] = msgspec.field(default_factory=dict)
    keep_alive: str | int | None = None
    client_options: ClientOptions = ClientOptions()
    cost: Cost | None = None
    circuit: Circuit = Circuit()

    def serves(self, model: str) -> bool:
        """Whether `model` is a concrete model this backend is known to serve."""
        return (
            model == self.model
            or model in self.models
            or model in self.families.values()
        )


class Match(msgspec.Struct, frozen=True, kw_only=True):
    """A conjunction; `None` means the dimension is not constrained."""

    task: frozenset[str] | None = None
    complexity: frozenset[str] | None = None
    sensitivity: frozenset[str] | None = None
    modality: frozenset[str] | None = None
    family: frozenset[str] | None = None
    model: frozenset[str] | None = None
    tokens_gt: int | None = None
    tokens_gte: int | None = None
    tokens_lt: int | None = None
    tokens_lte: int | None = None


class Route(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    name: str | None
    match: Match | None  # None only for the default route
    backend: str
    fallbacks: tuple[str, ...] = ()
    latency_budget_ms: float | None = None
    reason: str

    @property
    def is_default(self) -> bool:
        return self.match is None


class Privacy(msgspec.Struct, frozen=True, kw_only=True):
    pin: Level = "high"
    # What classify raises a request holding unreadable content to.
    unreadable: Unreadable = Unreadable()


class AB(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool = False
    sample_rate: float = 0.0
    min_samples: int = 200
    max_concurrent: int = 4
    candidates: dict[str, str] = msgspec.field(default_factory=dict)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    backends: dict[str, Backend]
    routes: tuple[Route, ...]
    privacy: Privacy = Privacy()
    ab: AB = AB()
    classifier: ClassifierConfig = ClassifierConfig()
    baseline: str | None = None
    source: str = "<policy>"
    # sha256 of the policy text, first 16 hex digits: which policy served.
    digest: str = ""
