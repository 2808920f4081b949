"""Classifier stage, reference implementation: the specification of classify.

In: a decoded `ChatRequest` or `ResponsesRequest` and the body it was
decoded from. Out: a `Classification`. Pure and deterministic; the patterns
run through Python `re`, token counting and the Luhn check through
`kernels`. The stages, as a `scanner.Scanner` (`ReferenceScanner`): `gather`
(task texts and facts of the request) and `body.read_body` +
`normalize.normalize` (the sensitive text), `scan` (pattern counts per
scope); `assemble.assemble` makes the dimensions. The compiled
implementation (_compiled.py) has twins of the stages and shares the rest
(`scanner.classify_with`).

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
from typing import Any, Final

from router.classify import body as _body
from router.classify.assemble import (
    AUDIO,
    CODE_TOOL,
    DEFAULT_CONFIG,
    DEFAULT_UNREADABLE,
    IMAGE,
    SEARCH_TOOL,
    WEB_SEARCH_OPTIONS,
    Gathered,
)
from router.classify.checks import CHECKS
from router.classify.kernels import PY_KERNELS, Kernels
from router.classify.normalize import normalize
from router.classify.patterns import BANK, RE_FLAGS, Pattern, is_capped, needs_positions
from router.classify.scanner import SCOPE_GROUPS, Budget, Scanned, Scope, classify_with
from router.classify.types import Classification, ClassifierConfig, Unreadable
from router.wire import ChatRequest, ContentPart, ResponsesRequest, Tool

_NOT_TASK_ROLES: Final = frozenset({"system", "developer"})
_SEPARATOR: Final = "\n\n"
_COMPILED: Final = tuple((p, re.compile(p.regex, RE_FLAGS)) for p in BANK)
_CONTEXT_RX: Final = {p.name: rx for p, rx in _COMPILED if p.group == "context"}


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


# The order patterns are counted in, by both implementations: presence-only
# ones first (cheap, and their signal may make a costly one moot), then BANK
# order. A pattern whose signal already fired in the scope is not counted,
# so which candidates the caps see is the same on both paths.
_ORDERED: Final = tuple(sorted(_COMPILED, key=lambda item: needs_positions(item[0])))


def scan(text: str, scope: Scope, kernels: Kernels = PY_KERNELS) -> Scanned:
    """Run the bank's patterns of the scope over `text`, in `_ORDERED`: pattern
    name -> how many matches counted (capped at `min_count`, except those
    with `every`). A match is looked at when it is near its context (if it
    names one); a capped pattern whose candidates hit a cap (`Budget`)
    counts `min_count` whatever its checks would say."""
    groups = SCOPE_GROUPS[scope]
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


class ReferenceScanner:
    """The reference's stages as a `scanner.Scanner`: Python gathering, body
    reading, normalising and `scan`, over the given kernels."""

    def __init__(self, kernels: Kernels = PY_KERNELS) -> None:
        self.kernels = kernels

    def gather(self, request: ChatRequest | ResponsesRequest, /) -> Gathered:
        return gather(request, self.kernels)

    def read_body(self, body: bytes, /) -> tuple[str, int]:
        return _body.read_body(body)

    def normalize(self, text: str, /) -> str:
        return normalize(text)

    def scan(self, text: str, scope: Scope, /) -> Scanned:
        return scan(text, scope, self.kernels)


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
    return classify_with(
        ReferenceScanner(kernels),
        request,
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )
