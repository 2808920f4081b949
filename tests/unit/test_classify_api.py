"""The package surface: implementation selection, classify, classify_json."""

from __future__ import annotations

import logging
import subprocess
import sys

import msgspec
import pytest

import router.classify as classify_pkg
from router.classify import (
    IMPLEMENTATION,
    KERNELS,
    NATIVE_MODULE,
    REFERENCE,
    Classification,
    ClassifierConfig,
    classify,
    classify_json,
    select,
)
from router.classify.kernels import PY_KERNELS
from router.wire import ChatMessage, ChatRequest


def test_exports() -> None:
    assert set(classify_pkg.__all__) >= {
        "IMPLEMENTATION", "Classification", "ClassifierConfig", "classify", "classify_json"
    }  # fmt: skip
    assert IMPLEMENTATION in ("compiled", "reference")
    assert ClassifierConfig().high_tokens == 16000


def test_compiled_is_live_when_built() -> None:
    pytest.importorskip(NATIVE_MODULE)
    pytest.importorskip("hyperscan")
    assert IMPLEMENTATION == "compiled"
    assert KERNELS is not PY_KERNELS


def test_explicit_reference_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        implementation = select({"LLR_NO_EXTENSIONS": "1"})
    assert implementation is REFERENCE
    assert implementation.name == "reference"
    assert implementation.kernels is PY_KERNELS
    assert caplog.records == []


@pytest.mark.parametrize("missing", [NATIVE_MODULE, "hyperscan"])
def test_missing_dependency_warns_once(
    missing: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes the import fail
    with caplog.at_level(logging.WARNING, logger="router.classify"):
        implementation = select({})
    assert implementation is REFERENCE
    assert len(caplog.records) == 1
    assert "using the reference" in caplog.records[0].getMessage()


def test_failing_bank_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip(NATIVE_MODULE)
    from router.classify import _compiled

    def broken(cache_dir: object = None) -> None:
        raise RuntimeError("no database")

    monkeypatch.setattr(_compiled, "load", broken)
    with caplog.at_level(logging.WARNING, logger="router.classify"):
        implementation = select({})
    assert implementation is REFERENCE
    assert "RuntimeError: no database" in caplog.records[0].getMessage()


def test_classify_uses_the_selected_implementation() -> None:
    request = ChatRequest(
        model="gpt-4o", messages=[ChatMessage(role="user", content="hi")]
    )
    c = classify(request)
    assert isinstance(c, Classification)
    assert (c.family, c.task, c.sensitivity) == ("gpt", "general", "low")
    assert c == REFERENCE.classify(request)


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


def test_importing_compiles_nothing() -> None:
    """`llm-router check` imports the package: no bank, no hyperscan."""
    code = (
        "import sys, router.classify, router.policy\n"
        "loaded = {'router.classify._compiled', 'router.classify.bank', 'hyperscan'}\n"
        "assert not loaded & set(sys.modules), loaded & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
