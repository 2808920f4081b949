"""Hot reload: POST /admin/reload and --watch swap the policy atomically; a
failing policy is refused with its located problems and the old one serves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from router import serve
from router.app import create_app
from router.policy import load_policy
from router.settings import Settings
from router.state import POLICY

EXAMPLE = Path(__file__).resolve().parents[2] / "policy.example.yaml"
AiohttpClient = Any


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "policy.yaml"
    path.write_text(EXAMPLE.read_text())
    return path


async def client_for(aiohttp_client: AiohttpClient, path: Path, **settings: Any) -> Any:
    app = create_app(
        load_policy(path), Settings(policy=str(path), db="off", **settings)
    )
    return await aiohttp_client(app)


async def test_reload_swaps_and_a_bad_policy_is_refused(
    aiohttp_client: AiohttpClient, policy_file: Path
) -> None:
    c = await client_for(aiohttp_client, policy_file)
    before = await (await c.get("/ready")).json()
    policy_file.write_text(EXAMPLE.read_text().replace("p50Ms: 600", "p50Ms: 650"))
    r = await c.post("/admin/reload")
    body = await r.json()
    assert r.status == 200 and body["status"] == "reloaded"
    assert body["policy_hash"] != before["policy_hash"]
    after = await (await c.get("/ready")).json()
    assert after["policy_hash"] == body["policy_hash"]
    assert after["policy_loaded_at"] >= before["policy_loaded_at"]
    r = await c.post("/v1/route", json={"model": "auto", "input": "hi"})
    assert r.headers["x-llr-policy"] == body["policy_hash"]

    policy_file.write_text("backends:\n  b: {type: ollama}\nroutes: []\n")
    r = await c.post("/admin/reload")
    err = (await r.json())["error"]
    assert r.status == 400 and err["code"] == "policy_invalid"
    assert f"{policy_file}:2:" in err["message"]  # FILE:LINE:COL lines
    still = await (await c.get("/ready")).json()
    assert still["policy_hash"] == body["policy_hash"]
    scraped = await (await c.get("/metrics")).text()
    assert 'llr_policy_reloads_total{outcome="ok"} 1.0' in scraped
    assert 'llr_policy_reloads_total{outcome="failed"} 1.0' in scraped


async def test_reload_needs_the_inbound_key(
    aiohttp_client: AiohttpClient, policy_file: Path
) -> None:
    c = await client_for(aiohttp_client, policy_file, api_keys=frozenset({"k"}))
    assert (await c.post("/admin/reload")).status == 401
    r = await c.post("/admin/reload", headers={"Authorization": "Bearer k"})
    assert r.status == 200


async def test_in_flight_request_keeps_its_policy(
    aiohttp_client: AiohttpClient, policy_file: Path
) -> None:
    c = await client_for(aiohttp_client, policy_file)
    holder = c.server.app[POLICY]
    pool = holder.pool  # what a request in flight holds
    policy_file.write_text(EXAMPLE.read_text().replace("p50Ms: 600", "p50Ms: 650"))
    assert holder.reload()
    assert pool.policy.backends["sarmalink"].p50_ms == 600
    assert holder.pool.policy.backends["sarmalink"].p50_ms == 650
    assert holder.pool is not pool


async def test_watch_reloads_on_change(
    aiohttp_client: AiohttpClient,
    policy_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serve, "WATCH_INTERVAL_S", 0.02)
    c = await client_for(aiohttp_client, policy_file)
    holder = c.server.app[POLICY]
    task = asyncio.create_task(serve._watch(holder))
    try:
        await asyncio.sleep(0.05)  # the watcher has seen the file as it was
        policy_file.write_text(EXAMPLE.read_text().replace("p50Ms: 600", "p50Ms: 700"))
        for _ in range(500):
            if holder.current.backends["sarmalink"].p50_ms == 700:
                break
            await asyncio.sleep(0.02)
        assert holder.current.backends["sarmalink"].p50_ms == 700
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
