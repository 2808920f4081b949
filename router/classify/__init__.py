"""Classifier stage: a decoded request (or raw body) in, a `Classification` out.

Two implementations, both importable (as aiohttp does with its parser):
`_reference` (pure Python, the specification) and `_compiled` (hyperscan bank
plus the C extension `router.classify._native`, equal on every input). The
compiled one is picked once at import unless `LLR_NO_EXTENSIONS=1`; when the
extension or hyperscan cannot load, the reference is used and one warning
says why. `IMPLEMENTATION` names the live one ("compiled" or "reference").
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Mapping
from typing import Final, NamedTuple, Protocol

from router.classify import _reference
from router.classify.kernels import PY_KERNELS, Kernels
from router.classify.types import Classification, ClassifierConfig, Unreadable
from router.wire import ChatRequest, ResponsesRequest, decode_request

__all__ = [
    "IMPLEMENTATION",
    "Classification",
    "ClassifierConfig",
    "Unreadable",
    "classify",
    "classify_json",
]

log = logging.getLogger(__name__)

NATIVE_MODULE: Final = "router.classify._native"
REQUIRED: Final = (NATIVE_MODULE, "hyperscan")


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


_SELECTED: Final = select()
IMPLEMENTATION: Final = _SELECTED.name
KERNELS: Final = _SELECTED.kernels


def classify(
    request: ChatRequest | ResponsesRequest,
    *,
    body: bytes | None = None,
    config: ClassifierConfig = _reference.DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = _reference.DEFAULT_UNREADABLE,
) -> Classification:
    """Classify a decoded request with the selected implementation. `body`
    is the raw body it was decoded from: sensitivity reads every field of
    it, the ones `router.wire` does not name too, so a caller that holds the
    body passes it (without it the request's own encoding is read)."""
    return _SELECTED.classify(
        request,
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )


def classify_json(
    body: bytes,
    *,
    config: ClassifierConfig = _reference.DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
    unreadable: Unreadable = _reference.DEFAULT_UNREADABLE,
) -> Classification:
    """Decode a chat or responses body (`router.wire.decode_request`, which
    raises msgspec's errors on bad input), then classify it."""
    return _SELECTED.classify(
        decode_request(body),
        body=body,
        config=config,
        sensitivity_hint=sensitivity_hint,
        unreadable=unreadable,
    )
