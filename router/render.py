"""Explain output for a terminal: the explain JSON in, aligned text out
(`llm-router explain --format table`)."""

from __future__ import annotations

from typing import Any


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


def explain_table(out: dict[str, Any]) -> str:
    """One `key  value` line per field, under each section's name."""
    sections = [(name, body) for name, body in out.items() if isinstance(body, dict)]
    width = max(len(k) for _, body in sections for k in body)
    lines = []
    for name, body in sections:
        lines.append(name)
        lines.extend(f"  {k.ljust(width)}  {_cell(v)}" for k, v in body.items())
    return "\n".join(lines)
