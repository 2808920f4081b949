"""The audit store through the real app: one row per client request, whatever
happened to it; never the prompt; /v1/metrics and /v1/ab read from it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer

from router.state import SETTINGS
from tests.functional.conftest import Fakes, RouterFor, SdkFor

CARD = "4111 1111 1111 1111"
PROMPT_MARK = "zebra-unicorn-prompt-marker"
ROUTES = """\
  - match: {sensitivity: high}
    backend: local
    fallback: sarmalink
  - name: main
    default: local
    fallback: sarmalink
"""


def rows(db: str, table: str = "requests") -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY ts")]
    finally:
        conn.close()


async def get_json(server: TestServer, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(server.make_url(path)) as r:
        return r.status, await r.json()


async def test_one_row_per_request_and_no_prompt(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    server = await router_for(fakes.policy(ROUTES, faulty=("local",), timeout_ms=500))
    db = server.app[SETTINGS].db
    c = sdk(server)

    def msgs(text: str) -> Any:
        return [{"role": "user", "content": f"{text} {PROMPT_MARK}"}]

    await c.chat.completions.create(model="auto", messages=msgs("hello"))
    await c.chat.completions.create(model="error-500", messages=msgs("fall"))
    await c.chat.completions.create(model="auto", messages=msgs(f"card {CARD}"))
    with pytest.raises(openai.APIStatusError):
        await c.chat.completions.create(
            model="error-500", messages=msgs(f"card {CARD}")
        )
    with pytest.raises(openai.BadRequestError):
        await c.chat.completions.create(model="auto", messages=[{"content": "x"}])
    stream = await c.chat.completions.create(
        model="cut-stream", stream=True, messages=msgs("cut")
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass
    async with aiohttp.ClientSession() as s:  # a client that gives up
        with pytest.raises(TimeoutError):
            await s.post(
                server.make_url("/v1/chat/completions"),
                json={"model": "hang", "messages": msgs("wait")},
                timeout=aiohttp.ClientTimeout(total=0.2),
            )
    await asyncio.sleep(0.1)
    await server.close()  # drains the queue and closes the database

    got = rows(db)
    assert len(got) == 7
    ok, fell, pinned, blocked, bad, cut, gone = got
    assert (ok["backend"], ok["status"], ok["route_name"]) == ("local", 200, "main")
    assert ok["error_kind"] is None and ok["tokens_out"] > 0 and ok["ttfb_ms"] > 0
    assert (fell["backend"], fell["fallback_from"]) == ("sarmalink", "local")
    assert (pinned["backend"], pinned["pinned"], pinned["route"]) == ("local", 1, 0)
    assert pinned["sensitivity"] == "high"
    assert (blocked["status"], blocked["error_kind"]) == (503, "privacy_pinned")
    assert blocked["backend"] is None and blocked["pinned"] == 1
    assert (bad["status"], bad["route"]) == (400, -1)
    assert (cut["status"], cut["error_kind"], cut["stream"]) == (
        200,
        "stream_broken",
        1,
    )
    assert (gone["status"], gone["error_kind"]) == (499, "client_disconnect")
    raw = b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))
    assert PROMPT_MARK.encode() not in raw and CARD.encode() not in raw


async def test_metrics_summary(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    extra = "baseline: frontier\n"
    text = fakes.policy(ROUTES, faulty=("local",), extra=extra).replace(
        "    model: gpt-4o\n",
        "    model: gpt-4o\n    cost: {inputPer1M: 2.5, outputPer1M: 10}\n",
    )
    server = await router_for(text)
    c = sdk(server)
    for model in ("auto", "auto", "error-500"):
        await c.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi there"}]
        )
    for _ in range(1500):  # the writer is asynchronous (30 s on a busy machine)
        status, body = await get_json(server, "/v1/metrics?window=15m")
        if sum(r["requests"] for r in body["routes"]) == 3:
            break
        await asyncio.sleep(0.02)
    assert status == 200 and body["window"] == "15m" and body["baseline"] == "frontier"
    (main,) = [r for r in body["routes"] if r["name"] == "main"]
    assert main["requests"] == 3 and main["successes"] == 3 and main["fallbacks"] == 1
    assert main["p50_ms"] > 0 and main["tokens_out"] > 0
    assert main["cost_usd"] == 0  # neither local nor sarmalink has a price
    assert main["baseline_cost_usd"] > 0
    assert main["saving_usd"] == pytest.approx(main["baseline_cost_usd"])
    backends = {b["backend"]: b for b in body["backends"]}
    assert backends["local"]["requests"] == 2 and backends["sarmalink"]["requests"] == 1
    status, err = await get_json(server, "/v1/metrics?window=2d")
    assert status == 400 and err["error"]["param"] == "window"


async def test_ab_report(fakes: Fakes, router_for: RouterFor, sdk: SdkFor) -> None:
    extra = "ab: {enabled: true, sampleRate: 1.0, minSamples: 3, candidates: {local: sarmalink}}"
    server = await router_for(fakes.policy("  - default: local\n", extra=extra))
    c = sdk(server)
    status, body = await get_json(server, "/v1/ab")
    assert status == 200 and body["enabled"] is True
    assert body["pairs"][0]["verdict"] == "insufficient-data"
    for i in range(4):
        await c.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": f"q{i}"}]
        )
    for _ in range(1500):
        _, body = await get_json(server, "/v1/ab")
        if body["pairs"][0]["candidate_samples"] == 4:
            break
        await asyncio.sleep(0.02)
    pair = body["pairs"][0]
    assert (pair["primary"], pair["candidate"]) == ("local", "sarmalink")
    assert pair["primary_samples"] == pair["candidate_samples"] == 4
    assert pair["candidate_success_rate"] == 1.0
    assert pair["verdict"] in ("promote", "hold") and pair["reason"]
    await server.close()
    shadows = rows(server.app[SETTINGS].db, "shadow")
    assert len(shadows) == 4 and {s["candidate"] for s in shadows} == {"sarmalink"}
