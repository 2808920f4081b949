"""`classify_async`: the same classification as `classify`, on the loop for
small bodies and in a worker thread above `OFF_LOOP_BYTES`."""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import pytest

import router.classify as classify_module
from router.classify import (
    OFF_LOOP_BYTES,
    Implementation,
    classify,
    classify_async,
)
from router.classify.kernels import PY_KERNELS
from router.wire import decode_request


def body_of(text: str) -> bytes:
    message = {"role": "user", "content": text}
    return msgspec.json.encode({"model": "auto", "messages": [message]})


@pytest.mark.parametrize("size", [100, OFF_LOOP_BYTES + 100])
async def test_equals_classify(size: int) -> None:
    body = body_of(("SSN 078-05-1120 and some words " * size)[:size])
    request = decode_request(body)
    want = classify(request, body=body)
    assert await classify_async(request, body=body) == want


@pytest.mark.parametrize(
    ("size", "off_loop"), [(10, False), (OFF_LOOP_BYTES + 1, True)]
)
async def test_large_bodies_leave_the_loop(
    monkeypatch: pytest.MonkeyPatch, size: int, off_loop: bool
) -> None:
    threads: list[int] = []
    selected = classify_module.prepare()

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return selected.classify(*args, **kwargs)

    monkeypatch.setattr(
        classify_module,
        "_SELECTED",
        Implementation(selected.name, recording, selected.kernels),
    )
    body = body_of("x" * size)
    await classify_async(decode_request(body), body=body)
    assert (threads[0] != threading.get_ident()) is off_loop


async def test_preparing_selects_in_a_thread_and_waits_on_cleanup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classify_module.prepare()  # what the monkeypatch restores
    gate = threading.Event()
    later = Implementation("later", classify_module.REFERENCE.classify, PY_KERNELS)

    def slow_select() -> Implementation:
        assert gate.wait(10)
        return later

    monkeypatch.setattr(classify_module, "_SELECTED", None)
    monkeypatch.setattr(classify_module, "select", slow_select)
    context = classify_module.preparing(object())
    await context.__anext__()
    assert classify_module._live() is classify_module.REFERENCE
    body = body_of("SSN 078-05-1120")
    assert (await classify_async(decode_request(body), body=body)).sensitivity == "high"
    gate.set()
    with pytest.raises(StopAsyncIteration):
        await context.__anext__()
    assert classify_module._live() is later
