"""Translate stage, what a client may ask of a local Ollama: the model options
and `keep_alive` of one request, checked against its backend's policy.

Ollama runs on this machine, so some of its options are the machine's
resources (`num_ctx` sizes memory, `num_gpu` and `num_thread` claim devices,
`keep_alive: -1` pins a model in memory for ever). A backend's
`clientOptions` names the options a client may set and caps the numeric
ones; anything else a client sends is dropped, and the reply says which
(`x-llr-dropped-options`, `x-llr-capped-options`). The policy's own
`options` and `keepAlive` are never limited: the operator sets them.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from router.policy.model import ClientOptions

KEEP_ALIVE = "keep_alive"


class Adjusted(msgspec.Struct, kw_only=True):
    """What was taken out of, or lowered in, a client's request."""

    dropped: list[str] = msgspec.field(default_factory=list)
    capped: list[str] = msgspec.field(default_factory=list)

    def headers(self) -> dict[str, str]:
        out = {}
        if self.dropped:
            out["x-llr-dropped-options"] = ", ".join(self.dropped)
        if self.capped:
            out["x-llr-capped-options"] = ", ".join(self.capped)
        return out


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_UNITS["h"] = 3600.0
_PIECE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def duration_s(value: Any) -> float | None:
    """A keep_alive as Ollama reads it, in seconds: a number of seconds or a
    Go duration string (`5m`, `1h30m`); negative means for ever (inf). None
    when Ollama would refuse it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return math.inf if value < 0 else float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value
    sign = 1.0
    if text[0] in "+-":
        sign, text = (-1.0 if text[0] == "-" else 1.0), text[1:]
    if text == "0":
        return 0.0
    total, at = 0.0, 0
    while at < len(text):
        m = _PIECE.match(text, at)
        if m is None:
            return None
        total += float(m[1]) * _UNITS[m[2]]
        at = m.end()
    if at == 0:
        return None
    return math.inf if sign < 0 and total > 0 else total


def limit(
    options: dict[str, Any],
    keep_alive: Any,
    limits: ClientOptions,
    adjusted: Adjusted,
) -> tuple[dict[str, Any], Any]:
    """The client's `options` and `keep_alive` as `limits` allow them; what
    was dropped or capped is noted in `adjusted`. `keep_alive` None: unset."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        if name not in limits.allow and name not in limits.maximum:
            adjusted.dropped.append(name)
            continue
        cap = limits.maximum.get(name)
        if cap is None:
            out[name] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            adjusted.dropped.append(name)
        elif value > cap:
            out[name] = int(cap) if isinstance(value, int) else cap
            adjusted.capped.append(name)
        else:
            out[name] = value
    if keep_alive is None:
        return out, None
    most = limits.keep_alive_max_s
    seconds = duration_s(keep_alive)
    if most is None or seconds is None:
        adjusted.dropped.append(KEEP_ALIVE)
        return out, None
    if seconds > most:
        adjusted.capped.append(KEEP_ALIVE)
        return out, _seconds(most)
    return out, keep_alive


def _seconds(value: float) -> int | float:
    return int(value) if value == int(value) else value
