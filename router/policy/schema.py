"""Policy stage, raw form: msgspec Structs that mirror the policy YAML key for key.

`load.py` checks YAML nodes against these types, then compiles them into
`router.policy.model.Policy`. A field left `UNSET` was absent from the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from router.classify.types import (
    ClassifierConfig,
    Family,
    Level,
    Modality,
    Task,
    Unreadable,
)
from router.policy.model import (
    DEFAULT_P50_MS,
    DEFAULT_TIMEOUT_MS,
    BackendType,
)

BACKEND_NAME = re.compile(r"[A-Za-z0-9_.-]+")
BACKEND_TYPES: tuple[BackendType, ...] = ("ollama", "openai", "sarmalink")

Text = Annotated[str, Meta(min_length=1)]
EnvVar = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Count = Annotated[int, Meta(ge=0)]
Millis = Annotated[float, Meta(gt=0)]

TaskMatch = Task | Annotated[list[Task], Meta(min_length=1)]
LevelMatch = Level | Annotated[list[Level], Meta(min_length=1)]
ModalityMatch = Modality | Annotated[list[Modality], Meta(min_length=1)]
FamilyMatch = Family | Annotated[list[Family], Meta(min_length=1)]
ModelMatch = Text | Annotated[list[Text], Meta(min_length=1)]


class _Raw(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    rename="camel",
):
    """Base of every raw Struct: strict, immutable, camelCase keys."""


class RawCost(_Raw, frozen=True):
    """`backends.NAME.cost`: USD per million tokens, for cost and savings."""

    input_per_1m: Annotated[float, Meta(ge=0)] = msgspec.field(name="inputPer1M")
    output_per_1m: Annotated[float, Meta(ge=0)] = msgspec.field(name="outputPer1M")


class RawCircuit(_Raw, frozen=True):
    """`backends.NAME.circuit`: when the backend is skipped as sick."""

    failures: Annotated[int, Meta(ge=1)] = 5
    failure_rate: Annotated[float, Meta(gt=0, le=1)] = 0.5
    window: Annotated[int, Meta(ge=1, le=10_000)] = 20
    cooldown_ms: Millis = 10_000
    max_cooldown_ms: Millis = 120_000
    probes: Annotated[int, Meta(ge=1)] = 1


class RawClientOptions(_Raw, frozen=True):
    """`backends.NAME.clientOptions` (Ollama only): the options a client may
    set (`allow`), the largest value of numeric ones (`max`, which also
    allows them) and the longest `keepAliveMax` (unset: clients may not)."""

    allow: list[Text] | UnsetType = UNSET
    max: dict[Text, Annotated[float, Meta(ge=0)]] | UnsetType = UNSET
    keep_alive_max: str | Annotated[float, Meta(ge=0)] | UnsetType = UNSET


class RawBackend(_Raw, frozen=True):
    """`backends.NAME`: where requests go and which models live there."""

    type: BackendType
    endpoint: str
    # An environment variable that, when set and not empty, replaces
    # `endpoint` (read at start-up and at every reload).
    endpoint_env: EnvVar | UnsetType = UNSET
    model: Text | UnsetType = UNSET
    models: list[Text] | UnsetType = UNSET
    families: dict[Family, Text] | UnsetType = UNSET
    p50_ms: Annotated[float, Meta(ge=0)] = DEFAULT_P50_MS
    local: bool | UnsetType = UNSET
    # null is meaningful here: an OpenAI-compatible server that needs no key.
    api_key_env: EnvVar | UnsetType | None = UNSET
    timeout_ms: Annotated[int, Meta(gt=0)] = DEFAULT_TIMEOUT_MS
    # Ollama only: default model `options` (e.g. num_ctx) and `keep_alive`;
    # a client's own values win.
    options: dict[str, Any] | UnsetType = UNSET
    keep_alive: str | int | UnsetType = UNSET
    client_options: RawClientOptions | UnsetType = UNSET
    cost: RawCost | UnsetType = UNSET
    circuit: RawCircuit | UnsetType = UNSET

    def env_endpoint(self, env: Mapping[str, str] = os.environ) -> str | None:
        """The value of `endpointEnv` when it names a set, non-empty variable."""
        if isinstance(self.endpoint_env, UnsetType):
            return None
        return env.get(self.endpoint_env) or None

    def effective_endpoint(self, env: Mapping[str, str] = os.environ) -> str:
        """Where requests go: `endpointEnv`'s value, else `endpoint`."""
        return self.env_endpoint(env) or self.endpoint


