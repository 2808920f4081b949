"""The fake upstream (bench/fake_upstream.py): every endpoint, stream and not,
every behaviour, recording, and the official `openai` SDK as its client."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openai import AsyncOpenAI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "fake_upstream.py"


def _load() -> ModuleType:
    # Deliberately not registered in sys.modules: loading by path must suffice.
    spec = importlib.util.spec_from_file_location("fake_upstream_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake = _load()

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]
CHAT, RESPONSES, OLLAMA = "/v1/chat/completions", "/v1/responses", "/api/chat"
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
RESPONSE_TOOLS = [{"type": "function", "name": "lookup", "parameters": {}}]
OPENAI_TOOLS: Any = [
    {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object"}},
    }
]


@pytest.fixture
async def client(aiohttp_client: MakeClient) -> Client:
    return await aiohttp_client(fake.make_app())


def chat(model: str = "m", text: str = "hello world", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def responses(
    model: str = "m", text: str = "hello world", **extra: Any
) -> dict[str, Any]:
    return {"model": model, "input": text, **extra}


def request_for(path: str, model: str, stream: bool) -> dict[str, Any]:
    """A minimal request of the endpoint's own shape."""
    body = responses(model) if path == RESPONSES else chat(model)
    return {**body, "stream": stream}


def sse_data(text: str) -> list[Any]:
    return [
        orjson.loads(line[6:]) if line != "data: [DONE]" else "[DONE]"
        for line in text.split("\n")
        if line.startswith("data: ")
    ]


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n")
        out.append((name.removeprefix("event: "), orjson.loads(data[6:])))
    return out


def ndjson(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines()]


async def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body)
    assert response.status == 200, await response.text()
    return await response.json()


# --- OpenAI chat completions -------------------------------------------------


@pytest.mark.parametrize("path", [CHAT, "/chat/completions"])
async def test_chat_json_is_a_chat_completion(client: Client, path: str) -> None:
    body = await post(client, path, chat("llama3.2", "x" * 40))
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "llama3.2"
    choice = body["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "echo: " + "x" * 40,
        "refusal": None,
    }
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 11,
        "total_tokens": 21,
    }


async def test_chat_stream_is_role_then_content_then_finish_usage_done(
    client: Client,
) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})
    response = await client.post(CHAT, json=body)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    text = await response.text()
    assert text.endswith("data: [DONE]\n\n")
    chunks = sse_data(text)
    assert chunks[-1] == "[DONE]"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-3]]
    assert len(contents) > 1
    assert "".join(contents) == "echo: hello world"
    assert chunks[-3]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-2]["choices"] == []
    assert chunks[-2]["usage"]["completion_tokens"] == len("echo: hello world") // 4
    assert {c["object"] for c in chunks[:-1]} == {"chat.completion.chunk"}


async def test_chat_stream_without_usage_has_no_usage_chunk(client: Client) -> None:
    chunks = sse_data(await (await client.post(CHAT, json=chat(stream=True))).text())
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks[:-1])


async def test_chat_with_tools_calls_the_first_tool(client: Client) -> None:
    second = {"type": "function", "function": {"name": "other"}}
    body = await post(client, CHAT, chat(text="y" * 80, tools=[*TOOLS, second]))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "lookup"
    assert orjson.loads(call["function"]["arguments"]) == {"echo": "y" * 50}


async def test_chat_stream_tool_call_arguments_arrive_in_pieces(client: Client) -> None:
    chunks = sse_data(
        await (await client.post(CHAT, json=chat(tools=TOOLS, stream=True))).text()
    )
    head = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert head["function"] == {"name": "lookup", "arguments": ""}
    pieces = [
        c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
        for c in chunks[1:-2]
    ]
    assert len(pieces) > 1
    assert orjson.loads("".join(pieces)) == {"echo": "hello world"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


async def test_chat_after_a_tool_result_answers_with_it(client: Client) -> None:
    messages = [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "tool", "tool_call_id": "c1", "content": "42 degrees"},
    ]
    body = await post(
        client, CHAT, {"model": "m", "messages": messages, "tools": TOOLS}
    )
    assert body["choices"][0]["message"]["content"] == "tool said: 42 degrees"
    assert body["choices"][0]["finish_reason"] == "stop"


