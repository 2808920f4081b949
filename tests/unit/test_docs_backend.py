"""docs/backends.md's worked example: the llama.cpp adapter, loaded from the
page itself, against a stand-in llama.cpp server on loopback."""

from __future__ import annotations

import re
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from router.backends.base import REGISTRY, Body, Call, UpstreamError
from router.policy.model import Backend

DOC = Path(__file__).resolve().parents[2] / "docs" / "backends.md"
HEADER = "# router/backends/llamacpp.py\n"


def example_source() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)
    (source,) = [b for b in blocks if b.startswith(HEADER)]
    return source


@pytest.fixture
def adapter_type() -> Any:
    module = types.ModuleType("docs_llamacpp")
    exec(compile(example_source(), str(DOC), "exec"), module.__dict__)
    try:
        yield REGISTRY["llamacpp"]
    finally:
        del REGISTRY["llamacpp"]


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[Any]]]:
    seen: list[Any] = []

    async def completion(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(({k.lower(): v for k, v in request.headers.items()}, body))
        if "fail" in body["prompt"]:
            return web.json_response({"error": "overloaded"}, status=503)
        return web.json_response(
            {
                "content": "Paris.",
                "tokens_evaluated": 12,
                "tokens_predicted": 2,
                "stopped_limit": body.get("n_predict") == 1,
            }
        )

    app = web.Application()
    app.router.add_post("/completion", completion)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv, seen
    await srv.close()


def call(text: str, **extra: Any) -> Call:
    body = {"model": "auto", "messages": [{"role": "user", "content": text}]}
    body.update(extra.pop("body", {}))
    return Call(
        api=extra.pop("api", "chat"),
        body=Body(orjson.dumps(body)),
        stream=extra.pop("stream", False),
        model="qwen",
        request_id="r-1",
        **extra,
    )


def test_the_example_is_about_sixty_lines() -> None:
    assert 50 <= len(example_source().splitlines()) <= 90


async def test_chat_in_chat_completion_out(
    adapter_type: Any, server: tuple[TestServer, list[Any]]
) -> None:
    srv, seen = server
    backend = Backend(
        name="box", type="ollama", endpoint=str(srv.make_url("")), local=True
    )
    async with aiohttp.ClientSession() as session:
        adapter = adapter_type(backend, session, None)
        reply = await adapter.open(
            call(
                "What is the capital of France?",
                body={
                    "max_tokens": 1,
                    "messages": [
                        {"role": "system", "content": "Be brief."},
                        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                    ],
                },
            )
        )
        answer = orjson.loads(reply.body)
        assert (reply.status, reply.usage) == (200, {"in": 12, "out": 2})
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0]["message"] == {
            "role": "assistant",
            "content": "Paris.",
        }
        assert answer["choices"][0]["finish_reason"] == "length"
        assert answer["usage"]["total_tokens"] == 14
        headers, sent = seen[0]
        assert sent == {
            "prompt": "system: Be brief.\nuser: Hi\nassistant:",
            "stream": False,
            "n_predict": 1,
        }
        assert headers["x-request-id"] == "r-1" and "authorization" not in headers

        for refused in (call("hi", stream=True), call("hi", api="responses")):
            with pytest.raises(UpstreamError) as info:
                await adapter.open(refused)
            assert info.value.kind == "unsupported"

        with pytest.raises(UpstreamError) as info:
            await adapter.open(call("please fail"))
        assert (info.value.kind, info.value.status) == ("status", 503)

        remote = adapter_type(
            Backend(name="r", type="openai", endpoint=backend.endpoint, local=False),
            session,
            "sk-test",
        )
        before = len(seen)
        with pytest.raises(UpstreamError) as info:
            await remote.open(call("secret", pinned=True))
        assert info.value.kind == "pinned" and len(seen) == before
        assert (await remote.open(call("hello"))).status == 200
        assert seen[-1][0]["authorization"] == "Bearer sk-test"
