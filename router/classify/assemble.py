"""Classifier stage, assembly: what a request's texts held in, the
`Classification` out. Shared by both implementations.

`Gathered` is what gathering reads from a decoded request besides the body
(the task text, the token estimate, the items and facts); `assemble` turns
it, the unreadable bits of the body and the pattern counts of both scopes
(`scanner.Scanned`) into the six dimensions, by the decisions the reference
module's docstring states.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import methodcaller
from typing import TYPE_CHECKING, Final, NamedTuple

from router.classify import body as _body
from router.classify.patterns import BANK, BY_NAME, RE_FLAGS, Pattern
from router.classify.types import (
    LEVEL_RANK,
    LEVELS,
    Classification,
    ClassifierConfig,
    Family,
    Level,
    Modality,
    Task,
    Unreadable,
)
from router.wire import ChatRequest, ResponsesRequest

if TYPE_CHECKING:
    from router.classify.scanner import Scanned

MESSAGE_OVERHEAD: Final = 4
DEFAULT_CONFIG: Final = ClassifierConfig()
DEFAULT_UNREADABLE: Final = Unreadable()
FENCE: Final = "code_fence"  # its count gives the code blocks
_TOOL_RX: Final = tuple(
    (p, re.compile(p.regex, RE_FLAGS)) for p in BANK if p.group == "tool"
)
# Facts of a request, as bits of `Gathered.flags`.
IMAGE: Final = 1
AUDIO: Final = 2
SEARCH_TOOL: Final = 4
CODE_TOOL: Final = 8
WEB_SEARCH_OPTIONS: Final = 16


class Gathered(NamedTuple):
    """What classification reads from a decoded request besides the body.

    `task` is the text of the task scope, joined by a blank line; `tokens`
    the estimate of the counted texts, before the per-item overhead; `items`
    the messages, input items and tool definitions; `flags` the facts above.
    The C twin returns the same fields as a tuple.
    """

    task: str
    tokens: int
    items: int
    flags: int
    tool_names: tuple[str, ...]


def _fired(counts: dict[str, int]) -> list[Pattern]:
    """The signal-bearing patterns that reached their `min_count`."""
    return [
        p
        for name, count in counts.items()
        if (p := BY_NAME[name]).signal and count >= p.min_count
    ]


# Model names repeat, so the family of the short ones is remembered; a client
# may send any string as `model`, so a long one is not kept alive by a cache.
_FAMILY_CACHED_UP_TO: Final = 256


def _family(model: str, task: Task) -> tuple[Family, str]:
    if len(model) <= _FAMILY_CACHED_UP_TO:
        return _cached_family(model, task)
    return _family_of(model, task)


def _family_of(model: str, task: Task) -> tuple[Family, str]:
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(("gpt-", "chatgpt-")) or name.split("-")[0] in (
        "o1",
        "o3",
        "o4",
    ):
        return "gpt", "family:model"
    if name.startswith("claude") and "sonnet" in name:
        return "sonnet", "family:model"
    if name.startswith("qwen") and "coder" in name:
        return "qwen-coder", "family:model"
    if name.startswith("gemma"):
        return "gemma", "family:model"
    if name.startswith("llama"):
        return "llama", "family:model"
    by_task: dict[str, Family] = {"code": "qwen-coder", "vision": "gemma"}
    return by_task.get(task, "llama"), "family:task"


_cached_family = lru_cache(maxsize=1024)(_family_of)


def _complexity(
    tokens: int, markers: int, blocks: int, config: ClassifierConfig, signals: set[str]
) -> Level:
    if tokens >= config.medium_tokens:
        signals.add("complexity:tokens")
    if blocks >= config.medium_code_blocks:
        signals.add("complexity:code_blocks")
    if (
        tokens >= config.high_tokens
        or markers >= config.high_markers
        or blocks >= config.high_code_blocks
    ):
        return "high"
    if (
        tokens >= config.medium_tokens
        or markers >= config.medium_markers
        or blocks >= config.medium_code_blocks
    ):
        return "medium"
    return "low"


def _hint_level(value: object) -> Level | None:
    """A valid level name (any case, surrounding blanks ignored), else None."""
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    return next((level for level in LEVELS if level == low), None)


def _sensitivity(
    fired: list[Pattern],
    request: ChatRequest | ResponsesRequest,
    hint: str | None,
    signals: set[str],
) -> Level:
    groups = {p.group for p in fired}
    level: Level = "high" if "high" in groups else "medium" if groups else "low"
    raises = (
        ("hint:metadata", (request.metadata or {}).get("sensitivity")),
        ("hint:header", hint),
    )
    for signal, value in raises:
        hinted = None if value is None else _hint_level(value)
        if hinted is not None:
            signals.add(signal)
            if LEVEL_RANK[hinted] > LEVEL_RANK[level]:
                level = hinted
    return level


# Signal kinds, as tests run over the signal set in C.
_IS_CODE: Final = methodcaller("startswith", "code:")
_IS_WEB_SEARCH: Final = methodcaller("startswith", ("time:", "task:web_search"))
_IS_REASONING: Final = methodcaller("startswith", "reasoning:")


def _task(flags: int, signals: set[str]) -> Task:
    if flags & IMAGE:
        signals.add("task:image_part")
        return "vision"
    if any(map(_IS_CODE, signals)):
        return "code"
    if any(map(_IS_WEB_SEARCH, signals)):
        return "web_search"
    return "general"


def _unread_level(found: int, unreadable: Unreadable, signals: set[str]) -> Level:
    """The level what could not be read raises sensitivity to."""
    level: Level = "low"
    for bit, kind, at in (
        (_body.FILE, "file", unreadable.files),
        (_body.AUDIO, "audio", unreadable.audio),
        (_body.IMAGE, "image", unreadable.images),
        (_body.BODY, "body", "high"),
    ):
        if found & bit:
            signals.add(f"unreadable:{kind}")
            if LEVEL_RANK[at] > LEVEL_RANK[level]:
                level = at
    return level


def assemble(
    request: ChatRequest | ResponsesRequest,
    got: Gathered,
    unread: int,
    sensitive_scan: Scanned,
    task_scan: Scanned,
    *,
    config: ClassifierConfig,
    sensitivity_hint: str | None,
    unreadable: Unreadable,
) -> Classification:
    """The classification from the gathered facts, the unreadable bits of
    the body (`body.read_body`) and the pattern counts of both scopes
    (`scan` of the sensitive and of the task text)."""
    sensitive = _fired(sensitive_scan.counts)
    task_counts = task_scan.counts
    signals = {p.signal for p in [*sensitive, *_fired(task_counts)]}
    floor = _unread_level(unread, unreadable, signals) if unread else "low"
    if sensitive_scan.limits:
        signals.update(f"limit:{name}" for name in sensitive_scan.limits)
        floor = "high"
    for name in got.tool_names:
        signals.update(p.signal for p, rx in _TOOL_RX if rx.search(name))
    if got.flags & CODE_TOOL:
        signals.add("code:tool")
    if got.flags & SEARCH_TOOL:
        signals.add("task:web_search_tool")
    if got.flags & WEB_SEARCH_OPTIONS:
        signals.add("task:web_search_options")

    sensitivity = _sensitivity(sensitive, request, sensitivity_hint, signals)
    if LEVEL_RANK[floor] > LEVEL_RANK[sensitivity]:
        sensitivity = floor
    task = _task(got.flags, signals)
    modality: Modality = "text"
    if got.flags & AUDIO:
        signals.add("modality:audio")
        modality = "multi" if got.flags & IMAGE else "audio"
    elif got.flags & IMAGE:
        modality = "image"

    tokens = got.tokens + MESSAGE_OVERHEAD * got.items
    markers = sum(map(_IS_REASONING, signals))
    blocks = (task_counts.get(FENCE, 0) + 1) // 2
    complexity = _complexity(tokens, markers, blocks, config, signals)
    family, family_signal = _family(request.model, task)
    signals.add(family_signal)
    return Classification(
        task=task,
        complexity=complexity,
        sensitivity=sensitivity,
        modality=modality,
        family=family,
        tokens=tokens,
        signals=tuple(sorted(signals)),
    )
