"""Classifier stage: a decoded request (or raw body) in, a `Classification` out.

Picks the implementation once at import: unless `LLR_NO_EXTENSIONS=1`, the C
kernels in `router.classify._native` (token estimate, Luhn) back the
reference classifier and `IMPLEMENTATION` is "compiled"; without them the
pure-Python kernels do and it is "reference" (with one logged warning, unless
the reference was asked for explicitly).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from router.classify import _reference
from router.classify.kernels import PY_KERNELS, Kernels
from router.classify.types import Classification, ClassifierConfig
from router.wire import ChatRequest, ResponsesRequest, decode_request

__all__ = [
    "IMPLEMENTATION",
    "Classification",
    "ClassifierConfig",
    "classify",
    "classify_json",
]

log = logging.getLogger(__name__)

NATIVE_MODULE: Final = "router.classify._native"


@dataclass(frozen=True, slots=True)
class NativeKernels:
    """The two kernel functions of the C extension, as a `Kernels`."""

    estimate_tokens: Callable[[str], int]
    luhn_ok: Callable[[str], bool]


def select_kernels(environ: Mapping[str, str] = os.environ) -> tuple[Kernels, str]:
    """The kernels to use and the implementation name, per the module doc."""
    if environ.get("LLR_NO_EXTENSIONS") == "1":
        return PY_KERNELS, "reference"
    try:
        native = importlib.import_module(NATIVE_MODULE)
    except ImportError as exc:
        log.warning("classifier C extension unavailable (%s); using the reference", exc)
        return PY_KERNELS, "reference"
    return NativeKernels(native.estimate_tokens, native.luhn_ok), "compiled"


KERNELS, IMPLEMENTATION = select_kernels()


def classify(
    request: ChatRequest | ResponsesRequest,
    *,
    config: ClassifierConfig = _reference.DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
) -> Classification:
    """Classify a decoded request with the selected kernels."""
    return _reference.classify(
        request, config=config, sensitivity_hint=sensitivity_hint, kernels=KERNELS
    )


def classify_json(
    body: bytes,
    *,
    config: ClassifierConfig = _reference.DEFAULT_CONFIG,
    sensitivity_hint: str | None = None,
) -> Classification:
    """Decode a chat or responses body (`router.wire.decode_request`, which
    raises msgspec's errors on bad input), then classify it."""
    return classify(
        decode_request(body), config=config, sensitivity_hint=sensitivity_hint
    )
