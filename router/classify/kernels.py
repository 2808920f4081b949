"""Classifier stage, hot-path kernels: the two functions a C extension may replace.

`Kernels` is what the reference classifier calls for token estimation and the
Luhn check; `PY_KERNELS` is the pure-Python implementation, the specification
that `router.classify._native` must match on every input.
"""

from __future__ import annotations

from typing import Final, Protocol

from router.classify import tokens, validators


class Kernels(Protocol):
    """`estimate_tokens(text) -> int` and `luhn_ok(digits) -> bool`."""

    def estimate_tokens(self, text: str, /) -> int: ...

    def luhn_ok(self, digits: str, /) -> bool: ...


class PyKernels:
    """The reference kernels: `tokens.estimate_tokens`, `validators.luhn_ok`."""

    name: Final = "py"

    def estimate_tokens(self, text: str, /) -> int:
        return tokens.estimate_tokens(text)

    def luhn_ok(self, digits: str, /) -> bool:
        return validators.luhn_ok(digits)


PY_KERNELS: Final = PyKernels()
