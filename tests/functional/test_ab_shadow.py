"""A/B mirroring through the real app: never delays the client, never sends a
pinned request to a non-local candidate, records both arms."""

from __future__ import annotations

import asyncio

import aiohttp

from router.state import MIRROR
from tests.functional.conftest import Fake, Fakes, RouterFor, SdkFor

CARD = "4111 1111 1111 1111"
AB = "ab: {enabled: true, sampleRate: 1.0, maxConcurrent: 2, candidates: {local: %s}}"


async def settle(fake: Fake, count: int) -> None:
    for _ in range(1500):  # 30 s at most: a busy machine is slow, not wrong
        if len(fake.requests) >= count:
            return
        await asyncio.sleep(0.02)


async def test_mirrors_to_candidate(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    text = fakes.policy("  - default: local\n", extra=AB % "sarmalink")
    c = sdk(await router_for(text))
    raw = await c.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hello"}]
    )
    assert raw.headers["x-llr-backend"] == "local"
    assert raw.parse().choices[0].message.content == "echo: hello"
    await settle(fakes.sarmalink, 1)
    assert fakes.sarmalink.models_seen() == ["smart"]
    assert fakes.local.models_seen() == ["llama3.2"]


async def test_never_mirrors_pinned_to_non_local(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    text = fakes.policy("  - default: local\n", extra=AB % "sarmalink")
    server = await router_for(text)
    c = sdk(server)
    for stream in (False, True):
        r = await c.chat.completions.create(
            model="auto",
            stream=stream,
            messages=[{"role": "user", "content": f"card {CARD}"}],
        )
        if stream:
            async for _ in r:  # type: ignore[union-attr]
                pass
    await server.app[MIRROR].close()  # any mirror call would have been sent
    assert fakes.sarmalink.requests == [] and fakes.frontier.requests == []
    assert len(fakes.local.requests) == 2


async def test_mirrors_pinned_to_local_candidate(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    text = fakes.policy("  - default: local\n", extra=AB % "frontier").replace(
        "    type: openai\n", "    type: openai\n    local: true\n"
    )
    c = sdk(await router_for(text))
    await c.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": f"card {CARD}"}]
    )
    await settle(fakes.frontier, 1)
    assert fakes.frontier.models_seen() == ["gpt-4o"]
    assert fakes.sarmalink.requests == []


async def test_failing_candidate_never_fails_the_client(
    fakes: Fakes, router_for: RouterFor, sdk: SdkFor
) -> None:
    text = fakes.policy(
        "  - default: local\n", extra=AB % "sarmalink", faulty=("sarmalink",)
    )
    c = sdk(await router_for(text))
    r = await c.chat.completions.create(
        model="error-500", messages=[{"role": "user", "content": "hi"}]
    )
    assert r.choices[0].message.content == "echo: hi"
    await settle(fakes.sarmalink, 1)
    assert fakes.sarmalink.models_seen() == ["error-500"]


async def test_sampling_is_keyed_on_the_routers_id_not_the_clients(
    fakes: Fakes, router_for: RouterFor
) -> None:
    """Forty requests carrying one client id: with sampling keyed on that id
    all or none would be mirrored; keyed on the router's own id, some are."""
    half = AB.replace("sampleRate: 1.0", "sampleRate: 0.5").replace(
        "maxConcurrent: 2", "maxConcurrent: 64"
    )
    server = await router_for(
        fakes.policy("  - default: local\n", extra=half % "sarmalink")
    )
    body = {"model": "auto", "messages": [{"role": "user", "content": "hello"}]}
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
        for _ in range(40):
            r = await c.post(
                "/v1/chat/completions", json=body, headers={"x-request-id": "same"}
            )
            assert r.status == 200 and r.headers["x-request-id"] == "same"
    await server.app[MIRROR].close()  # every shadow call has finished
    assert 0 < len(fakes.sarmalink.requests) < 40
