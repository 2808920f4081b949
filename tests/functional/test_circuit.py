"""The circuit breaker through the real adapters: a sick backend is skipped,
a backend's Retry-After is honoured, and the state is visible."""

from __future__ import annotations

import aiohttp
import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.functional.conftest import Fakes, RouterFor, StandInFor


def chat(text: str = "hello") -> bytes:
    return orjson.dumps(
        {"model": "auto", "messages": [{"role": "user", "content": text}]}
    )


async def post(server: TestServer, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(server.make_url(path), data=chat()) as r,
    ):
        await r.read()
        return r.status, r.headers.get("x-llr-backend", "")


async def get(server: TestServer, path: str) -> bytes:
    async with aiohttp.ClientSession() as s, s.get(server.make_url(path)) as r:
        return await r.read()


def policy(sick_url: str, spare_url: str, circuit: str = "") -> str:
    return f"""
backends:
  sick:
    type: openai
    endpoint: {sick_url}/v1
    model: m
    apiKeyEnv: null
{circuit}
  spare:
    type: openai
    endpoint: {spare_url}/v1
    model: gpt-4o
    apiKeyEnv: null
routes:
  - default: sick
    fallback: spare
"""


async def test_sick_backend_is_skipped_and_shown(
    fakes: Fakes, router_for: RouterFor, stand_in: StandInFor
) -> None:
    sick = await stand_in(lambda _r, _b: web.json_response({}, status=500))
    circuit = "    circuit: {failures: 3, cooldownMs: 60000}"
    router = await router_for(policy(sick.url, fakes.frontier.url, circuit))
    for _ in range(6):
        assert await post(router, "/v1/chat/completions") == (200, "spare")
    assert len(sick.seen) == 3  # then skipped, not paid for on every request
    ready = orjson.loads(await get(router, "/ready"))
    assert ready["circuits"] == {"sick": "open"}
    scraped = (await get(router, "/metrics")).decode()
    assert 'llr_circuit_state{backend="sick"} 1.0' in scraped
    assert 'llr_backend_up{backend="sick"} 0.0' in scraped
    assert 'reason="circuit_open"' in scraped


async def test_retry_after_is_honoured(
    fakes: Fakes, router_for: RouterFor, stand_in: StandInFor
) -> None:
    busy = await stand_in(
        lambda _r, _b: web.json_response(
            {"error": {"message": "slow down"}},
            status=429,
            headers={"Retry-After": "120"},
        )
    )
    router = await router_for(policy(busy.url, fakes.frontier.url))
    for _ in range(3):
        assert await post(router, "/v1/chat/completions") == (200, "spare")
    assert len(busy.seen) == 1
