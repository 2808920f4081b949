"""Backend faults, each with a sensitive and a non-sensitive request, and
what every fake received.

The primary is local (Ollama's NDJSON, or an OpenAI-type backend on loopback
trusted as local for SSE) and misbehaves by model name (bench/fake_upstream:
connection refused, reset mid-body, slow first byte, one byte at a time,
hang, invalid JSON, broken framing, wrong content type, 429 with
Retry-After, 5xx bursts, a backend that recovers). The fallback is the
SarmaLink fake. A non-sensitive request falls back when the failure comes
before the first byte; a sensitive one (an SSN) never reaches SarmaLink or
OpenAI, whatever the fault: it is answered locally or refused.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.functional.conftest import Fakes, RouterFor
from tests.functional.test_cli import free_port

SSN = "078-05-1120"
FAULTS = [
    "refused", "reset", "slow-900", "drip-300", "hang", "garbage", "bad-frames",
    "wrong-type", "retry-after-30", "error-500", "cut-stream",
]  # fmt: skip
# fault -> (non-sensitive: status, served by; sensitive: status; requests
# the local fake received), non-stream. A JSON answer labelled text/html is
# still JSON and is taken; a 429's Retry-After opens the local circuit for
# that long, so the sensitive request is not sent there at all.
EXPECT = {
    "refused": (200, "sarmalink", 503, 0),
    "reset": (200, "sarmalink", 503, 2),
    "slow-900": (200, "sarmalink", 503, 2),
    "drip-300": (200, "sarmalink", 503, 2),
    "hang": (200, "sarmalink", 503, 2),
    "garbage": (200, "sarmalink", 503, 2),
    "bad-frames": (200, "sarmalink", 503, 2),
    "wrong-type": (200, "local", 200, 2),
    "retry-after-30": (200, "sarmalink", 503, 1),
    "error-500": (200, "sarmalink", 503, 2),
    "cut-stream": (200, "sarmalink", 503, 2),
}


def policy(fakes: Fakes, primary: str, fault: str) -> str:
    """`primary` (ollama or openai) on the local fake, serving `fault`."""
    endpoint = fakes.local.url
    if fault == "refused":
        endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    kind = "type: ollama" if primary == "ollama" else "type: openai, local: true"
    if primary == "openai":
        endpoint += "/v1"
    return f"""
backends:
  local: {{{kind}, endpoint: '{endpoint}', model: llama3.2,
          models: [llama3.2, {fault}], timeoutMs: 500}}
  sarmalink: {{type: sarmalink, endpoint: '{fakes.sarmalink.url}/v1',
              model: smart, timeoutMs: 5000}}
  frontier: {{type: openai, endpoint: '{fakes.frontier.url}/v1', model: gpt-4o}}
routes:
  - match: {{sensitivity: high}}
    backend: local
    fallback: [sarmalink, frontier]
  - default: local
    fallback: sarmalink
"""


async def ask(
    c: aiohttp.ClientSession, model: str, text: str, stream: bool
) -> tuple[int, str | None, bytes]:
    body: dict[str, Any] = {
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }
    async with c.post("/v1/chat/completions", json=body) as r:
        try:
            raw = await r.read()
        except aiohttp.ClientPayloadError:
            raw = b"<cut>"
        return r.status, r.headers.get("x-llr-backend"), raw


# A stream that drips within timeoutMs between bytes is relayed as slowly as
# it comes (only answers that are not streamed have a whole-answer
# deadline); streams get a slow stream after the first frame instead.
CASES = [(f, False) for f in FAULTS] + [
    ("slow-stream-200" if f.startswith("drip") else f, True) for f in FAULTS
]
EXPECT["slow-stream-200"] = (200, "local", 200, 2)


@pytest.mark.parametrize("primary", ["ollama", "openai"])
@pytest.mark.parametrize(
    ("fault", "stream"),
    CASES,
    ids=[f"{f}-{'stream' if s else 'json'}" for f, s in CASES],
)
async def test_fault_sensitive_and_not(
    fakes: Fakes, router_for: RouterFor, fault: str, stream: bool, primary: str
) -> None:
    server = await router_for(policy(fakes, primary, fault))
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
        plain = await ask(c, fault, "say hello", stream)
        plain_local = len(fakes.local.requests)
        plain_cloud = len(fakes.sarmalink.requests)
        secret = await ask(c, fault, f"my ssn is {SSN}", stream)
    # Nothing sensitive left the machine, whatever the fault.
    assert fakes.frontier.requests == []
    assert len(fakes.sarmalink.requests) == plain_cloud
    assert SSN not in fakes.sarmalink.texts_seen()
    expect_status, expect_backend, expect_secret, local_got = EXPECT[fault]
    assert plain_local == min(local_got, 1)
    assert len(fakes.local.requests) == local_got
    if not stream or fault in BEFORE_FIRST_BYTE:
        assert plain[:2] == (expect_status, expect_backend), plain
        assert plain_cloud == (1 if expect_backend == "sarmalink" else 0)
        assert secret[0] == expect_secret, secret
        if expect_secret == 503:
            assert b"privacy_pinned" in secret[2]
    else:
        # The first byte was out: no fallback, the stream ends in an error.
        assert plain[:2] == (200, "local") and plain_cloud == 0, plain
        assert secret[:2] == (200, "local"), secret


# Faults that fail before a stream's first byte (so a stream falls back too).
BEFORE_FIRST_BYTE = {
    "slow-stream-200", "refused", "slow-900", "hang", "retry-after-30", "error-500", "garbage",
    "wrong-type",
}  # fmt: skip


async def test_bursts_and_recovery_are_followed(
    fakes: Fakes, router_for: RouterFor
) -> None:
    """burst-2: the primary fails 2, serves 2, fails 2; recover-3: fails 3
    then serves. Each failure falls back; each success is the primary's."""
    for fault, pattern in (
        ("burst-2", ["sarmalink"] * 2 + ["local"] * 2 + ["sarmalink"] * 2),
        ("recover-3", ["sarmalink"] * 3 + ["local"] * 3),
    ):
        fakes.local.clear()
        fakes.sarmalink.clear()
        text = policy(fakes, "ollama", fault).replace(
            "timeoutMs: 500}", "timeoutMs: 500, circuit: {failures: 100}}", 1
        )
        server = await router_for(text)
        async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
            served = [(await ask(c, fault, "hello", False))[1] for _ in pattern]
            assert served == pattern
            secret = await ask(c, fault, f"ssn {SSN}", False)
        assert secret[0] in (200, 503)
        assert SSN not in fakes.sarmalink.texts_seen()
        assert len(fakes.local.requests) == len(pattern) + 1
        assert fakes.frontier.requests == []
