"""The edge's bounds as pure logic: the request gate, the decoded-request
limits and their settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from router.api.limits import Gate, check_request
from router.errors import InvalidRequest, Overloaded
from router.settings import (
    LIMIT_ENV,
    Limits,
    api_keys_from,
    exposure_warning,
    settings_from,
)
from router.wire import decode_request


async def test_gate_admits_up_to_its_limit_then_queues_in_order() -> None:
    gate = Gate(2, 2, wait_s=60)
    await gate.enter()
    await gate.enter()
    order: list[int] = []

    async def waiter(i: int) -> None:
        await gate.enter()
        order.append(i)

    tasks = [asyncio.create_task(waiter(i)) for i in range(2)]
    await asyncio.sleep(0)
    assert gate.active == 2 and gate.waiting == 2
    with pytest.raises(Overloaded) as exc:
        await gate.enter()  # queue full: refused at once
    assert exc.value.status == 503 and exc.value.headers["Retry-After"] == "60"
    gate.leave()
    gate.leave()
    await asyncio.gather(*tasks)
    assert order == [0, 1] and gate.active == 2 and gate.waiting == 0
    gate.leave()
    gate.leave()
    assert gate.active == 0 and gate.rejected == 1


async def test_a_waiter_past_its_wait_is_refused_and_leaves_the_queue() -> None:
    gate = Gate(1, 4, wait_s=0.01)
    await gate.enter()
    with pytest.raises(Overloaded):
        await gate.enter()
    assert gate.waiting == 0 and gate.active == 1
    gate.leave()
    assert gate.active == 0


async def test_a_cancelled_waiter_frees_its_place_and_any_slot_it_was_handed() -> None:
    gate = Gate(1, 4, wait_s=60)
    await gate.enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    first.cancel()  # cancelled while waiting: its place goes
    await asyncio.gather(first, return_exceptions=True)
    assert gate.waiting == 1
    gate.leave()  # handed to `second`, which is cancelled before it runs
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert gate.active == 0 and gate.waiting == 0


def decoded(body: dict[str, object]) -> object:
    return decode_request(msgspec.json.encode(body))


SMALL = Limits(max_messages=3, max_parts=4, max_tools=2, max_model_chars=8)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "x" * 9, "messages": []}, "model"),
        (
            {"model": "a", "messages": [{"role": "user", "content": "hi"}] * 4},
            "messages",
        ),
        (
            {
                "model": "a",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "t"}] * 5}
                ],
            },
            "messages",
        ),
        ({"model": "a", "messages": [], "tools": [{"type": "function"}] * 3}, "tools"),
        ({"model": "a", "messages": [], "functions": [{"name": "f"}] * 3}, "functions"),
        ({"model": "a", "input": [{"role": "user", "content": "hi"}] * 4}, "input"),
        (
            {
                "model": "a",
                "input": [
                    {
                        "type": "function_call_output",
                        "output": [{"type": "input_text", "text": "t"}] * 3,
                    },
                    {
                        "role": "user",
                        "content": [{"type": "input_text", "text": "t"}] * 2,
                    },
                ],
            },
            "input",
        ),
    ],
)
def test_each_count_past_its_limit_is_a_400_naming_the_field(
    body: dict[str, object], param: str
) -> None:
    with pytest.raises(InvalidRequest) as exc:
        check_request(decoded(body), SMALL)  # type: ignore[arg-type]
    assert exc.value.param == param and "at most" in exc.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"model": "a" * 8, "messages": [{"role": "user", "content": "hi"}] * 3},
        {"model": "a", "input": "a string input has no items"},
        {
            "model": "a",
            "input": [{"role": "user", "content": [{"type": "input_text"}] * 4}],
        },
    ],
)
def test_requests_at_the_limits_pass(body: dict[str, object]) -> None:
    check_request(decoded(body), SMALL)  # type: ignore[arg-type]


def test_limits_come_from_the_environment() -> None:
    assert LIMIT_ENV["idle_timeout_s"] == "LLR_IDLE_TIMEOUT_S"
    s = settings_from({"LLR_IDLE_TIMEOUT_S": "2.5", "LLR_MAX_MESSAGES": "10"})
    assert s.limits.idle_timeout_s == 2.5 and s.limits.max_messages == 10
    assert s.limits.max_concurrent == Limits().max_concurrent
    with pytest.raises(SystemExit, match="LLR_MAX_TOOLS"):
        settings_from({"LLR_MAX_TOOLS": "0"})
    with pytest.raises(SystemExit, match="LLR_BODY_TIMEOUT_S"):
        settings_from({"LLR_BODY_TIMEOUT_S": "-1"})


def test_keys_from_the_variable_and_the_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nk-file-1\n\n  k-file-2  \n")
    got = api_keys_from({"LLR_API_KEYS": "k-env, ,", "LLR_API_KEYS_FILE": str(keys)})
    assert got == {"k-env", "k-file-1", "k-file-2"}
    keys.write_text("# only a comment\n")
    with pytest.raises(SystemExit, match="no key"):
        api_keys_from({"LLR_API_KEYS_FILE": str(keys)})
    with pytest.raises(SystemExit, match="LLR_API_KEYS_FILE"):
        api_keys_from({"LLR_API_KEYS_FILE": str(tmp_path / "absent")})


def test_protecting_metrics_needs_keys() -> None:
    with pytest.raises(SystemExit, match="LLR_PROTECT_METRICS"):
        settings_from({"LLR_PROTECT_METRICS": "1"})
    s = settings_from({"LLR_PROTECT_METRICS": "1", "LLR_API_KEYS": "k"})
    assert s.protect_metrics and s.api_keys == {"k"}


@pytest.mark.parametrize(
    ("host", "keys", "warned"),
    [
        ("127.0.0.1", "", False),
        ("::1", "", False),
        ("localhost", "", False),
        ("0.0.0.0", "", True),
        ("10.1.2.3", "", True),
        ("0.0.0.0", "k", False),
    ],
)
def test_serving_beyond_loopback_without_keys_is_warned_of(
    host: str, keys: str, warned: bool
) -> None:
    s = settings_from({"LLR_HOST": host, "LLR_API_KEYS": keys})
    assert (exposure_warning(s) is not None) is warned
