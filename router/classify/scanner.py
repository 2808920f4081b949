"""Classifier stage, scanning: the interface both implementations provide,
the candidate caps they share, and the one pipeline that runs them.

`Scanner` is what an implementation provides: the twins of gathering,
reading the body, normalising and scanning a scope's text for the bank's
patterns (`Scanned`: the count of each pattern and the caps hit).
`classify_with` runs any scanner through the same stages into
`assemble.assemble`. `Budget` holds the candidate caps.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple, Protocol

from router.classify.assemble import Gathered, assemble
from router.classify.body import request_body
from router.classify.patterns import SENSITIVE_GROUPS, Pattern
from router.classify.types import Classification, ClassifierConfig, Unreadable
from router.wire import ChatRequest, ResponsesRequest

Scope = Literal["sensitive", "task"]
TASK_GROUPS: Final = frozenset({"code", "reasoning", "time"})
# Scope -> the pattern groups it counts.
SCOPE_GROUPS: Final[dict[Scope, frozenset[str]]] = {
    "sensitive": SENSITIVE_GROUPS,
    "task": TASK_GROUPS,
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


class Scanner(Protocol):
    """One implementation's twins of the classifier's stages."""

    def gather(self, request: ChatRequest | ResponsesRequest, /) -> Gathered:
        """The task text, token estimate, items and facts of the request."""
        ...

    def read_body(self, body: bytes, /) -> tuple[str, int]:
        """The sensitive text of a raw body and the bits of what could not
        be read (`body.read_body`)."""
        ...

    def normalize(self, text: str, /) -> str:
        """The text as the patterns read it (`normalize.normalize`)."""
        ...

    def scan(self, text: str, scope: Scope, /) -> Scanned:
        """The counts of the scope's patterns in `text` and the caps hit
        (`_reference.scan` is the specification)."""
        ...


def classify_with(
    scanner: Scanner,
    request: ChatRequest | ResponsesRequest,
    *,
    body: bytes | None,
    config: ClassifierConfig,
    sensitivity_hint: str | None,
    unreadable: Unreadable,
) -> Classification:
    """Classify one decoded request and the raw body it was decoded from
    (None: the request's own encoding) with `scanner`."""
    got = scanner.gather(request)
    text, unread = scanner.read_body(request_body(request, body))
    return assemble(
        request,
        got,
        unread,
        scanner.scan(scanner.normalize(text), "sensitive"),
        scanner.scan(got.task, "task"),
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )
