"""Privacy under faults, as one seeded property: over random policies,
request classifications, fault sequences at the local backend, breaker
settings (so circuits open, half-open and close along the way) and A/B
settings, zero sensitive requests reach a non-local backend, counted from
what the SarmaLink and OpenAI fakes received (client calls and mirrors)."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import aiohttp

from router.state import MIRROR
from tests.functional.conftest import Fakes, RouterFor

SEED = 20261202
POLICIES = 40
REQUESTS = 6
FAULTS = [
    "llama3.2", "llama3.2", "error-500", "error-503", "hang", "reset",
    "cut-stream", "garbage", "bad-frames", "retry-after-1", "burst-2",
    "recover-2", "slow-200",
]  # fmt: skip
CLOUDS = ["sarmalink", "frontier"]


def _policy(fakes: Fakes, rng: random.Random) -> str:
    models = ", ".join(["llama3.2", *sorted(set(FAULTS) - {"llama3.2"})])
    failures = rng.randint(1, 4)
    cooldown = rng.choice([50, 200, 5000])
    routes = []
    for match in rng.sample(
        ["{sensitivity: high}", "{sensitivity: medium}", "{task: code}",
         "{complexity: low}", "{modality: text}"],
        rng.randint(0, 3),
    ):  # fmt: skip
        chain = rng.sample(["local", *CLOUDS], rng.randint(1, 3))
        routes.append(f"  - match: {match}\n    backend: {chain[0]}\n")
        if chain[1:]:
            routes.append(f"    fallback: [{', '.join(chain[1:])}]\n")
    chain = rng.sample(["local", *CLOUDS], rng.randint(1, 3))
    routes.append(f"  - default: {chain[0]}\n")
    if chain[1:]:
        routes.append(f"    fallback: [{', '.join(chain[1:])}]\n")
    ab = ""
    if rng.random() < 0.6:
        primary = rng.choice(["local", *CLOUDS])
        candidate = rng.choice([b for b in ["local", *CLOUDS] if b != primary])
        ab = (
            "ab: {enabled: true, sampleRate: 1.0, maxConcurrent: 16, "
            f"candidates: {{{primary}: {candidate}}}}}\n"
        )
    return f"""
backends:
  local:
    type: ollama
    endpoint: {fakes.local.url}
    models: [{models}]
    timeoutMs: 300
    circuit: {{failures: {failures}, cooldownMs: {cooldown}}}
  sarmalink: {{type: sarmalink, endpoint: '{fakes.sarmalink.url}/v1',
              model: smart, timeoutMs: 2000}}
  frontier: {{type: openai, endpoint: '{fakes.frontier.url}/v1',
             model: gpt-4o, timeoutMs: 2000}}
routes:
{"".join(routes)}
{ab}"""


def _request(
    rng: random.Random, marker: str
) -> tuple[dict[str, Any], dict[str, str], bool]:
    """A body, its headers and whether it is sensitive (at the pin level)."""
    kind = rng.choice(
        ["ssn", "card", "key", "tool", "metadata", "header", "email", "plain", "code"]
    )
    text = {
        "ssn": f"{marker} my ssn is 078-05-1120",
        "card": f"{marker} card 4111 1111 1111 1111",
        "key": f"{marker} key ghp_Vq3uZ8kLm2Xw9Rt4Yb7Nc1Pd6Fh0Js5Ga2Ke",
        "email": f"{marker} mail me at jane@example.com",
        "code": f"{marker}\n```python\nprint(1)\n```\nfix it",
    }.get(kind, f"{marker} hello there")
    messages: list[dict[str, Any]] = [{"role": "user", "content": text}]
    if kind == "tool":
        messages = [
            {"role": "user", "content": f"{marker} look it up"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "ssn 078-05-1120"},
        ]  # fmt: skip
    body: dict[str, Any] = {
        "model": rng.choice(FAULTS),
        "stream": rng.random() < 0.5,
        "messages": messages,
    }
    headers: dict[str, str] = {}
    if kind == "metadata":
        body["metadata"] = {"sensitivity": "high"}
    if kind == "header":
        headers["x-llr-sensitivity"] = "high"
    sensitive = kind in ("ssn", "card", "key", "tool", "metadata", "header")
    return body, headers, sensitive


async def test_no_sensitive_request_reaches_a_cloud_whatever_fails(
    fakes: Fakes, router_for: RouterFor
) -> None:
    rng = random.Random(SEED)
    sensitive_markers: list[str] = []
    statuses: dict[int, int] = {}
    n = 0
    for _ in range(POLICIES):
        server = await router_for(_policy(fakes, rng), db="off")
        async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
            for _ in range(REQUESTS):
                n += 1
                marker = f"<case-{n}>"
                body, headers, sensitive = _request(rng, marker)
                async with c.post(
                    "/v1/chat/completions", json=body, headers=headers
                ) as r:
                    with contextlib.suppress(aiohttp.ClientPayloadError):
                        await r.read()  # a broken stream ends early
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    assert r.status < 500 or r.status in (502, 503, 504), r.status
                if sensitive:
                    sensitive_markers.append(marker)

        await server.app[MIRROR].close()  # mirrors have all been sent
    clouds = fakes.sarmalink.texts_seen() + fakes.frontier.texts_seen()
    leaked = [m for m in sensitive_markers if m in clouds]
    assert leaked == []
    # The property was exercised: sensitive and plain traffic, served and
    # refused, and plain traffic did reach the clouds.
    assert len(sensitive_markers) > POLICIES
    assert statuses.get(200, 0) > 0 and statuses.get(503, 0) > 0
    assert fakes.sarmalink.requests and fakes.frontier.requests
