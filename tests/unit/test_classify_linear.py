"""Adversarial 200 KB inputs: every pattern is bounded, so classification of
each completes in both implementations (no timing is asserted;
pytest-timeout is the backstop, bench/bench_classify.py measures)."""

from __future__ import annotations

import pytest

from router.classify import Classify
from router.wire import ChatMessage, ChatRequest

SIZE = 200_000
INPUTS = {
    "digits": "7" * SIZE,
    "minus-one": "-1" * (SIZE // 2),
    "a-at": "a@" * (SIZE // 2),
    "separators": "- . : / _ =" * (SIZE // 11),
    "digit groups": "1234-" * (SIZE // 5),
}


@pytest.mark.parametrize("name", INPUTS)
def test_adversarial_input_completes(name: str, classifier: Classify) -> None:
    request = ChatRequest(
        model="auto", messages=[ChatMessage(role="user", content=INPUTS[name])]
    )
    c = classifier(request)
    assert c.sensitivity in ("low", "medium")
    assert c.tokens > 0
