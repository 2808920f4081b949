"""Shared fixtures: the classifier and its kernels, each as the pure-Python
reference ("py") and as the compiled implementation ("c"), so every
classifier test runs both ways (uvloop runs its tests on both loops)."""

from __future__ import annotations

import functools
import importlib
from typing import Any

import pytest

from router.classify import REFERENCE, Classify, select
from router.classify.kernels import PY_KERNELS, Kernels
from router.wire import ChatMessage, ChatRequest


@functools.cache
def compiled() -> Any:
    """The compiled implementation, or None when the extension or hyperscan
    is missing (then the "c" cases skip)."""
    try:
        for name in ("router.classify._native", "hyperscan"):
            importlib.import_module(name)
    except ImportError:
        return None
    implementation = select({})
    return implementation if implementation.name == "compiled" else None


def _implementation(param: str) -> Any:
    if param == "py":
        return REFERENCE
    implementation = compiled()
    if implementation is None:
        pytest.skip("the compiled classifier is not available")
    return implementation


@pytest.fixture(params=["py", "c"])
def kernels(request: pytest.FixtureRequest) -> Kernels:
    """The classifier kernels (token estimate, Luhn)."""
    if request.param == "py":
        return PY_KERNELS
    kernels: Kernels = _implementation(request.param).kernels
    return kernels


@pytest.fixture(params=["py", "c"])
def classifier(request: pytest.FixtureRequest) -> Classify:
    """`classify(request, *, config=..., sensitivity_hint=...)`."""
    classify: Classify = _implementation(request.param).classify
    return classify


def classified(classifier: Classify, text: str) -> tuple[str, tuple[str, ...]]:
    """Sensitivity and signals of one user message."""
    message = ChatMessage(role="user", content=text)
    got = classifier(ChatRequest(model="auto", messages=[message]))
    return got.sensitivity, got.signals
