"""Hostile or broken input at the edge: a clear 4xx, never a 500 or a lost row."""

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
from router.settings import Settings
from router.state import STORE
from tests.functional.conftest import EdgeTestServer

EXAMPLE = str(Path(__file__).resolve().parents[2] / "policy.example.yaml")
CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
AUTH = {"Authorization": "Bearer k", "Content-Type": "application/json"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(
        policy=EXAMPLE, db=str(tmp_path / "m.db"), api_keys=frozenset({"k"})
    )
    app = create_app(load_policy(EXAMPLE), settings)
    s = EdgeTestServer(app, host="127.0.0.1")
    await s.start_server()
    yield s
    await s.close()


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
        yield c


async def raw_post(server: TestServer, path: bytes, header: bytes) -> bytes:
    """POST the chat body with one raw header line, as bytes on the wire."""
    body = orjson.dumps(CHAT)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\n" + header + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_non_utf8_bearer_is_a_401(server: TestServer) -> None:
    answer = await raw_post(server, b"/v1/route", b"Authorization: Bearer \xff\xfe")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"invalid_api_key" in answer


@pytest.mark.parametrize(
    "body",
    [
        b'{"model":"auto","messages":[{"role":"user","content":"hi"}],"metadata":'
        + b"[" * 200_000
        + b"]" * 200_000
        + b"}",
        b'{"model":"auto","messages":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["deep-extra-field", "deep-messages"],
)
@pytest.mark.parametrize("path", ["/v1/route", "/v1/chat/completions"])
async def test_deep_nesting_is_a_400(
    client: aiohttp.ClientSession, path: str, body: bytes
) -> None:
    r = await client.post(path, data=body, headers=AUTH)
    assert r.status == 400, await r.text()
    assert (await r.json())["error"]["type"] == "invalid_request_error"


async def test_number_out_of_range_is_a_400_not_a_500(
    client: aiohttp.ClientSession,
) -> None:
    body = (
        b'{"model":"auto","temperature":1e999,'
        b'"messages":[{"role":"user","content":"hi"}]}'
    )
    r = await client.post("/v1/chat/completions", data=body, headers=AUTH)
    assert r.status == 400, await r.text()
    assert "cannot be forwarded" in (await r.json())["error"]["message"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-42.a:b/c", True), ("x" * 128, True), ("x" * 129, False), ("a b", False)],
)
async def test_plain_client_request_ids_are_echoed_even_on_errors(
    client: aiohttp.ClientSession, given: str, kept: bool
) -> None:
    # No backend is running: the answer is an error, and says whose request.
    r = await client.post(
        "/v1/chat/completions", json=CHAT, headers={**AUTH, "x-request-id": given}
    )
    assert r.status >= 400
    rid = r.headers["x-request-id"]
    assert (rid == given) is kept and rid
    assert r.headers["x-llr-route"] == "2"


async def test_non_ascii_request_id_is_replaced_and_its_row_is_kept(
    server: TestServer,
) -> None:
    answer = await raw_post(
        server,
        b"/v1/chat/completions",
        b"Authorization: Bearer k\r\nX-Request-Id: bad\xff",
    )
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"x-request-id: bad" not in head and b"x-request-id: " in head
    store = server.app[STORE]
    await store.flush()
    assert store.dropped == 0 and store.written == 1


@pytest.mark.parametrize(
    ("path", "body", "param", "allowed"),
    [
        (
            "/v1/chat/completions",
            {"model": "auto", "messages": [{"role": "wizard", "content": "hi"}]},
            "messages[0].role",
            "developer, system, user, assistant, tool, function",
        ),
        (
            "/v1/responses",
            {"model": "auto", "input": [{"role": "tool", "content": "hi"}]},
            "input[0].role",
            "user, assistant, system, developer",
        ),
    ],
)
async def test_unknown_roles_are_a_400_naming_the_allowed_ones(
    client: aiohttp.ClientSession,
    path: str,
    body: dict[str, object],
    param: str,
    allowed: str,
) -> None:
    r = await client.post(path, json=body, headers=AUTH)
    assert r.status == 400
    error = (await r.json())["error"]
    assert error["param"] == param
    assert error["message"].endswith(f"expected one of {allowed}")


HOSTILE_IDS = [
    b"bad\xff",
    b"x" * 8000,
    b"a b",
    b"\xc3\xa9t\xc3\xa9",
    b"",
    b"'; DROP TABLE requests; --",
    b"ok-id-1",
]


async def test_hostile_request_ids_sent_together_each_keep_their_row(
    server: TestServer,
) -> None:
    ids = [HOSTILE_IDS[i % len(HOSTILE_IDS)] for i in range(42)]
    answers = await asyncio.gather(
        *(
            raw_post(
                server,
                b"/v1/chat/completions",
                b"Authorization: Bearer k\r\nX-Request-Id: " + rid,
            )
            for rid in ids
        )
    )
    assert all(a.startswith(b"HTTP/1.1 ") for a in answers)
    store = server.app[STORE]
    await store.flush()
    assert (store.written, store.dropped) == (42, 0)
    kept = [row[0] for row in await store_ids(server)]
    assert len(kept) == 42 and kept.count("ok-id-1") == 6
    assert all(len(k) <= 128 and k.isascii() and k.isprintable() for k in kept)


async def test_a_control_character_in_a_header_is_an_openai_400(
    server: TestServer,
) -> None:
    answer = await raw_post(server, b"/v1/route", b"X-Request-Id: ctl\x01x")
    assert answer.split(b" ", 2)[1] == b"400", answer[:200]  # HTTP/1.0: refused early
    assert b'"invalid_request_error"' in answer and b"ctl" not in answer


async def store_ids(server: TestServer) -> list[tuple[str]]:
    conn = server.app[STORE]._rconn
    async with conn.execute("SELECT request_id FROM requests") as cur:
        return [tuple(r) for r in await cur.fetchall()]
