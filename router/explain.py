"""Explain: a classification and a decision rendered as DESIGN.md's JSON.

Shared by `POST /v1/route`, `llm-router explain` and `llm-router test`;
dispatches nothing.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from router.classify import classify, classify_async
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
    return c, _decide(c, request, policy, live, disabled, remote, absent)


async def route_request_async(
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
    """`route_request` for serving: a large body is classified off the event
    loop (`classify_async`), so no one body stalls the others."""
    c = await classify_async(
        request,
        body=body,
        config=policy.classifier,
        sensitivity_hint=sensitivity_hint,
        unreadable=policy.privacy.unreadable,
    )
    return c, _decide(c, request, policy, live, disabled, remote, absent)


def _decide(
    c: Classification,
    request: Request,
    policy: Policy,
    live: LiveView,
    disabled: Mapping[str, str],
    remote: Mapping[str, Container[str]],
    absent: Mapping[str, Container[str]],
) -> Decision:
    return decide(
        c,
        policy,
        live,
        model=request.model,
        disabled=disabled,
        remote=remote,
        absent=absent,
    )


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
