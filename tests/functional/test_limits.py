"""Limits at the edge, against the real server: header size and count (431),
idle and slow connections closed, a slow body a 408, the concurrency cap a
503 with Retry-After, counts and part types a 400. Every answer is OpenAI's
error shape; none echoes what was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer

from router.app import create_app
from router.policy import load_policy
from router.settings import Limits, Settings
from router.state import GATE, STORE
from tests.functional.conftest import EdgeTestServer, Fakes, RouterFor

EXAMPLE = str(Path(__file__).resolve().parents[2] / "policy.example.yaml")
CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
# Generous against a busy machine: the assertions are on what happens, and
# these bound only how long a test may wait for it.
WAIT_S = 20.0
QUICK = Limits(idle_timeout_s=0.5, body_timeout_s=0.5)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(policy=EXAMPLE, db=str(tmp_path / "m.db"), limits=QUICK)
    s = EdgeTestServer(create_app(load_policy(EXAMPLE), settings), host="127.0.0.1")
    await s.start_server()
    yield s
    await s.close()


async def exchange(server: TestServer, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), WAIT_S)
    finally:
        writer.close()


def error_of(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    error = orjson.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return status, error


SECRET = b"sk-live-" + b"s" * 40


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + SECRET + b"x" * 9000 + b"\r\n",
        b"".join(b"X-H%d: %s\r\n" % (i, SECRET) for i in range(200)),
    ],
    ids=["one-long-field", "too-many-fields"],
)
async def test_oversized_headers_are_a_431_that_echoes_nothing(
    server: TestServer, headers: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await exchange(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    )
    status, error = error_of(answer)
    assert status == 431 and error["code"] == "request_header_fields_too_large"
    assert SECRET not in answer
    assert SECRET.decode() not in caplog.text and "Traceback" not in caplog.text


async def test_malformed_request_line_is_an_openai_400(server: TestServer) -> None:
    status, error = error_of(await exchange(server, b"\x16\x03\x01 nonsense\r\n\r\n"))
    assert status == 400 and error["type"] == "invalid_request_error"


@pytest.mark.parametrize("dribble", [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n"])
async def test_idle_or_dribbling_connections_are_closed(
    server: TestServer, dribble: bytes
) -> None:
    """Nothing at all, or a head one byte every 50 ms (it would take longer
    than the idle timeout to finish): the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    try:
        for byte in dribble:
            if reader.at_eof() or writer.is_closing():
                break
            writer.write(bytes([byte]))
            await asyncio.sleep(0.05)
        rest = await asyncio.wait_for(reader.read(), deadline - loop.time())
    except ConnectionResetError:
        rest = b""
    finally:
        writer.close()
    assert not rest.startswith(b"HTTP/1.1 200")


async def test_a_body_that_does_not_arrive_in_time_is_a_408_with_its_row(
    server: TestServer,
) -> None:
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    status, error = error_of(await exchange(server, head + b'{"model":'))
    assert status == 408 and error["code"] == "request_timeout"
    store = server.app[STORE]
    await store.flush()
    assert store.written == 1


async def test_past_the_concurrency_cap_is_a_503_with_retry_after(
    fakes: Fakes, router_for: RouterFor
) -> None:
    policy = fakes.policy("  - default: local\n", timeout_ms=600)
    limits = Limits(max_concurrent=2, max_queued=1, queue_timeout_s=0.1)
    server = await router_for(policy, limits=limits)
    body = {**CHAT, "model": "hang"}  # held until the backend timeout (504)
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as client:

        async def one() -> tuple[int, str | None]:
            async with client.post("/v1/chat/completions", json=body) as r:
                await r.read()
                return r.status, r.headers.get("Retry-After")

        got = await asyncio.gather(*(one() for _ in range(5)))
    assert sorted(got) == [(503, "1")] * 3 + [(504, None)] * 2
    gate = server.app[GATE]
    assert gate.active == 0 and gate.waiting == 0 and gate.rejected == 3
    assert len(fakes.local.requests) == 2


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/route", {**CHAT, "messages": CHAT["messages"] * 5000}, "messages"),
        ("/v1/chat/completions", {**CHAT, "model": "m" * 300}, "model"),
        ("/v1/route", {**CHAT, "tools": [{"type": "function"}] * 200}, "tools"),
        (
            "/v1/responses",
            {
                "model": "auto",
                "input": [
                    {
                        "role": "user",
                        "content": [{"type": "input_text", "text": "a"}] * 9000,
                    }
                ],
            },
            "input",
        ),
    ],
)
async def test_counts_past_the_defaults_are_a_400(
    fakes: Fakes, router_for: RouterFor, path: str, body: object, param: str
) -> None:
    server = await router_for(fakes.policy("  - default: local\n"))
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as client:
        r = await client.post(path, json=body)
        error = (await r.json())["error"]
    assert r.status == 400 and error["param"] == param
    assert all(f.requests == [] for f in fakes.all())


@pytest.mark.parametrize(
    ("path", "part", "param", "allowed"),
    [
        ("/v1/chat/completions", "messages", "messages[0].content[0].type",
         "text, image_url, input_audio, file, refusal"),
        ("/v1/responses", "input", "input[0].content[0].type",
         "input_text, input_image, input_file, output_text, refusal, reasoning_text"),
    ],
)  # fmt: skip
async def test_unknown_part_types_are_a_400_naming_the_allowed_ones(
    fakes: Fakes,
    router_for: RouterFor,
    path: str,
    part: str,
    param: str,
    allowed: str,
) -> None:
    server = await router_for(fakes.policy("  - default: local\n"))
    message = {"role": "user", "content": [{"type": "hologram", "text": "hi"}]}
    body = {"model": "auto", part: [message]}
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as client:
        r = await client.post(path, json=body)
        error = (await r.json())["error"]
    assert r.status == 400 and error["param"] == param
    assert error["message"].endswith(f"expected one of {allowed}")
    assert all(f.requests == [] for f in fakes.all())
