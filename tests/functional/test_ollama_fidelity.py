"""The router against Ollama as it behaves today (server/routes.go, api/types.go,
openai/openai.go), played by the fake: what a client may ask of the local
machine, the 404s and 400s that fall back, the model inventory, thinking,
tool-call ids, logprobs, `done_reason`, context and long answers."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer

from router.state import POLICY
from tests.functional.conftest import Fakes, RouterFor, SdkFor

SSN = "078-05-1120"


def two_backends(fakes: Fakes, models: str, extra: str = "", routes: str = "") -> str:
    routes = routes or (
        "  - match: {sensitivity: high}\n    backend: local\n    fallback: frontier\n"
        "  - default: local\n    fallback: frontier\n"
    )
    return (
        "backends:\n"
        f"  local:\n    type: ollama\n    endpoint: {fakes.local.url}\n"
        f"    models: {models}\n    timeoutMs: 2000\n{extra}"
        f"  frontier:\n    type: openai\n    endpoint: {fakes.frontier.url}/v1\n"
        "    model: gpt-4o\n    timeoutMs: 2000\n"
        f"routes:\n{routes}"
    )


async def post(
    server: TestServer, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(server.make_url(path), json=body, headers=headers) as r,
    ):
        raw = await r.read()
        return r.status, r.headers, raw


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": [{"role": "user", "content": text}], **extra}


def sse(raw: bytes) -> list[dict[str, Any]]:
    return [
        orjson.loads(line[6:])
        for line in raw.split(b"\n")
        if line.startswith(b"data: {")
    ]


async def inventoried(server: TestServer, backend: str = "local") -> None:
    """Wait for the router's first `/api/tags` answer from `backend`."""
    adapter = server.app[POLICY].pool.adapters[backend]
    for _ in range(200):
        if adapter.inventory.pulled is not None:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the router never read /api/tags")


def sent(fakes: Fakes) -> dict[str, Any]:
    (request,) = [r for r in fakes.local.requests if r.path == "/api/chat"]
    return request.body  # type: ignore[no-any-return]


# --- What a client may ask of the local machine --------------------------------


async def test_machine_options_are_dropped_by_default_and_said(
    fakes: Fakes, router_for: RouterFor
) -> None:
    extra = "    options: {num_ctx: 8192, temperature: 0.1}\n    keepAlive: 10m\n"
    router = await router_for(two_backends(fakes, "[llama3.2]", extra))
    body = chat(
        "hi",
        temperature=0.7,
        num_gpu=99,
        keep_alive=-1,
        options={"num_ctx": 2147483647, "num_thread": 64, "numa": True, "top_k": 5},
    )
    code, headers, raw = await post(router, "/v1/chat/completions", body)
    assert code == 200, raw
    got = sent(fakes)
    # The policy's own options and keepAlive stand; the client's sampling
    # options pass; its claims on the machine (and a stale name) do not.
    assert got["options"] == {"num_ctx": 8192, "temperature": 0.7, "top_k": 5}
    assert got["keep_alive"] == "10m"
    assert (
        headers["x-llr-dropped-options"]
        == "num_gpu, num_ctx, num_thread, numa, keep_alive"
    )
    assert "x-llr-capped-options" not in headers


async def test_client_options_allow_and_cap_what_the_policy_says(
    fakes: Fakes, router_for: RouterFor
) -> None:
    extra = (
        "    clientOptions:\n      allow: [temperature]\n"
        "      max: {num_ctx: 32768, num_predict: 512}\n      keepAliveMax: 30m\n"
    )
    router = await router_for(two_backends(fakes, "[llama3.2]", extra))
    body = chat(
        "hi",
        max_tokens=100000,
        top_p=0.5,
        keep_alive=-1,
        options={"num_ctx": 2147483647},
    )
    code, headers, raw = await post(router, "/v1/chat/completions", body)
    assert code == 200, raw
    got = sent(fakes)
    assert got["options"] == {"num_ctx": 32768, "num_predict": 512}
    assert got["keep_alive"] == 1800
    assert headers["x-llr-dropped-options"] == "top_p"
    assert headers["x-llr-capped-options"] == "num_predict, num_ctx, keep_alive"
    fakes.local.clear()
    code, headers, _ = await post(
        router, "/v1/chat/completions", chat("hi", keep_alive="5m", num_ctx=2048)
    )
    assert code == 200 and sent(fakes)["keep_alive"] == "5m"
    assert sent(fakes)["options"] == {"num_ctx": 2048}
    assert "x-llr-dropped-options" not in headers


async def test_a_client_option_name_the_policy_does_not_know_is_a_load_error(
    fakes: Fakes,
) -> None:
    from router.errors import PolicyError
    from router.policy import load_policy_text

    text = two_backends(
        fakes, "[llama3.2]", "    clientOptions:\n      allow: [num_ctxx]\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "p.yaml")
    assert "backends.local.clientOptions.allow[0]" in str(info.value)
    assert "did you mean 'num_ctx'" in str(info.value)


# --- Ollama's refusals fall back -----------------------------------------------


@pytest.mark.parametrize("model", ["missing-llama", "unpulled-llama"])
@pytest.mark.parametrize("stream", [False, True])
async def test_model_not_found_falls_back_in_either_wording(
    fakes: Fakes, router_for: RouterFor, model: str, stream: bool
) -> None:
    router = await router_for(two_backends(fakes, f"[{model}]"))
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hello", stream=stream)
    )
    assert code == 200 and headers["x-llr-backend"] == "frontier", raw
    assert [r.model for r in fakes.local.requests] == [model]
    # Now known absent (until the next /api/tags): decide skips it.
    code, headers, _ = await post(router, "/v1/chat/completions", chat("again"))
    assert code == 200 and headers["x-llr-backend"] == "frontier"
    assert len(fakes.local.requests) == 1


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (
            "notools-llama",
            {
                "tools": [
                    {"type": "function", "function": {"name": "f", "parameters": {}}}
                ]
            },
        ),
        ("llama3.2", {"think": True}),
    ],
)
async def test_a_missing_capability_falls_back(
    fakes: Fakes, router_for: RouterFor, model: str, body: dict[str, Any]
) -> None:
    router = await router_for(two_backends(fakes, f"[{model}]"))
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hello", **body)
    )
    assert code == 200 and headers["x-llr-backend"] == "frontier", raw
    assert [r.model for r in fakes.local.requests] == [model]


async def test_pinned_request_never_leaves_on_a_refusal_and_is_a_400(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(two_backends(fakes, "[notools-llama]"))
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    code, _, raw = await post(
        router, "/v1/chat/completions", chat(f"my ssn is {SSN}", tools=[tool])
    )
    assert code == 400, raw
    assert "does not support tools" in orjson.loads(raw)["error"]["message"]
    assert SSN not in fakes.frontier.texts_seen()


async def test_an_over_long_prompt_fails_over_instead_of_losing_turns(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(two_backends(fakes, "[llama3.2]"))
    long = [{"role": "user", "content": "word " * 5000} for _ in range(4)]
    code, headers, raw = await post(
        router, "/v1/chat/completions", {"model": "auto", "messages": long}
    )
    assert code == 200 and headers["x-llr-backend"] == "frontier", raw
    assert sent(fakes)["truncate"] is False


# --- The model inventory ---------------------------------------------------------


async def test_an_unpulled_model_is_skipped_before_it_is_tried(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(two_backends(fakes, "[mistral:7b]"))
    await inventoried(router)
    code, headers, raw = await post(router, "/v1/chat/completions", chat("hello"))
    assert code == 200 and headers["x-llr-backend"] == "frontier", raw
    assert fakes.local.requests == []
    _, _, raw = await post(router, "/v1/route", chat("hello"))
    assert (
        "local: mistral:7b is not pulled there"
        in orjson.loads(raw)["decision"]["reason"]
    )
    async with aiohttp.ClientSession() as s:
        async with s.get(router.make_url("/v1/models")) as r:
            ids = [m["id"] for m in (await r.json())["data"]]
        async with s.get(router.make_url("/ready")) as r:
            ready = await r.json()
    assert "mistral:7b" not in ids and "gpt-4o" in ids
    assert ready["missing_models"] == {"local": 1}


async def test_a_pinned_request_takes_a_pulled_model_over_an_unpulled_one(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(two_backends(fakes, "[mistral:7b, llama3.2]"))
    await inventoried(router)
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat(f"my ssn is {SSN}")
    )
    assert code == 200 and headers["x-llr-model"] == "llama3.2", raw
    assert fakes.frontier.requests == []


# --- Thinking -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "effort", "think"),
    [
        ("qwen3:8b", "xhigh", "max"),
        ("qwen3:8b", "ultra", "max"),
        ("qwen3:8b", "minimal", "low"),
        ("qwen3:8b", "none", False),
        ("llama3.2", "high", None),
    ],
)
async def test_reasoning_effort_becomes_think_only_for_thinking_models(
    fakes: Fakes, router_for: RouterFor, model: str, effort: str, think: Any
) -> None:
    router = await router_for(two_backends(fakes, f"[{model}]"))
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hi", reasoning_effort=effort)
    )
    assert code == 200 and headers["x-llr-backend"] == "local", raw
    assert sent(fakes).get("think") == think


async def test_an_unknown_effort_is_a_400_naming_its_param(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(
        two_backends(fakes, "[qwen3:8b]", routes="  - default: local\n")
    )
    code, _, raw = await post(
        router, "/v1/chat/completions", chat("hi", reasoning_effort="galaxy")
    )
    assert code == 400, raw
    assert orjson.loads(raw)["error"]["param"] == "reasoning_effort"


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_comes_back_on_chat(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, stream: bool
) -> None:
    client = sdk(await router_for(two_backends(fakes, "[qwen3:8b]")))
    if stream:
        parts = [
            c.choices[0].delta.model_extra.get("reasoning", "")
            async for c in await client.chat.completions.create(
                model="auto",
                messages=[{"role": "user", "content": "why"}],
                reasoning_effort="high",
                stream=True,
            )
            if c.choices and c.choices[0].delta.model_extra
        ]
        thinking = "".join(parts)
    else:
        resp = await client.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "why"}],
            reasoning_effort="high",
        )
        thinking = (resp.choices[0].message.model_extra or {})["reasoning"]
    assert thinking == "thinking about: why"


@pytest.mark.parametrize("stream", [False, True])
async def test_thinking_is_a_reasoning_item_on_responses(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, stream: bool
) -> None:
    client = sdk(await router_for(two_backends(fakes, "[qwen3:8b]")))
    args: dict[str, Any] = {
        "model": "auto",
        "input": "why",
        "reasoning": {"effort": "medium"},
    }
    if stream:
        events = [e async for e in await client.responses.create(stream=True, **args)]
        models = {e.response.model for e in events if hasattr(e, "response")}
        assert models == {"qwen3:8b"}  # the same model in every event
        assert "response.reasoning_text.delta" in {e.type for e in events}
        output = events[-1].response.output
    else:
        output = (await client.responses.create(**args)).output
    assert [item.type for item in output] == ["reasoning", "message"]
    assert output[0].content[0].text == "thinking about: why"


