"""Shared fixtures."""

from __future__ import annotations

import importlib

import pytest

from router.classify.kernels import PY_KERNELS, Kernels


@pytest.fixture(params=["py", "c"])
def kernels(request: pytest.FixtureRequest) -> Kernels:
    """The classifier kernels: the pure-Python reference, then the C
    extension (skipped when it was not built)."""
    if request.param == "py":
        return PY_KERNELS
    try:
        native = importlib.import_module("router.classify._native")
    except ImportError:
        pytest.skip("router.classify._native is not built")
    from router.classify import NativeKernels

    return NativeKernels(native.estimate_tokens, native.luhn_ok)