async def test_chat_counts_images_and_echoes_the_last_user_text(client: Client) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "first"}, image]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "z" * 300}, image]},
    ]
    body = await post(client, CHAT, {"model": "m", "messages": messages})
    assert (
        body["choices"][0]["message"]["content"]
        == "echo: " + "z" * 200 + " [images: 2]"
    )
    assert body["usage"]["prompt_tokens"] == len("be brieffirstok" + "z" * 300) // 4


# --- OpenAI Responses ---------------------------------------------------------


@pytest.mark.parametrize("path", [RESPONSES, "/responses"])
async def test_responses_json_is_a_response(client: Client, path: str) -> None:
    body = await post(client, path, responses("gpt-4o-mini", instructions="abcd"))
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["model"] == "gpt-4o-mini"
    (item,) = body["output"]
    assert item["type"] == "message" and item["role"] == "assistant"
    assert item["content"][0]["type"] == "output_text"
    assert item["content"][0]["text"] == "echo: hello world"
    assert body["usage"]["input_tokens"] == len("abcdhello world") // 4
    assert body["usage"]["output_tokens"] == len("echo: hello world") // 4


async def test_responses_stream_is_typed_events_in_order(client: Client) -> None:
    response = await client.post(RESPONSES, json=responses(stream=True))
    events = sse_events(await response.text())
    names = [name for name, _ in events]
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    deltas = [
        data["delta"] for name, data in events if name == "response.output_text.delta"
    ]
    assert len(deltas) > 1 and "".join(deltas) == "echo: hello world"
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [data["type"] for _, data in events] == names
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert (
        events[-1][1]["response"]["output"][0]["content"][0]["text"]
        == "echo: hello world"
    )


async def test_responses_tool_call_and_tool_output(client: Client) -> None:
    body = await post(client, RESPONSES, responses(tools=RESPONSE_TOOLS))
    (call,) = body["output"]
    assert call["type"] == "function_call" and call["name"] == "lookup"
    assert orjson.loads(call["arguments"]) == {"echo": "hello world"}
    items = [
        {"role": "user", "content": "look it up"},
        {
            "type": "function_call",
            "call_id": call["call_id"],
            "name": "lookup",
            "arguments": "{}",
        },
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
    ]
    body = await post(
        client, RESPONSES, {"model": "m", "input": items, "tools": RESPONSE_TOOLS}
    )
    assert body["output"][0]["content"][0]["text"] == "tool said: sunny"


async def test_responses_count_input_images(client: Client) -> None:
    content = [
        {"type": "input_text", "text": "what is this"},
        {"type": "input_image", "image_url": "data:image/png;base64,AA=="},
    ]
    body = await post(
        client,
        RESPONSES,
        {"model": "m", "input": [{"role": "user", "content": content}]},
    )
    assert body["output"][0]["content"][0]["text"] == "echo: what is this [images: 1]"


# --- Ollama native ------------------------------------------------------------


async def test_ollama_streams_ndjson_by_default(client: Client) -> None:
    response = await client.post(OLLAMA, json=chat("llama3.2", "x" * 40))
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = ndjson(await response.text())
    *parts, final = lines
    assert len(parts) > 1
    assert all(p["done"] is False and p["model"] == "llama3.2" for p in parts)
    assert "".join(p["message"]["content"] for p in parts) == "echo: " + "x" * 40
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["prompt_eval_count"] == 10 and final["eval_count"] == 11
    assert final["total_duration"] > 0 and "created_at" in final


async def test_ollama_without_stream_answers_one_object(client: Client) -> None:
    body = await post(client, OLLAMA, chat("llama3.2", stream=False))
    assert body["message"] == {"role": "assistant", "content": "echo: hello world"}
    assert body["done"] is True and body["eval_count"] == len("echo: hello world") // 4