async def test_thinking_in_history_goes_back_to_ollama(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(two_backends(fakes, "[qwen3:8b]"))
    history = {
        "model": "auto",
        "input": [
            {"role": "user", "content": "q1"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "pondered"}],
            },
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        ],
    }
    code, _, raw = await post(router, "/v1/responses", history)
    assert code == 200, raw
    assert sent(fakes)["messages"][1] == {
        "role": "assistant",
        "content": "a1",
        "thinking": "pondered",
    }
    fakes.local.clear()
    turn = chat("q2")
    turn["messages"][:0] = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1", "reasoning": "pondered"},
    ]
    code, _, raw = await post(router, "/v1/chat/completions", turn)
    assert code == 200, raw
    assert sent(fakes)["messages"][1]["thinking"] == "pondered"


# --- Tool calls, logprobs, finish reasons ----------------------------------------

TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("get_weather", "get_time")
]


@pytest.mark.parametrize("stream", [False, True])
async def test_parallel_tool_calls_keep_ollamas_ids_both_ways(
    fakes: Fakes, router_for: RouterFor, stream: bool
) -> None:
    router = await router_for(two_backends(fakes, "[llama3.2]"))
    code, _, raw = await post(
        router,
        "/v1/chat/completions",
        chat("weather and time in parallel", tools=TOOLS, stream=stream),
    )
    assert code == 200, raw
    if stream:
        deltas = [
            call
            for c in sse(raw)
            for choice in c["choices"]
            for call in choice["delta"].get("tool_calls") or ()
        ]
        reasons = [ch["finish_reason"] for c in sse(raw) for ch in c["choices"]]
        assert reasons[-1] == "tool_calls"
    else:
        (choice,) = orjson.loads(raw)["choices"]
        deltas = choice["message"]["tool_calls"]
        assert choice["finish_reason"] == "tool_calls"
    assert [d["function"]["name"] for d in deltas] == ["get_weather", "get_time"]
    ids = [d["id"] for d in deltas]
    # Ollama's own ids (call_ + 8 characters), not ids the router made up.
    assert all(re.fullmatch(r"call_[0-9a-f]{8}\d", i) for i in ids), ids
    assert len(set(ids)) == 2
    # Results sent back are paired by those ids, for templates that match them.
    fakes.local.clear()
    history = chat("weather and time in parallel", tools=TOOLS)
    history["messages"] += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": i, "type": "function", "function": d["function"]}
                for i, d in zip(ids, deltas, strict=True)
            ],
        },
        {"role": "tool", "tool_call_id": ids[1], "content": "14:05"},
        {"role": "tool", "tool_call_id": ids[0], "content": "sunny"},
    ]
    code, _, raw = await post(router, "/v1/chat/completions", history)
    assert code == 200, raw
    messages = sent(fakes)["messages"]
    assert [c["id"] for c in messages[1]["tool_calls"]] == ids
    assert [(m["tool_call_id"], m["tool_name"]) for m in messages[2:]] == [
        (ids[1], "get_time"),
        (ids[0], "get_weather"),
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_cut_answer_is_length_and_logprobs_come_back(
    fakes: Fakes, router_for: RouterFor, stream: bool
) -> None:
    router = await router_for(two_backends(fakes, "[llama3.2]"))
    body = chat("a long question " * 4, max_tokens=3, logprobs=True, stream=stream)
    code, _, raw = await post(router, "/v1/chat/completions", body)
    assert code == 200, raw
    assert sent(fakes)["logprobs"] is True
    if stream:
        chunks = sse(raw)
        reasons = [ch["finish_reason"] for c in chunks for ch in c["choices"]]
        tokens = [
            t["token"]
            for c in chunks
            for ch in c["choices"]
            for t in (ch["logprobs"] or {}).get("content", ())
        ]
        assert reasons[-1] == "length"
    else:
        (choice,) = orjson.loads(raw)["choices"]
        assert choice["finish_reason"] == "length"
        tokens = [t["token"] for t in choice["logprobs"]["content"]]
    assert "".join(tokens) == "echo: a long"  # 3 tokens of 4 characters


async def test_a_long_answer_for_a_non_streaming_client_is_not_timed_out(
    fakes: Fakes, router_for: RouterFor
) -> None:
    """Ollama is always asked to stream: the read timeout measures silence
    (100 ms gaps, timeout 400 ms), not the whole answer (about 600 ms)."""
    text = two_backends(fakes, "[slow-stream-150]", routes="  - default: local\n")
    router = await router_for(text.replace("timeoutMs: 2000", "timeoutMs: 400", 1))
    code, headers, raw = await post(router, "/v1/chat/completions", chat("hello"))
    assert code == 200 and headers["x-llr-backend"] == "local", raw
    assert orjson.loads(raw)["choices"][0]["message"]["content"] == "echo: hello"
    assert sent(fakes)["stream"] is True


# --- Clients: Codex namespaces, hosted tools, errors ------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_codex_namespace_tools_reach_ollama_as_functions(
    fakes: Fakes, router_for: RouterFor, stream: bool
) -> None:
    router = await router_for(two_backends(fakes, "[llama3.2]"))
    body = {
        "model": "auto",
        "stream": stream,
        "input": f"look up my ssn {SSN}",
        "tools": [
            {
                "type": "namespace",
                "name": "crm",
                "description": "customer records",
                "tools": [
                    {"type": "function", "name": "lookup", "parameters": {}},
                ],
            }
        ],
    }
    code, headers, raw = await post(router, "/v1/responses", body)
    assert code == 200 and headers["x-llr-backend"] == "local", raw
    assert [t["function"]["name"] for t in sent(fakes)["tools"]] == ["lookup"]
    if stream:
        final = next(e for e in sse(raw) if e["type"] == "response.completed")
        output = final["response"]["output"]
    else:
        output = orjson.loads(raw)["output"]
    (call,) = output
    assert (call["type"], call["namespace"], call["name"]) == (
        "function_call",
        "crm",
        "lookup",
    )
    assert fakes.frontier.requests == []


