"""Classifier stage, reference implementation: the specification of classify.

In: a decoded `ChatRequest` or `ResponsesRequest` and the body it was
decoded from. Out: a `Classification`. Pure and deterministic; the patterns
run through Python `re`, token counting and the Luhn check through
`kernels`. Three stages: `gather` (task texts and facts of the request) and
`body.read_body` + `normalize.normalize` (the sensitive text), `scan`
(pattern counts per scope), `assemble` (the dimensions). The compiled
implementation (_compiled.py) has twins of the first two and shares
`assemble`.

Scopes (which text feeds which dimension):
- sensitivity reads everything that would leave the machine: every string
  of the body except the structural ones (body.py says which), object keys
  that carry data, decoded text files; normalised (normalize.py) before it
  is scanned. What cannot be read (binary or remote files, audio, images, a
  body that is not strict JSON) raises it to the policy's
  `privacy.unreadable` level (`Unreadable`; a body: high), signal
  `unreadable:file|audio|image|body`.
- task and complexity markers read the conversation only: user and assistant
  turns, tool calls and tool results. System and developer messages and
  Responses `instructions` are left out on purpose: long boilerplate system
  prompts ("answer in Markdown with code fences") would otherwise make every
  request look like code or reasoning.
- tokens: the texts of the request the router decodes (every message and
  part text, refusals and file names, tool calls and their names, tool
  results, tool definitions with their parameter schemas, Responses
  `instructions` and input items), plus `MESSAGE_OVERHEAD` per message or
  input item and per tool definition. Images and audio add nothing.

Decisions: task is vision (an image part) > code (any `code:` signal) >
web_search (a search tool, `web_search_options`, or a `time:` signal) >
general. Complexity counts reasoning markers as distinct `reasoning:` signals
and code blocks as fence lines / 2 (rounded up), then applies the
`ClassifierConfig` thresholds. Sensitivity is the highest group that fired,
raised (never lowered) by what could not be read and by a valid
`metadata.sensitivity` or header hint. Family comes from the model name,
else from the task.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import methodcaller
from typing import Any, Final, NamedTuple

from router.classify import body as _body
from router.classify.checks import CHECKS
from router.classify.kernels import PY_KERNELS, Kernels
from router.classify.normalize import normalize
from router.classify.patterns import (
    BANK,
    BY_NAME,
    RE_FLAGS,
    SENSITIVE_GROUPS,
    Pattern,
    is_capped,
    needs_positions,
)
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
from router.wire import ChatRequest, ContentPart, ResponsesRequest, Tool

MESSAGE_OVERHEAD: Final = 4
DEFAULT_CONFIG: Final = ClassifierConfig()
DEFAULT_UNREADABLE: Final = Unreadable()
FENCE: Final = "code_fence"  # its count gives the code blocks
_NOT_TASK_ROLES: Final = frozenset({"system", "developer"})
_SEPARATOR: Final = "\n\n"
_COMPILED: Final = tuple((p, re.compile(p.regex, RE_FLAGS)) for p in BANK)
_CONTEXT_RX: Final = {p.name: rx for p, rx in _COMPILED if p.group == "context"}
_TOOL_RX: Final = tuple((p, rx) for p, rx in _COMPILED if p.group == "tool")
TASK_GROUPS: Final = frozenset({"code", "reasoning", "time"})
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


@dataclass
class _Gathered:
    """Task texts of one request, the texts counted, structural facts."""

    task: list[str] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    items: int = 0
    flags: int = 0
    tool_names: list[str] = field(default_factory=list)

    def add(self, text: str | None, *, task: bool, counted: bool = True) -> None:
        if not text:
            return
        if task:
            self.task.append(text)
        if counted:
            self.counted.append(text)

    def add_part(self, part: ContentPart, *, task: bool) -> None:
        self.add(part.text, task=task)
        self.add(part.refusal, task=task)
        self.add(part.filename, task=False)
        if part.image_url is not None or part.type in ("image_url", "input_image"):
            self.flags |= IMAGE
        if part.input_audio is not None or part.type == "input_audio":
            self.flags |= AUDIO

    def add_content(
        self, content: str | list[ContentPart] | None, *, task: bool
    ) -> None:
        if isinstance(content, str):
            self.add(content, task=task)
        elif content is not None:
            for part in content:
                self.add_part(part, task=task)

    def add_tool(self, tool: Tool) -> None:
        self.items += 1
        if tool.type.startswith("web_search"):
            self.flags |= SEARCH_TOOL
        elif tool.type == "code_interpreter":
            self.flags |= CODE_TOOL
        fn = tool.function
        name = fn.name if fn is not None else tool.name
        self.add_function(
            name,
            fn.description if fn is not None else tool.description,
            fn.parameters if fn is not None else tool.parameters,
        )

    def add_function(
        self, name: str | None, description: str | None, params: Any
    ) -> None:
        if name:
            self.tool_names.append(name)
            self.add(name, task=False)
        self.add(description, task=False)
        for text in _strings(params):
            self.add(text, task=False)


def _strings(value: Any) -> Iterable[str]:
    """Every string key and value of a decoded JSON value, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str):
                    yield k
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _gather_chat(request: ChatRequest, out: _Gathered) -> None:
    for message in request.messages:
        out.items += 1
        task = message.role not in _NOT_TASK_ROLES
        out.add_content(message.content, task=task)
        out.add(message.name, task=False)
        calls = [c.function for c in message.tool_calls or () if c.function]
        if message.function_call is not None:
            calls.append(message.function_call)
        for call in calls:
            out.add(call.name, task=False)
            out.add(call.arguments, task=True)
    for tool in request.tools or ():
        out.add_tool(tool)
    for fn in request.functions or ():
        out.items += 1
        out.add_function(fn.name, fn.description, fn.parameters)