@pytest.mark.parametrize("stream", [False, True])
async def test_ollama_tool_calls_carry_object_arguments(
    client: Client, stream: bool
) -> None:
    response = await client.post(OLLAMA, json=chat(tools=TOOLS, stream=stream))
    first = ndjson(await response.text())[0]
    (call,) = first["message"]["tool_calls"]
    assert call["id"].startswith("call_")
    assert call["function"] == {
        "index": 0,
        "name": "lookup",
        "arguments": {"echo": "hello world"},
    }


async def test_ollama_counts_images_and_reads_tool_results(client: Client) -> None:
    messages = [{"role": "user", "content": "see", "images": ["AA==", "BB=="]}]
    body = await post(
        client, OLLAMA, {"model": "m", "messages": messages, "stream": False}
    )
    assert body["message"]["content"] == "echo: see [images: 2]"
    messages.append({"role": "tool", "content": "done", "tool_name": "lookup"})
    body = await post(
        client, OLLAMA, {"model": "m", "messages": messages, "stream": False}
    )
    assert body["message"]["content"] == "tool said: done"


async def test_missing_models_are_404_in_each_dialect(client: Client) -> None:
    response = await client.post(OLLAMA, json=chat("missing-llama"))
    assert response.status == 404
    assert await response.json() == {"error": "model 'missing-llama' not found"}
    response = await client.post(CHAT, json=chat("missing-gpt"))
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "model_not_found"


async def test_model_lists(client: Client) -> None:
    tags = await (await client.get("/api/tags")).json()
    assert "llama3.2:latest" in [m["name"] for m in tags["models"]]
    for path in ("/v1/models", "/models"):
        listing = await (await client.get(path)).json()
        assert listing["object"] == "list"
        assert {m["object"] for m in listing["data"]} == {"model"}


async def test_answers_are_deterministic(client: Client) -> None:
    for path, body in ((CHAT, chat(stream=True)), (RESPONSES, responses(stream=True))):
        first = await (await client.post(path, json=body)).read()
        assert await (await client.post(path, json=body)).read() == first


async def test_a_body_that_is_not_a_request_is_400(client: Client) -> None:
    response = await client.post(CHAT, data=b"{not json")
    assert response.status == 400
    assert "error" in await response.json()
    response = await client.post(OLLAMA, json=[1, 2])
    assert response.status == 400


# --- Behaviours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama3.2", None),
        ("slow-200", ("slow", 200)),
        ("slow-200-llama3.2", ("slow", 200)),
        ("slow-stream-15", ("slow-stream", 15)),
        ("error-500", ("error", 500)),
        ("error-429-x", ("error", 429)),
        ("error-200", None),
        ("error-600", None),
        ("cut-stream", ("cut-stream", 0)),
        ("hang-forever", ("hang", 0)),
        ("garbage", ("garbage", 0)),
        ("ollama-error", ("ollama-error", 0)),
        ("missing-model", ("missing", 0)),
        ("missing", None),
    ],
)
def test_behaviour_names(name: str, expected: tuple[str, int] | None) -> None:
    assert fake.parse_behaviour(name) == expected


@pytest.mark.parametrize(
    ("path", "stream"),
    [(CHAT, False), (CHAT, True), (RESPONSES, True), (OLLAMA, False)],
)
async def test_slow_delays_the_headers(client: Client, path: str, stream: bool) -> None:
    started = time.monotonic()
    response = await client.post(path, json=request_for(path, "slow-60-x", stream))
    assert time.monotonic() - started >= 0.06
    assert response.status == 200
    text = await response.text()
    assert "echo:" in text
    assert not stream or "[DONE]" in text or "response.completed" in text


async def test_slow_stream_sleeps_between_chunks(client: Client) -> None:
    started = time.monotonic()
    text = await (await client.post(OLLAMA, json=chat("slow-stream-20"))).text()
    gaps = len(ndjson(text)) - 1
    assert gaps >= 2
    assert time.monotonic() - started >= gaps * 0.02


@pytest.mark.parametrize("code", [500, 503, 429, 401])
async def test_error_codes_in_openai_shape(client: Client, code: int) -> None:
    for path in (CHAT, RESPONSES):
        response = await client.post(
            path, json=request_for(path, f"error-{code}", True)
        )
        assert response.status == code
        error = (await response.json())["error"]
        assert set(error) == {"message", "type", "param", "code"}


