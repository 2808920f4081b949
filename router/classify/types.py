"""Classifier stage types: what goes out of classify and into decide.

`Classification` is the typed result of classifying one request;
`ClassifierConfig` holds the tunable thresholds (the policy's `classifier:`
block), with defaults that are sane without a policy.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Task = Literal["code", "vision", "web_search", "general"]
Level = Literal["low", "medium", "high"]
Modality = Literal["text", "image", "audio", "multi"]
Family = Literal["qwen-coder", "gemma", "llama", "gpt", "sonnet"]

TASKS: tuple[Task, ...] = ("code", "vision", "web_search", "general")
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
MODALITIES: tuple[Modality, ...] = ("text", "image", "audio", "multi")
FAMILIES: tuple[Family, ...] = ("qwen-coder", "gemma", "llama", "gpt", "sonnet")

LEVEL_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """The six dimensions of one request plus the names of what fired."""

    task: Task
    complexity: Level
    sensitivity: Level
    modality: Modality
    family: Family
    tokens: int
    signals: tuple[str, ...] = ()


class ClassifierConfig(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    rename="camel",
):
    """Complexity thresholds; YAML keys are camelCase (`mediumTokens`).

    A request is high when its token estimate reaches `high_tokens` (so with
    the defaults 16k+ tokens is always high), or when it carries at least
    `high_markers` reasoning markers, or at least `high_code_blocks` code
    blocks. It is medium at `medium_tokens`, `medium_markers` or
    `medium_code_blocks`. Otherwise low.
    """

    medium_tokens: int = 1500
    high_tokens: int = 16000
    medium_markers: int = 1
    high_markers: int = 3
    medium_code_blocks: int = 2
    high_code_blocks: int = 5


class Unreadable(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
):
    """The sensitivity of content the classifier cannot read (the policy's
    `privacy.unreadable`): binary or remote files, audio, images. A request
    holding such content is at least this sensitive (signal
    `unreadable:file|audio|image`)."""

    files: Level = "high"
    audio: Level = "high"
    images: Level = "low"