async def test_hosted_tools_are_dropped_with_a_header_or_refused_when_required(
    fakes: Fakes, router_for: RouterFor
) -> None:
    router = await router_for(
        two_backends(fakes, "[llama3.2]", routes="  - default: local\n")
    )
    body = {"model": "auto", "input": "news?", "tools": [{"type": "web_search"}]}
    code, headers, raw = await post(router, "/v1/responses", body)
    assert code == 200, raw
    assert headers["x-llr-dropped-tools"] == "web_search"
    body["tool_choice"] = {"type": "web_search"}
    code, headers, raw = await post(router, "/v1/responses", body)
    assert code == 400, raw
    error = orjson.loads(raw)["error"]
    assert error["param"] == "tool_choice" and "web_search" in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/chat/completions", chat("hi", n=2), "n"),
        (
            "/v1/responses",
            {"model": "auto", "input": "hi", "previous_response_id": "r"},
            "previous_response_id",
        ),
        (
            "/v1/responses",
            {"model": "auto", "input": "hi", "text": {"format": {"type": "grammar"}}},
            "text.format",
        ),
        (
            "/v1/responses",
            {
                "model": "auto",
                "input": "hi",
                "tools": [{"type": "custom", "name": "g"}],
            },
            "tools[0]",
        ),
    ],
)
@pytest.mark.parametrize("sensitive", [False, True])
async def test_what_no_backend_can_take_is_a_400_with_its_param(
    fakes: Fakes,
    router_for: RouterFor,
    path: str,
    body: dict[str, Any],
    param: str,
    sensitive: bool,
) -> None:
    router = await router_for(
        two_backends(fakes, "[llama3.2]", routes="  - default: local\n")
    )
    headers = {"x-request-id": "req-42"}
    if sensitive:
        headers["x-llr-sensitivity"] = "high"
    code, got, raw = await post(router, path, body, headers)
    assert code == 400, raw
    assert orjson.loads(raw)["error"]["param"] == param
    assert got["x-request-id"] == "req-42"
    assert got["x-llr-route"] == "0" and got["x-llr-policy"]