async def test_error_in_ollama_shape(client: Client) -> None:
    response = await client.post(OLLAMA, json=chat("error-502"))
    assert response.status == 502
    assert await response.json() == {"error": "fake upstream error 502"}


async def read_until_broken(response: aiohttp.ClientResponse) -> bytes:
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async for data in response.content.iter_any():
            received += data
    return received


@pytest.mark.parametrize("path", [CHAT, RESPONSES, OLLAMA])
async def test_cut_stream_aborts_after_two_content_chunks(
    client: Client, path: str
) -> None:
    response = await client.post(path, json=request_for(path, "cut-stream", True))
    assert response.status == 200
    received = (await read_until_broken(response)).decode()
    if path == OLLAMA:
        assert [line["done"] for line in ndjson(received)] == [False, False]
    elif path == CHAT:
        assert len(sse_data(received)) == 3 and "[DONE]" not in received
    else:
        names = [name for name, _ in sse_events(received)]
        assert names.count("response.output_text.delta") == 2
        assert "response.completed" not in names


@pytest.mark.parametrize("path", [CHAT, RESPONSES, OLLAMA])
async def test_cut_non_stream_sends_half_the_declared_body(
    client: Client, path: str
) -> None:
    response = await client.post(path, json=request_for(path, "cut-stream", False))
    declared = int(response.headers["Content-Length"])
    received = await read_until_broken(response)
    assert 0 < len(received) < declared


async def test_hang_never_answers_and_does_not_block_others(
    aiohttp_client: MakeClient,
) -> None:
    client = await aiohttp_client(fake.make_app())
    timeout = aiohttp.ClientTimeout(total=0.15)
    with pytest.raises(asyncio.TimeoutError):
        await client.post(CHAT, json=chat("hang"), timeout=timeout)
    assert (await client.post(CHAT, json=chat())).status == 200


@pytest.mark.parametrize("stream", [False, True])
async def test_garbage_is_200_with_fixed_non_json_bytes(
    client: Client, stream: bool
) -> None:
    for path in (CHAT, RESPONSES, OLLAMA):
        response = await client.post(path, json=request_for(path, "garbage", stream))
        assert response.status == 200
        body = await response.read()
        assert body == fake.GARBAGE
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(body)


async def test_ollama_error_mid_stream(client: Client) -> None:
    lines = ndjson(await (await client.post(OLLAMA, json=chat("ollama-error"))).text())
    assert len(lines) == 2
    assert lines[0]["done"] is False and lines[0]["message"]["content"]
    assert set(lines[1]) == {"error"}


async def test_stream_errors_in_openai_dialects(client: Client) -> None:
    text = await (
        await client.post(CHAT, json=chat("ollama-error", stream=True))
    ).text()
    *_, last = sse_data(text)
    assert last["error"]["type"] == "server_error"
    text = await (
        await client.post(RESPONSES, json=responses("ollama-error", stream=True))
    ).text()
    name, data = sse_events(text)[-1]
    assert name == "error" and data["type"] == "error"
    assert data["sequence_number"] == len(sse_events(text)) - 1
    response = await client.post(OLLAMA, json=chat("ollama-error", stream=False))
    assert response.status == 500


async def test_forced_behaviour_applies_to_every_model(
    aiohttp_client: MakeClient,
) -> None:
    client = await aiohttp_client(fake.make_app(behaviour="error-503"))
    for path in (CHAT, RESPONSES, OLLAMA):
        response = await client.post(path, json=request_for(path, "llama3.2", False))
        assert response.status == 503
    assert (await client.get("/v1/models")).status == 200


def test_unknown_forced_behaviour_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        fake.make_app(behaviour="explode")


# --- Recording ----------------------------------------------------------------


