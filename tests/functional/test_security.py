"""Inbound auth and where a backend credential may never show up.

Which paths are open without a key (and that none of them shows a path or
a setting), `LLR_PROTECT_METRICS`; then backends that quote their
credentials back in errors and headers, while everything the router keeps
or shows is searched for them: client answers (status, headers, bodies),
the log at DEBUG, `/metrics`, `/v1/metrics`, `/v1/ab`, explain output,
`/ready`, `/v1/models` and every row of the store.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from router.state import MIRROR, STORE
from tests.functional.conftest import RouterFor, StandInFor

KEYS = ("sk-test-frontier", "sk-test-sarmalink")
CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": "Bearer inbound-key"}
AUTHORIZATIONS: list[str] = []  # what the quoting backend was sent
QUOTED: list[str] = []  # every header it was sent, as text


def policy(frontier: str, sarmalink: str) -> str:
    return f"""
backends:
  frontier: {{type: openai, endpoint: '{frontier}/v1', model: gpt-4o,
              models: [gpt-4o, e401, e500, e429, ok]}}
  sarmalink: {{type: sarmalink, endpoint: '{sarmalink}/v1', model: smart,
               models: [smart, e401, e500, e429, ok]}}
routes:
  - default: frontier
    fallback: sarmalink
ab: {{enabled: true, sampleRate: 1.0, candidates: {{frontier: sarmalink}}}}
"""


def quoting(request: web.Request, body: bytes) -> web.StreamResponse:
    """Answers by the model asked for, quoting the request's headers back
    in the body and in a response header."""
    said = str(dict(request.headers))
    AUTHORIZATIONS.append(request.headers.get("Authorization", ""))
    QUOTED.append(said)
    model = orjson.loads(body).get("model", "") if body else ""
    headers = {"x-echo": request.headers.get("Authorization", "")}
    status = {"e401": 401, "e500": 500, "e429": 429}.get(model)
    if status is not None:
        if status == 429:
            headers["Retry-After"] = "0"
        error = {"message": f"Incorrect API key provided: {said}", "type": "x"}
        return web.json_response({"error": error}, status=status, headers=headers)
    answer = {
        "id": "c1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "fine"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return web.json_response(answer, headers=headers)


async def test_open_paths_and_protected_ones(
    router_for: RouterFor, stand_in: StandInFor
) -> None:
    backend = await stand_in(quoting)
    text = policy(backend.url, backend.url)
    for protect in (False, True):
        server = await router_for(
            text, api_keys=frozenset({"inbound-key"}), protect_metrics=protect
        )
        async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
            for path in ("/health", "/ready", "/openapi.json"):
                r = await c.get(path)
                assert r.status == 200, path
                assert "policy.yaml" not in await r.text()
            r = await c.get("/metrics")
            assert r.status == (401 if protect else 200)
            for path in ("/v1/models", "/v1/metrics", "/v1/ab"):
                assert (await c.get(path)).status == 401, path
                assert (await c.get(path, headers=AUTH)).status == 200, path
            assert (await c.post("/admin/reload")).status == 401
            r = await c.post("/v1/chat/completions", json=CHAT)
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "invalid_api_key"
            r = await c.get("/metrics", headers=AUTH)
            assert r.status == 200


def _rows(db: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


async def test_backend_credentials_appear_nowhere(
    router_for: RouterFor,
    stand_in: StandInFor,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = await stand_in(quoting)
    db = str(tmp_path / "leak.db")
    server: TestServer = await router_for(policy(backend.url, backend.url), db=db)
    seen: list[str] = []
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:

        async def keep(r: aiohttp.ClientResponse) -> None:
            seen.append(f"{r.status} {dict(r.headers)} {await r.text()}")

        for model in ("ok", "e401", "e500", "e429", "gpt-4o"):
            for stream in (False, True):
                body = {**CHAT, "model": model, "stream": stream}
                await keep(await c.post("/v1/chat/completions", json=body))
                responses = {"model": model, "input": "hi", "stream": stream}
                await keep(await c.post("/v1/responses", json=responses))
        await keep(await c.post("/v1/route", json=CHAT))
        await server.app[MIRROR].close()  # the shadow calls are done
        await server.app[STORE].flush()
        for path in ("/metrics", "/v1/metrics", "/v1/ab", "/ready", "/v1/models"):
            await keep(await c.get(path))
    # The keys did go out, to the backends (quoted back in every answer).
    assert {f"Bearer {k}" for k in KEYS} <= set(AUTHORIZATIONS)
    answers = "\n".join(seen)
    assert "[redacted]" in answers
    everything = "\n".join([answers, caplog.text, _rows(db)])
    for key in KEYS:
        assert key not in everything
        assert key[:12] not in everything


async def test_client_headers_never_reach_a_backend(
    router_for: RouterFor, stand_in: StandInFor
) -> None:
    """Only the router's own headers go upstream: not the inbound key, not a
    cookie, not hop-by-hop or proxy headers."""
    backend = await stand_in(quoting)
    server = await router_for(
        policy(backend.url, backend.url), api_keys=frozenset({"inbound-key"})
    )
    client_headers = {
        **AUTH,
        "Cookie": "session=client-cookie-1",
        "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
        "X-Forwarded-For": "10.9.8.7",
        "Connection": "keep-alive, x-hop",
        "x-hop": "hop-value",
        "x-api-key": "inbound-key",
    }
    AUTHORIZATIONS.clear()
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
        r = await c.post("/v1/chat/completions", json=CHAT, headers=client_headers)
        assert r.status == 200
    await server.app[MIRROR].close()
    assert AUTHORIZATIONS and all("inbound-key" not in a for a in AUTHORIZATIONS)
    sent = "\n".join(quoted for quoted in QUOTED)
    for value in ("client-cookie-1", "cHJveHk6c2VjcmV0", "10.9.8.7", "hop-value"):
        assert value not in sent
    assert "inbound-key" not in sent