class RawTokens(_Raw, frozen=True):
    """`match.tokens`: bounds on the request's token estimate."""

    gt: Count | UnsetType = UNSET
    gte: Count | UnsetType = UNSET
    lt: Count | UnsetType = UNSET
    lte: Count | UnsetType = UNSET


class RawMatch(_Raw, frozen=True):
    """`routes[i].match`: a conjunction; a list value means any of."""

    task: TaskMatch | UnsetType = UNSET
    complexity: LevelMatch | UnsetType = UNSET
    sensitivity: LevelMatch | UnsetType = UNSET
    modality: ModalityMatch | UnsetType = UNSET
    family: FamilyMatch | UnsetType = UNSET
    model: ModelMatch | UnsetType = UNSET
    tokens: RawTokens | UnsetType = UNSET


class RawRoute(_Raw, frozen=True):
    """`routes[i]`: `match` + `backend`, or `default`, plus the chain after it."""

    match: RawMatch | UnsetType = UNSET
    backend: str | UnsetType = UNSET
    default: str | UnsetType = UNSET
    fallback: str | list[str] | UnsetType = UNSET
    latency_budget_ms: Millis | UnsetType = UNSET
    reason: Text | UnsetType = UNSET
    name: Text | UnsetType = UNSET


class RawPrivacy(_Raw, frozen=True):
    """`privacy`: requests at or above `pin` never leave the machine;
    `unreadable` says how sensitive content the classifier cannot read is."""

    pin: Level = "high"
    unreadable: Unreadable = Unreadable()


class RawAB(_Raw, frozen=True):
    """`ab`: mirror a sample of a primary's traffic to a candidate backend."""

    enabled: bool = False
    sample_rate: Annotated[float, Meta(ge=0, le=1)] = 0.0
    min_samples: Annotated[int, Meta(ge=1)] = 200
    max_concurrent: Annotated[int, Meta(ge=1)] = 4
    candidates: dict[str, str] = msgspec.field(default_factory=dict)


class RawPolicy(_Raw, frozen=True):
    """The whole file. The loader checks it section by section and item by
    item, so that one bad backend or route does not hide the next one."""

    backends: dict[str, RawBackend]
    routes: list[RawRoute]
    privacy: RawPrivacy = RawPrivacy()
    ab: RawAB = RawAB()
    classifier: ClassifierConfig = ClassifierConfig()
    # The backend every request is priced against for `saving_usd`.
    baseline: str | UnsetType = UNSET


MATCH_LISTS: tuple[str, ...] = (
    "task",
    "complexity",
    "sensitivity",
    "modality",
    "family",
    "model",
)
"""The `match` keys whose value is a scalar or a list; `tokens` is the other."""

CLASSIFIER_PAIRS: tuple[tuple[str, str], ...] = (
    ("medium_tokens", "high_tokens"),
    ("medium_markers", "high_markers"),
    ("medium_code_blocks", "high_code_blocks"),
)
"""`ClassifierConfig` thresholds as (medium, high) pairs: medium <= high."""


class Parsed(msgspec.Struct, kw_only=True):
    """The file as far as it parsed, for the checks that span items: an item
    leaves out the keys that had problems (already reported), and is None when
    it could not be built at all."""

    backends: dict[str, RawBackend | None] | None = None
    routes: list[RawRoute | None] | None = None
    privacy: RawPrivacy | None = RawPrivacy()
    ab: RawAB | None = RawAB()
    classifier: ClassifierConfig | None = ClassifierConfig()
    baseline: str | UnsetType | None = UNSET

    def complete(self) -> RawPolicy | None:
        """The whole raw policy, or None while any part of it is missing."""
        if self.backends is None or self.routes is None:
            return None
        backends = {k: v for k, v in self.backends.items() if v is not None}
        routes = [r for r in self.routes if r is not None]
        if len(backends) < len(self.backends) or len(routes) < len(self.routes):
            return None
        if self.privacy is None or self.ab is None or self.classifier is None:
            return None
        if self.baseline is None:
            return None
        return RawPolicy(
            backends=backends,
            routes=routes,
            privacy=self.privacy,
            ab=self.ab,
            classifier=self.classifier,
            baseline=self.baseline,
        )
