"""Explain: a classification and a decision rendered as DESIGN.md's JSON.

Shared by `POST /v1/route`, `llm-router explain` and `llm-router test`;
dispatches nothing.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from router.classify import classify
from router.classify.types import Classification
from router.decide import EMPTY, HINTS_ONLY, NONE_REMOTE, Decision, LiveView, decide
from router.policy.model import Policy
from router.wire import Request


def explain_dict(c: Classification, d: Decision) -> dict[str, Any]:
    return {
        "classification": {
            "task": c.task,
            "complexity": c.complexity,
            "sensitivity": c.sensitivity,
            "modality": c.modality,
            "family": c.family,
            "tokens": c.tokens,
            "signals": list(c.signals),
        },
        "decision": {
            "route": d.route,
            "reason": d.reason,
            "backend": d.backend,
            "model": d.model,
            "fallbacks": list(d.fallbacks),
            "pinned": d.pinned,
            "latency_shifted": d.latency_shifted,
        },
    }


def route_request(
    request: Request,
    policy: Policy,
    live: LiveView = HINTS_ONLY,
    *,
    body: bytes | None = None,
    sensitivity_hint: str | None = None,
    disabled: Mapping[str, str] = EMPTY,
    remote: Mapping[str, Container[str]] = NONE_REMOTE,
    absent: Mapping[str, Container[str]] = NONE_REMOTE,
) -> tuple[Classification, Decision]:
    """Classify and decide one decoded request, as serving does. `body` is
    the raw body `request` was decoded from (classify reads it)."""
    c = classify(
        request,
        body=body,
        config=policy.classifier,
        sensitivity_hint=sensitivity_hint,
        unreadable=policy.privacy.unreadable,
    )
    d = decide(
        c,
        policy,
        live,
        model=request.model,
        disabled=disabled,
        remote=remote,
        absent=absent,
    )
    return c, d


def explain(
    request: Request,
    policy: Policy,
    live: LiveView = HINTS_ONLY,
    *,
    body: bytes | None = None,
    sensitivity_hint: str | None = None,
    disabled: Mapping[str, str] = EMPTY,
    remote: Mapping[str, Container[str]] = NONE_REMOTE,
    absent: Mapping[str, Container[str]] = NONE_REMOTE,
) -> dict[str, Any]:
    c, d = route_request(
        request,
        policy,
        live,
        body=body,
        sensitivity_hint=sensitivity_hint,
        disabled=disabled,
        remote=remote,
        absent=absent,
    )
    return explain_dict(c, d)
