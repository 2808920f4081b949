"""Faults at the local backend, each with a sensitive and a non-sensitive request.

Asserts exactly which backends received what: a sensitive request that
reaches a non-local fake fails the test, whatever else happened.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import openai
import pytest
from openai import AsyncOpenAI

from tests.functional.conftest import Fakes, RouterFor, SdkFor

CARD = "4111 1111 1111 1111"
ROUTES = """\
  - match: {sensitivity: high}
    backend: local
    fallback: [sarmalink, frontier]
    reason: "Privacy: never leave the machine"
  - default: local
    fallback: sarmalink
"""


def prompt(sensitive: bool) -> str:
    return f"my card is {CARD}, book it" if sensitive else "book a table for two"


def unused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def client(
    fakes: Fakes,
    router_for: RouterFor,
    sdk: SdkFor,
    *,
    down: bool = False,
    routes: str = ROUTES,
    timeout_ms: int = 1000,
) -> AsyncOpenAI:
    text = fakes.policy(routes, faulty=("local",), timeout_ms=timeout_ms)
    if down:
        text = text.replace(fakes.local.url, unused_url())
    return sdk(await router_for(text))


def assert_never_left(fakes: Fakes) -> None:
    for f in (fakes.sarmalink, fakes.frontier):
        assert f.requests == [], f"sensitive request reached {f.name}"
        assert CARD not in f.texts_seen()


async def chat(
    c: AsyncOpenAI, model: str, sensitive: bool, stream: bool
) -> tuple[str, str]:
    """(backend that served, text) for a request expected to succeed."""
    messages: Any = [{"role": "user", "content": prompt(sensitive)}]
    if not stream:
        raw = await c.chat.completions.with_raw_response.create(
            model=model, messages=messages
        )
        return raw.headers["x-llr-backend"], raw.parse().choices[
            0
        ].message.content or ""
    raw_stream = await c.chat.completions.with_raw_response.create(
        model=model, messages=messages, stream=True
    )
    text = ""
    async for chunk in raw_stream.parse():
        for ch in chunk.choices:
            text += ch.delta.content or ""
    return raw_stream.headers["x-llr-backend"], text


FAILS_BEFORE_FIRST_BYTE = [
    "down",
    "error-500",
    "error-503",
    "error-429",
    "hang",
    "garbage",
]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("fault", FAILS_BEFORE_FIRST_BYTE)
async def test_failure_before_first_byte_falls_back(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, fault: str, stream: bool
) -> None:
    c = await client(fakes, router_for, sdk, down=fault == "down", timeout_ms=300)
    model = "auto" if fault == "down" else fault
    backend, text = await chat(c, model, sensitive=False, stream=stream)
    assert backend == "sarmalink"
    assert text.startswith("echo: book a table")
    assert fakes.sarmalink.models_seen() == ["smart"]
    assert fakes.frontier.requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("fault", FAILS_BEFORE_FIRST_BYTE)
async def test_sensitive_failure_is_503_and_stays_local(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, fault: str, stream: bool
) -> None:
    c = await client(fakes, router_for, sdk, down=fault == "down", timeout_ms=300)
    model = "auto" if fault == "down" else fault
    with pytest.raises(openai.APIStatusError) as info:
        await chat(c, model, sensitive=True, stream=stream)
    assert info.value.status_code == 503
    body: Any = info.value.body
    assert body["code"] == "privacy_pinned"
    assert "kept on this machine" in body["message"]
    assert_never_left(fakes)
    if fault != "down":
        assert fakes.local.models_seen() == [fault]


@pytest.mark.parametrize("sensitive", [False, True])
@pytest.mark.parametrize("fault", ["cut-stream", "ollama-error"])
async def test_cut_after_first_byte_ends_stream_with_error(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, fault: str, sensitive: bool
) -> None:
    c = await client(fakes, router_for, sdk)
    stream = await c.chat.completions.create(
        model=fault,
        stream=True,
        messages=[{"role": "user", "content": prompt(sensitive)}],
    )
    got = ""
    with pytest.raises(openai.APIError, match="stream"):
        async for chunk in stream:
            for ch in chunk.choices:
                got += ch.delta.content or ""
    assert got  # some bytes reached the client before the cut
    # No fallback once bytes reached the client, sensitive or not.
    assert fakes.sarmalink.requests == [] and fakes.frontier.requests == []


@pytest.mark.parametrize("sensitive", [False, True])
async def test_cut_responses_stream_ends_with_failed_event(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, sensitive: bool
) -> None:
    c = await client(fakes, router_for, sdk)
    stream = await c.responses.create(
        model="cut-stream", input=prompt(sensitive), stream=True
    )
    # Responses reports a failure in-band, as OpenAI does: an `error` event and
    # a final `response.failed`, not a transport error.
    events = [event.type async for event in stream]
    assert events[-2:] == ["error", "response.failed"]
    assert "response.output_text.delta" in events
    assert fakes.sarmalink.requests == [] and fakes.frontier.requests == []


@pytest.mark.parametrize("sensitive", [False, True])
async def test_client_error_is_returned_unchanged(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, sensitive: bool
) -> None:
    c = await client(fakes, router_for, sdk)
    with pytest.raises(openai.BadRequestError):
        await chat(c, "error-400", sensitive=sensitive, stream=False)
    assert fakes.sarmalink.requests == [] and fakes.frontier.requests == []


@pytest.mark.parametrize("sensitive", [False, True])
async def test_slow_primary_hedged_within_budget_never_across_pin(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, sensitive: bool
) -> None:
    routes = ROUTES.replace(
        "    fallback: sarmalink\n",
        "    fallback: sarmalink\n    latencyBudgetMs: 100\n",
    )
    routes = routes.replace(
        '    reason: "Privacy', '    latencyBudgetMs: 100\n    reason: "Privacy'
    )
    c = await client(fakes, router_for, sdk, routes=routes)
    backend, text = await chat(c, "slow-300", sensitive=sensitive, stream=False)
    if sensitive:
        assert backend == "local" and text.startswith("echo:")
        assert_never_left(fakes)
    else:
        assert backend == "sarmalink"
        assert fakes.local.models_seen() == ["slow-300"]


async def test_sensitive_in_tool_result_pins(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    c = await client(fakes, router_for, sdk)
    messages: Any = [
        {"role": "user", "content": "what is on file?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "db", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": f"card {CARD}"},
    ]
    raw = await c.chat.completions.with_raw_response.create(
        model="auto", messages=messages
    )
    assert raw.headers["x-llr-backend"] == "local"
    assert_never_left(fakes)


async def test_route_without_local_refuses_sensitive(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    c = await client(fakes, router_for, sdk, routes="  - default: frontier\n")
    with pytest.raises(openai.APIStatusError) as info:
        await chat(c, "auto", sensitive=True, stream=False)
    assert info.value.status_code == 503
    assert_never_left(fakes)
    assert fakes.local.requests == []


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_cut_at_passthrough_backend_ends_with_error(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, api: str
) -> None:
    text = fakes.policy("  - default: sarmalink\n", faulty=("sarmalink",))
    c = sdk(await router_for(text))
    if api == "chat":
        stream = await c.chat.completions.create(
            model="cut-stream",
            stream=True,
            messages=[{"role": "user", "content": "hi"}],
        )
        with pytest.raises(openai.APIError, match="stream"):
            async for _ in stream:
                pass
    else:
        events = [
            e
            async for e in await c.responses.create(
                model="cut-stream", input="hi", stream=True
            )
        ]
        types = [e.type for e in events]
        assert "response.output_text.delta" in types
        # As the translated (Ollama) path ends: error, then response.failed,
        # numbered on from the relayed events, naming the backend's response.
        assert types[-2:] == ["error", "response.failed"]
        seqs = [e.sequence_number for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        created = events[0]
        assert created.type == "response.created"
        assert events[-1].response.id == created.response.id
        assert events[-1].response.status == "failed"
    assert fakes.local.requests == [] and fakes.frontier.requests == []


async def test_client_disconnect_cancels_upstream(
    fakes: Fakes, router_for: RouterFor
) -> None:
    text = fakes.policy("  - default: local\n", faulty=("local",), timeout_ms=30000)
    server = await router_for(text)
    upstream = fakes.local.server.runner
    assert upstream is not None and upstream.server is not None
    body = {"model": "hang", "messages": [{"role": "user", "content": "wait"}]}
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            await session.post(
                server.make_url("/v1/chat/completions"),
                json=body,
                timeout=aiohttp.ClientTimeout(total=0.3),
            )
    assert fakes.local.models_seen() == ["hang"]
    deadline = asyncio.get_running_loop().time() + 30
    while upstream.server.connections and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert upstream.server.connections == []


async def test_a_secret_in_a_field_the_router_does_not_name_stays_local(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    """The proxy classifies the raw body: an SSN only in `user` and `stop`
    (fields router.wire does not name) pins the request; with no local
    backend on the route it is a 503, and the cloud backend receives
    nothing."""
    c = await client(fakes, router_for, sdk, routes="  - default: sarmalink\n")
    with pytest.raises(openai.APIStatusError) as info:
        await c.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "book a table for two"}],
            user="ssn 078-05-1120",
            stop=["078-05-1120"],
        )
    assert info.value.status_code == 503
    assert fakes.sarmalink.requests == [] and fakes.frontier.requests == []
