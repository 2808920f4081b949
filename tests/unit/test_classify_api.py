"""The package surface: implementation selection, classify, classify_json."""

from __future__ import annotations

import logging
import sys
import types

import msgspec
import pytest

import router.classify as classify_pkg
from router.classify import (
    IMPLEMENTATION,
    NATIVE_MODULE,
    Classification,
    ClassifierConfig,
    classify,
    classify_json,
    select_kernels,
)
from router.classify.kernels import PY_KERNELS
from router.wire import ChatMessage, ChatRequest


def test_exports() -> None:
    assert set(classify_pkg.__all__) >= {
        "IMPLEMENTATION", "Classification", "ClassifierConfig", "classify", "classify_json"
    }  # fmt: skip
    assert IMPLEMENTATION in ("compiled", "reference")
    assert ClassifierConfig().high_tokens == 16000


def test_explicit_reference_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        kernels, name = select_kernels({"LLR_NO_EXTENSIONS": "1"})
    assert (kernels, name) == (PY_KERNELS, "reference")
    assert caplog.records == []


def test_missing_extension_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, NATIVE_MODULE, None)  # makes the import fail
    with caplog.at_level(logging.WARNING, logger="router.classify"):
        kernels, name = select_kernels({})
    assert (kernels, name) == (PY_KERNELS, "reference")
    assert len(caplog.records) == 1


def test_extension_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType(NATIVE_MODULE)
    fake.estimate_tokens = lambda text: 7  # type: ignore[attr-defined]
    fake.luhn_ok = lambda digits: False  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, NATIVE_MODULE, fake)
    kernels, name = select_kernels({"LLR_NO_EXTENSIONS": "0"})
    assert name == "compiled"
    assert kernels.estimate_tokens("anything") == 7


def test_classify_uses_the_selected_kernels() -> None:
    request = ChatRequest(
        model="gpt-4o", messages=[ChatMessage(role="user", content="hi")]
    )
    c = classify(request)
    assert isinstance(c, Classification)
    assert (c.family, c.task, c.sensitivity) == ("gpt", "general", "low")


def test_classify_json_chat() -> None:
    body = msgspec.json.encode(
        {"model": "auto", "messages": [{"role": "user", "content": "SSN 078-05-1123"}]}
    )
    c = classify_json(body, sensitivity_hint="medium")
    assert c.sensitivity == "high" and "hint:header" in c.signals


def test_classify_json_responses() -> None:
    body = msgspec.json.encode(
        {"model": "auto", "input": "Write a Python function to add numbers",
         "instructions": "Be brief.", "metadata": {"sensitivity": "medium"}}
    )  # fmt: skip
    c = classify_json(body, config=ClassifierConfig(medium_tokens=1))
    assert (c.task, c.sensitivity, c.complexity) == ("code", "medium", "medium")


def test_classify_json_rejects_bad_bodies() -> None:
    with pytest.raises(msgspec.DecodeError):
        classify_json(b"{not json")
    with pytest.raises(msgspec.ValidationError):
        classify_json(b'{"model": "auto", "messages": "nope"}')
