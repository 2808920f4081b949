"""The official openai SDK against the router, on all three backend types.

Chat and Responses, streaming and not, with tools and images; each answer is
checked against what the fake upstream of the chosen backend received.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from openai import AsyncOpenAI

from tests.functional.conftest import Fakes, RouterFor, SdkFor

BACKENDS = ["local", "sarmalink", "frontier"]
CLIENT_KEY = "client-secret-key-never-forwarded"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
TOOLS_CHAT: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "look something up",
            "parameters": {
                "type": "object",
                "properties": {"echo": {"type": "string"}},
            },
        },
    }
]
TOOLS_RESP: list[Any] = [
    {
        "type": "function",
        "name": "lookup",
        "description": "look up",
        "parameters": {"type": "object", "properties": {"echo": {"type": "string"}}},
    }
]


@pytest.fixture
def client_for(fakes: Fakes, router_for: RouterFor, sdk: SdkFor) -> ClientFor:
    async def make(backend: str) -> AsyncOpenAI:
        server = await router_for(fakes.policy(f"  - default: {backend}\n"))
        return sdk(server, api_key=CLIENT_KEY)

    return make


ClientFor = Callable[[str], Awaitable[AsyncOpenAI]]


def only(fakes: Fakes, backend: str) -> None:
    """Exactly one request, at `backend`, and the client's key nowhere."""
    for f in fakes.all():
        assert len(f.requests) == (1 if f.name == backend else 0), f.name
        for r in f.requests:
            assert CLIENT_KEY not in str(r.headers)
    auth = {
        k.lower(): v for k, v in fakes.__dict__[backend].requests[0].headers.items()
    }
    if backend == "local":
        assert "authorization" not in auth
    else:
        assert auth["authorization"] == f"Bearer sk-test-{backend}"


EXPECTED_MODEL = {"local": "llama3.2", "sarmalink": "smart", "frontier": "gpt-4o"}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_chat(fakes: Fakes, client_for: ClientFor, backend: str) -> None:
    client = await client_for(backend)
    raw = await client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hello there"}]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "echo: hello there"
    assert raw.headers["x-llr-backend"] == backend
    assert raw.headers["x-llr-model"] == EXPECTED_MODEL[backend]
    assert raw.headers["x-llr-route"] == "0"
    assert float(raw.headers["x-llr-overhead-ms"]) >= 0
    only(fakes, backend)
    assert fakes.__dict__[backend].models_seen() == [EXPECTED_MODEL[backend]]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_chat_stream(fakes: Fakes, client_for: ClientFor, backend: str) -> None:
    client = await client_for(backend)
    stream = await client.chat.completions.create(
        model="auto",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "stream me"}],
    )
    text, finish, usage = "", None, None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for ch in chunk.choices:
            text += ch.delta.content or ""
            finish = ch.finish_reason or finish
    assert text == "echo: stream me"
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    only(fakes, backend)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_responses(fakes: Fakes, client_for: ClientFor, backend: str) -> None:
    client = await client_for(backend)
    r = await client.responses.create(
        model="auto", instructions="be brief", input="hello responses"
    )
    assert r.output_text == "echo: hello responses"
    assert r.status == "completed"
    only(fakes, backend)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_responses_stream(
    fakes: Fakes, client_for: ClientFor, backend: str
) -> None:
    client = await client_for(backend)
    async with client.responses.stream(
        model="auto", input="stream responses"
    ) as stream:
        deltas = [
            e.delta async for e in stream if e.type == "response.output_text.delta"
        ]
        final = await stream.get_final_response()
    assert "".join(deltas) == "echo: stream responses"
    assert final.output_text == "echo: stream responses"
    only(fakes, backend)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_chat_tools_round_trip(
    fakes: Fakes, client_for: ClientFor, backend: str
) -> None:
    client = await client_for(backend)
    messages: list[Any] = [{"role": "user", "content": "find cats"}]
    first = await client.chat.completions.create(
        model="auto", messages=messages, tools=TOOLS_CHAT
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "lookup"  # type: ignore[union-attr]
    assert '"echo"' in call.function.arguments  # type: ignore[union-attr]
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "42 cats"},
    ]
    second = await client.chat.completions.create(
        model="auto", messages=messages, tools=TOOLS_CHAT
    )
    assert second.choices[0].message.content == "tool said: 42 cats"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_responses_tools_round_trip(
    fakes: Fakes, client_for: ClientFor, backend: str
) -> None:
    client = await client_for(backend)
    first = await client.responses.create(
        model="auto", input="find dogs", tools=TOOLS_RESP
    )
    calls = [o for o in first.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "lookup"
    follow: list[Any] = [
        {"role": "user", "content": "find dogs"},
        {
            "type": "function_call",
            "call_id": calls[0].call_id,
            "name": "lookup",
            "arguments": calls[0].arguments,
        },
        {
            "type": "function_call_output",
            "call_id": calls[0].call_id,
            "output": "7 dogs",
        },
    ]
    second = await client.responses.create(model="auto", input=follow, tools=TOOLS_RESP)
    assert second.output_text == "tool said: 7 dogs"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_images(fakes: Fakes, client_for: ClientFor, backend: str) -> None:
    client = await client_for(backend)
    chat = await client.chat.completions.create(
        model="auto",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": PNG}},
                ],
            }
        ],
    )
    assert chat.choices[0].message.content == "echo: what is this [images: 1]"
    resp = await client.responses.create(
        model="auto",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "and this"},
                    {"type": "input_image", "image_url": PNG},
                ],
            }
        ],
    )
    assert resp.output_text == "echo: and this [images: 1]"
    if backend == "local":
        assert fakes.local.models_seen() == ["gemma3:12b", "gemma3:12b"]


async def test_ollama_options_from_policy_and_client(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    text = fakes.policy("  - default: local\n").replace(
        "    p50Ms: 100\n",
        "    p50Ms: 100\n    options: {num_ctx: 8192, temperature: 0.1}\n    keepAlive: 10m\n"
        "    clientOptions: {max: {num_ctx: 16384}}\n",
    )
    client = sdk(await router_for(text))
    await client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.7,
        extra_body={"options": {"num_ctx": 4096}},
    )
    sent = fakes.local.requests[0].body
    assert sent["options"] == {"num_ctx": 4096, "temperature": 0.7}
    assert sent["keep_alive"] == "10m"