async def test_requests_are_recorded_and_cleared(aiohttp_client: MakeClient) -> None:
    app = fake.make_app(name="cloud")
    client = await aiohttp_client(app)
    before = time.monotonic()
    await client.post(
        CHAT, json=chat("gpt-4o-mini", "secret"), headers={"X-Trace": "t1"}
    )
    await client.post(OLLAMA, json=chat("llama3.2", stream=False))
    await client.get("/api/tags")
    recorded = app[fake.REQUESTS]
    assert [(r.path, r.method, r.model) for r in recorded] == [
        (CHAT, "POST", "gpt-4o-mini"),
        (OLLAMA, "POST", "llama3.2"),
    ]
    assert len(app[fake.TAGGED]) == 1  # polled by routers: counted apart
    first = recorded[0]
    assert first.upstream == "cloud"
    assert first.headers["x-trace"] == "t1"
    assert first.body["messages"][0]["content"] == "secret"
    assert before <= first.at <= recorded[1].at
    listed = await (await client.get("/_fake/requests")).json()
    assert [r["path"] for r in listed] == [CHAT, OLLAMA]
    assert listed[0]["body"] == first.body and listed[0]["upstream"] == "cloud"
    assert (await client.delete("/_fake/requests")).status == 204
    assert app[fake.REQUESTS] == []
    assert await (await client.get("/_fake/requests")).json() == []


async def test_recording_can_be_disabled(aiohttp_client: MakeClient) -> None:
    app = fake.make_app(record=False)
    client = await aiohttp_client(app)
    for _ in range(2):
        body = await post(client, CHAT, chat())
        assert body["choices"][0]["message"]["content"] == "echo: hello world"
    assert app[fake.REQUESTS] == []


async def test_misbehaving_requests_are_recorded_too(
    aiohttp_client: MakeClient,
) -> None:
    app = fake.make_app()
    client = await aiohttp_client(app)
    await client.post(CHAT, json=chat("error-500"))
    assert [r.model for r in app[fake.REQUESTS]] == ["error-500"]


# --- The official openai SDK ---------------------------------------------------


def sdk(client: Client, prefix: str = "/v1") -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=str(client.make_url(prefix)), api_key="k", max_retries=0
    )


@pytest.mark.parametrize("prefix", ["/v1", ""])
async def test_sdk_parses_chat(client: Client, prefix: str) -> None:
    async with sdk(client, prefix) as openai:
        completion = await openai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        assert completion.choices[0].message.content == "echo: hi"
        assert completion.usage is not None and completion.usage.total_tokens == 3
        stream = await openai.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", None
        async for chunk in stream:
            text += "".join(c.delta.content or "" for c in chunk.choices)
            usage = chunk.usage or usage
        assert text == "echo: hi" and usage is not None


async def test_sdk_parses_chat_tool_calls(client: Client) -> None:
    async with sdk(client) as openai:
        completion = await openai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], tools=OPENAI_TOOLS
        )
        (call,) = completion.choices[0].message.tool_calls or []
        assert call.type == "function" and call.function.name == "lookup"


async def test_sdk_parses_responses(client: Client) -> None:
    async with sdk(client) as openai:
        response = await openai.responses.create(model="m", input="hi")
        assert response.output_text == "echo: hi"
        async with openai.responses.stream(model="m", input="hi") as stream:
            deltas = [
                e.delta async for e in stream if e.type == "response.output_text.delta"
            ]
            final = await stream.get_final_response()
        assert "".join(deltas) == final.output_text == "echo: hi"


async def test_sdk_parses_a_streamed_responses_tool_call(client: Client) -> None:
    async with sdk(client) as openai:
        tools: Any = RESPONSE_TOOLS
        async with openai.responses.stream(
            model="m", input="hi", tools=tools
        ) as stream:
            final = await stream.get_final_response()
        (call,) = final.output
        assert call.type == "function_call" and call.name == "lookup"


# --- As a program ---------------------------------------------------------------


async def test_runs_as_a_program_on_a_free_loopback_port() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--port", "0", "--no-record", "--name", "p",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("p listening on http://127.0.0.1:")
        url = line.split()[-1]
        async with (
            aiohttp.ClientSession() as session,
            session.post(url + OLLAMA, json=chat(stream=False)) as response,
        ):
            assert (await response.json())["message"]["content"] == "echo: hello world"
    finally:
        process.terminate()
        assert await process.wait() == 0


def test_main_refuses_an_unknown_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        fake.main(["--behaviour", "explode"])
    assert exited.value.code == 2
    assert "unknown behaviour" in capsys.readouterr().err