def _gather_responses(request: ResponsesRequest, out: _Gathered) -> None:
    if request.instructions:
        out.items += 1
        out.add(request.instructions, task=False)
    if isinstance(request.input, str):
        out.items += 1
        out.add(request.input, task=True)
    else:
        for item in request.input:
            out.items += 1
            task = item.role not in _NOT_TASK_ROLES
            out.add_content(item.content, task=task)
            out.add(item.name, task=False)
            out.add(item.arguments, task=True)
            out.add_content(item.output, task=True)
    for tool in request.tools or ():
        out.add_tool(tool)


def _near(text: str, start: int, pattern: Pattern, ends: list[int]) -> bool:
    """A context match ends at most `window` before `start`, no stop between.
    `ends` are the end offsets of the context's matches, ascending."""
    i = bisect_right(ends, start) - 1
    if i < 0 or start - ends[i] > pattern.window:
        return False
    stop = _GAP_STOPS[pattern.gap_stop]
    return stop is None or stop.search(text, ends[i], start) is None


# Each `gap_stop` as a character class (None: nothing stops), so the gap is
# searched in C rather than a character at a time.
_GAP_STOPS: Final = {
    p.gap_stop: re.compile(f"[{re.escape(p.gap_stop)}]") if p.gap_stop else None
    for p in BANK
}


# Candidates of one sensitive pattern looked at per text (those near their
# keyword, for a `near` pattern), and of all of them per request: past either
# the pattern counts as matched and the request is at least high, signal
# `limit:<pattern>` (and `limit:request` for the request's), fail closed,
# rather than spending more (a short fragment repeated to 1 MB is tens of
# thousands of candidates, each a check).
CHECK_CAP: Final = 256
REQUEST_CAP: Final = 1024
REQUEST: Final = "request"


