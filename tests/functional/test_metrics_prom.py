"""`/metrics`: Prometheus text fed from each request's record."""

from __future__ import annotations

import shutil
import subprocess

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.conftest import Fakes, RouterFor, SdkFor

ROUTES = """\
  - match: {sensitivity: high}
    backend: local
    reason: private
  - name: main
    default: local
    fallback: sarmalink
"""


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(server: object) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(server.make_url("/metrics")) as r:  # type: ignore[attr-defined]
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return await r.text()


async def test_counters_follow_requests(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    server = await router_for(fakes.policy(ROUTES, faulty=("local",)))
    c = sdk(server)
    msgs: list = [{"role": "user", "content": "hello"}]
    await c.chat.completions.create(model="auto", messages=msgs)
    await c.chat.completions.create(model="error-500", messages=msgs)  # falls back
    secret: list = [{"role": "user", "content": "card 4111 1111 1111 1111"}]
    await c.chat.completions.create(model="auto", messages=secret)  # pinned, local
    with pytest.raises(openai.APIStatusError):
        await c.chat.completions.create(model="error-500", messages=secret)  # blocked
    text = await scrape(server)

    assert (
        value(
            text,
            "llr_requests_total",
            route="main",
            backend="local",
            model="llama3.2",
            status="200",
        )
        == 1
    )
    assert (
        value(
            text,
            "llr_requests_total",
            route="main",
            backend="sarmalink",
            model="smart",
            status="200",
        )
        == 1
    )
    assert (
        value(
            text,
            "llr_requests_total",
            route="0",
            backend="local",
            model="llama3.2",
            status="200",
        )
        == 1
    )
    assert (
        value(
            text,
            "llr_requests_total",
            route="0",
            backend="none",
            model="none",
            status="503",
        )
        == 1
    )
    assert (
        value(
            text,
            "llr_fallbacks_total",
            route="main",
            **{"from": "local"},
            to="sarmalink",
            reason="status",
        )
        == 1
    )
    assert value(text, "llr_privacy_pins_total", outcome="served_locally") == 1
    assert value(text, "llr_privacy_pins_total", outcome="blocked") == 1
    assert value(text, "llr_router_overhead_seconds_count") == 4
    assert value(text, "llr_request_duration_seconds_count", backend="local") == 2
    assert value(text, "llr_tokens_total", backend="sarmalink", direction="out") > 0
    assert "llr_metrics_dropped_total" in text
    for name in ("local", "sarmalink", "frontier"):
        assert value(text, "llr_backend_up", backend=name) == 1


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
async def test_promtool_accepts_exposition(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    server = await router_for(fakes.policy(ROUTES))
    await sdk(server).chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "hi"}]
    )
    text = await scrape(server)
    r = subprocess.run(
        ["promtool", "check", "metrics"],
        input=text.encode(),
        capture_output=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stdout + r.stderr


async def test_backend_up_follows_connect_failures(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    text = fakes.policy(ROUTES).replace(fakes.local.url, "http://127.0.0.1:9")
    server = await router_for(text)
    await sdk(server).chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "hi"}]
    )
    scraped = await scrape(server)
    assert value(scraped, "llr_backend_up", backend="local") == 0
    assert value(scraped, "llr_backend_up", backend="sarmalink") == 1
    assert value(scraped, "llr_backend_up", backend="frontier") == 0  # no key
