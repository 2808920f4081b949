"""Classifier stage: a decoded request (or raw body) in, a `Classification` out.

Two implementations, both importable (as aiohttp does with its parser):
`_reference` (pure Python, the specification) and `_compiled` (hyperscan bank
plus the C extension `router.classify._native`, equal on every input). The
compiled one is picked once per process, by `prepare` (serving runs it in a
thread when it starts, `preparing`, and classifies with the reference until
it is done; else the first classification runs it), unless
`LLR_NO_EXTENSIONS=1`; when the extension, hyperscan or the bank cannot
load, the reference is used and one warning says why. `IMPLEMENTATION` names
the live one ("compiled" or "reference").

`classify_async` is `classify` for the event loop: a body above
`OFF_LOOP_BYTES` is classified in the loop's default executor, so one large
body does not hold up the requests beside it.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

from router.classify import _reference
from router.classify.assemble import DEFAULT_CONFIG, DEFAULT_UNREADABLE
from router.classify.kernels import PY_KERNELS, Kernels
from router.classify.types import Classification, ClassifierConfig, Unreadable
from router.wire import ChatRequest, ResponsesRequest, decode_request

__all__ = [
    "IMPLEMENTATION",
    "Classification",
    "ClassifierConfig",
    "Unreadable",
    "classify",
    "classify_async",
    "classify_json",
    "prepare",
    "preparing",
]

log = logging.getLogger(__name__)

NATIVE_MODULE: Final = "router.classify._native"
REQUIRED: Final = (NATIVE_MODULE, "hyperscan")
# Bodies up to this size are classified on the event loop (the worst of them,
# a candidate flood, takes a few milliseconds); larger ones in a thread: the
# hyperscan scans release the GIL, and the interpreter hands it back to the
# loop at every switch interval while `re` and the checks run.
OFF_LOOP_BYTES: Final = 32 * 1024


class Classify(Protocol):
    def __call__(
        self,
        request: ChatRequest | ResponsesRequest,
        *,
        body: bytes | None = ...,
        config: ClassifierConfig = ...,
        sensitivity_hint: str | None = ...,
        unreadable: Unreadable = ...,
    ) -> Classification: ...


class Implementation(NamedTuple):
    """A classifier, the kernels behind it and its name."""

    name: str
    classify: Classify
    kernels: Kernels


REFERENCE: Final = Implementation(
    "reference", functools.partial(_reference.classify, kernels=PY_KERNELS), PY_KERNELS
)


def select(environ: Mapping[str, str] = os.environ) -> Implementation:
    """The implementation to use, per the module docstring."""
    if environ.get("LLR_NO_EXTENSIONS") == "1":
        return REFERENCE
    try:
        for name in REQUIRED:
            importlib.import_module(name)
        from router.classify import _compiled

        compiled = _compiled.load()
    except Exception as exc:  # any failure to load means the reference, said once
        log.warning(
            "compiled classifier unavailable (%s: %s); using the reference",
            type(exc).__name__,
            exc,
        )
        return REFERENCE
    return Implementation("compiled", compiled, _compiled.KERNELS)


_SELECTED: Implementation | None = None
_SELECTING: Final = threading.Lock()


# Set while `preparing` runs `prepare` in a thread: meanwhile classification
# takes the reference (the same answers, slower) rather than wait.
_IN_BACKGROUND: Final = threading.Event()


def prepare() -> Implementation:
    """Select the implementation now, once per process: the compiled one
    loads its hyperscan bank from the cache or builds it (seconds when the
    cache is empty). Serving does it when it starts (`preparing`); otherwise
    the first classification does, so importing the package compiles
    nothing."""
    global _SELECTED
    if _SELECTED is None:
        with _SELECTING:
            if _SELECTED is None:
                _SELECTED = select()
    return _SELECTED


def _live() -> Implementation:
    """The selected implementation; the reference while `preparing` is
    still selecting; else `prepare`'s."""
    if _SELECTED is not None:
        return _SELECTED
    return REFERENCE if _IN_BACKGROUND.is_set() else prepare()


async def preparing(app: object) -> AsyncIterator[None]:
    """An aiohttp cleanup context (`app.cleanup_ctx.append(preparing)`):
    `prepare` runs in the loop's default executor while the app starts
    serving (requests meanwhile classify with the reference); cleanup waits
    for it."""
    _IN_BACKGROUND.set()
    done = asyncio.get_running_loop().run_in_executor(None, prepare)
    try:
        yield
    finally:
        await done
        _IN_BACKGROUND.clear()


if TYPE_CHECKING:
    IMPLEMENTATION: str
    KERNELS: Kernels


def __getattr__(name: str) -> object:
    """`IMPLEMENTATION` and `KERNELS`, of the implementation `prepare` selects."""
    if name == "IMPLEMENTATION":
        return prepare().name
    if name == "KERNELS":
        return prepare().kernels
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def classify(
    request: ChatRequest | ResponsesRequest,
    *,
    body: bytes | None = None,
    config: ClassifierConfig = DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = DEFAULT_UNREADABLE,
) -> Classification:
    """Classify a decoded request with the selected implementation. `body`
    is the raw body it was decoded from: sensitivity reads every field of
    it, the ones `router.wire` does not name too, so a caller that holds the
    body passes it (without it the request's own encoding is read)."""
    return _live().classify(
        request,
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )


def classify_json(
    body: bytes,
    *,
    config: ClassifierConfig = DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = DEFAULT_UNREADABLE,
) -> Classification:
    """Decode a chat or responses body (`router.wire.decode_request`, which
    raises msgspec's errors on bad input), then classify it."""
    return _live().classify(
        decode_request(body),
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )


async def classify_async(
    request: ChatRequest | ResponsesRequest,
    *,
    body: bytes | None = None,
    config: ClassifierConfig = DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = DEFAULT_UNREADABLE,
    off_loop_bytes: int = OFF_LOOP_BYTES,
) -> Classification:
    """`classify`, run in the running loop's default executor when `body` is
    longer than `off_loop_bytes`, else right here (a thread costs more than
    a small body's classification)."""
    call = functools.partial(
        _live().classify,
        request,
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )
    if body is None or len(body) <= off_loop_bytes:
        return call()
    return await asyncio.get_running_loop().run_in_executor(None, call)
