"""Translate stage helpers: typed reads from decoded JSON whose shape is not
guaranteed. A value of the wrong type reads as absent, so a malformed field
can never surface as a TypeError or AttributeError."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def text(obj: Any, key: str) -> str | None:
    """`obj[key]` when `obj` is an object and the value is a string."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


def obj(parent: Any, key: str) -> JSON:
    """`parent[key]` when it is an object, else an empty one."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def items(parent: Any, key: str) -> list[Any]:
    """`parent[key]` when it is a list, else an empty one."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def count(parent: Any, key: str) -> int:
    """A token count: `parent[key]` when it is a non-negative integer, else 0."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0