class Budget:
    """The candidates the capped patterns of one request may still look at,
    and the caps hit so far (pattern names; `REQUEST` once the request's)."""

    __slots__ = ("left", "limits")

    def __init__(self, total: int = REQUEST_CAP) -> None:
        self.left = total
        self.limits: list[str] = []

    @property
    def spent(self) -> bool:
        """The request's cap was hit: capped patterns are no longer counted."""
        return REQUEST in self.limits

    def take(self, pattern: Pattern, checked: int) -> bool:
        """Whether the pattern's `checked`-th candidate may be looked at; when
        not, a cap was hit and is recorded."""
        if checked <= CHECK_CAP and self.left > 0:
            self.left -= 1
            return True
        self.limits.append(pattern.name)
        if self.left == 0:
            self.limits.append(REQUEST)
        return False


class Scanned(NamedTuple):
    """One scope's pattern counts and the caps hit there (`Budget.limits`)."""

    counts: dict[str, int]
    limits: tuple[str, ...] = ()


# The order patterns are counted in, by both implementations: presence-only
# ones first (cheap, and their signal may make a costly one moot), then BANK
# order. A pattern whose signal already fired in the scope is not counted,
# so which candidates the caps see is the same on both paths.
_ORDERED: Final = tuple(sorted(_COMPILED, key=lambda item: needs_positions(item[0])))


def scan(text: str, groups: frozenset[str], kernels: Kernels) -> Scanned:
    """Run the bank's patterns of `groups` over `text`, in `_ORDERED`: pattern
    name -> how many matches counted (capped at `min_count`, except those
    with `every`). A match is looked at when it is near its context (if it
    names one); a capped pattern whose candidates hit a cap (`Budget`)
    counts `min_count` whatever its checks would say."""
    counts: dict[str, int] = {}
    fired: set[str] = set()
    budget = Budget()
    context_ends: dict[str, list[int]] = {}
    for pattern, rx in _ORDERED:
        if pattern.group not in groups:
            continue
        capped = is_capped(pattern)
        if (pattern.signal in fired and not pattern.every) or (capped and budget.spent):
            continue
        check = CHECKS[pattern.validator] if pattern.validator else None
        count = checked = 0
        for m in rx.finditer(text):
            if pattern.near is not None:
                if pattern.near not in context_ends:
                    found = _CONTEXT_RX[pattern.near].finditer(text)
                    context_ends[pattern.near] = [x.end() for x in found]
                if not _near(text, m.start(), pattern, context_ends[pattern.near]):
                    continue
            if capped:
                checked += 1
                if not budget.take(pattern, checked):
                    count = pattern.min_count
                    break
            if check is not None and not check(text, m.start(), m.end(), kernels):
                continue
            count += 1
            if count >= pattern.min_count and not pattern.every:
                break
        if count:
            counts[pattern.name] = count
            if count >= pattern.min_count:
                fired.add(pattern.signal)
    return Scanned(counts, tuple(budget.limits))


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


def gather(
    request: ChatRequest | ResponsesRequest, kernels: Kernels = PY_KERNELS
) -> Gathered:
    """The texts and facts of one request (see the module docstring)."""
    got = _Gathered()
    if isinstance(request, ChatRequest):
        _gather_chat(request, got)
        if request.web_search_options is not None:
            got.flags |= WEB_SEARCH_OPTIONS
    else:
        _gather_responses(request, got)
    return Gathered(
        task=_SEPARATOR.join(got.task),
        tokens=sum(kernels.estimate_tokens(t) for t in got.counted),
        items=got.items,
        flags=got.flags,
        tool_names=tuple(got.tool_names),
    )


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


def classify(
    request: ChatRequest | ResponsesRequest,
    *,
    body: bytes | None = None,
    config: ClassifierConfig = DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = DEFAULT_UNREADABLE,
    kernels: Kernels = PY_KERNELS,
) -> Classification:
    """Classify one decoded request and the body it was decoded from (see
    the module docstring for scopes)."""
    got = gather(request, kernels)
    read = _body.read_body(_body.request_body(request, body))
    return assemble(
        request,
        got,
        read.unreadable,
        scan(normalize(read.text), SENSITIVE_GROUPS, kernels),
        scan(got.task, TASK_GROUPS, kernels),
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )
