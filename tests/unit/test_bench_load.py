"""The pieces of bench/bench_load.py that can be wrong without a load: the
built-in generator's response parser, the floor's relay, the bodies (sizes,
50 chunks), /proc socket addresses, and the report's same-round ratios and
pass/miss lines."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def _load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.fixture(scope="module")
def mods() -> Iterator[dict[str, ModuleType]]:
    yield {n: _load(n) for n in ("loadgen", "loadkit", "loadreport", "floor")}


def _feed(loadgen: ModuleType, response: bytes, step: int) -> tuple[Any, Any]:
    loop = asyncio.new_event_loop()
    try:
        conn = loadgen.Conn(loop)

        class Sink:
            def write(self, data: bytes) -> None:
                pass

            def close(self) -> None:
                pass

        conn.transport = Sink()
        fut = conn.send(b"POST / HTTP/1.1\r\n\r\n")
        for i in range(0, len(response), step):
            assert not fut.done(), "answered before the last byte"
            conn.data_received(response[i : i + step])
        return fut, conn
    finally:
        loop.close()


SIZED = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: b\r\n\r\nhello world"
EVENTS = [b"data: ", b'{"a": 1}\n\n', b"data: [DONE]\n\n\r\n"]
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(e), e) for e in EVENTS)
    + b"0\r\n\r\n"
)


@pytest.mark.parametrize("response", [SIZED, CHUNKED], ids=["sized", "chunked"])
@pytest.mark.parametrize("step", [1, 2, 7, 10_000])
def test_generator_reads_one_whole_response(
    mods: dict[str, ModuleType], response: bytes, step: int
) -> None:
    fut, conn = _feed(mods["loadgen"], response, step)
    assert fut.done() and fut.result() == 200
    assert conn.first > 0


def test_generator_counts_a_cut_response_as_a_failure(
    mods: dict[str, ModuleType],
) -> None:
    loadgen = mods["loadgen"]
    loop = asyncio.new_event_loop()
    try:
        conn = loadgen.Conn(loop)
        conn.transport = type("T", (), {"write": lambda self, d: None})()
        fut = conn.send(b"x")
        conn.data_received(SIZED[:-3])
        conn.connection_lost(None)
        with pytest.raises(loadgen.Failed, match="disconnect"):
            fut.result()
    finally:
        loop.close()


def test_generator_refuses_targets_off_loopback(mods: dict[str, ModuleType]) -> None:
    with pytest.raises(SystemExit):
        mods["loadgen"].main(["--host", "10.0.0.1", "--port", "1", "--body", "x"])


def test_bodies_have_their_sizes_and_the_stream_has_50_chunks(
    mods: dict[str, ModuleType],
) -> None:
    kit = mods["loadkit"]
    convs = kit.bodies()
    size = {
        k: len(msgspec.json.encode(kit.chat("gpt-4o", v))) for k, v in convs.items()
    }
    assert 900 <= size["1k"] <= 1200
    for name in ("prose-32k", "code-32k"):
        assert 30_000 <= size[name] <= 34_500, (name, size[name])
    assert "```python" in convs["code-32k"][1][1]
    spec = importlib.util.spec_from_file_location(
        "fake_for_bench", BENCH / "fake_upstream.py"
    )
    assert spec is not None and spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    fake.PIECES = 50
    said = convs["stream"][-1][1]
    assert len(fake._pieces(f"echo: {said[:200]}")) == 50


def test_proc_socket_addresses_decode(mods: dict[str, ModuleType]) -> None:
    addr = mods["loadkit"]._address
    assert str(addr("0100007F")) == "127.0.0.1"
    assert str(addr("0000000000000000FFFF00000100007F")) == "127.0.0.1"
    assert str(addr("00000000000000000000000001000000")) == "::1"
    assert not addr("0101A8C0").is_loopback  # 192.168.1.1


def _row(rnd: int, target: str, **kw: Any) -> dict[str, Any]:
    return {"round": rnd, "measure": "load50", "scenario": "chat-1k", "target": target,
            "errors": 0, **kw}  # fmt: skip


def test_report_pairs_rounds_and_says_pass_or_miss(
    mods: dict[str, ModuleType],
) -> None:
    rep = mods["loadreport"]
    rows = [
        _row(1, "floor", rps=1000.0, p99_ms=10.0),
        _row(1, "router-1", rps=800.0, p99_ms=14.0),
        _row(2, "floor", rps=2000.0, p99_ms=20.0),
        _row(2, "router-1", rps=1400.0, p99_ms=40.0),
    ]
    rs = rep.Rows(rows, ["direct", "floor", "router-1"])
    # Same-round ratios 0.8 and 0.7, not 2200 / 3000.
    assert rs.paired("load50", "chat-1k", "router-1", "floor", rep.ratio("rps")) == 0.75
    figs = rep.figures(rows, ["floor", "router-1"], None)
    lines = rep.verdicts(figs, 1000)
    assert lines[0].strip().startswith("pass") and "0.75x" in lines[0]
    assert lines[1].strip().startswith("MISS")  # p99 1.4x and 2.0x: median 1.7
    assert all(x.strip().startswith("not measured") for x in lines[2:])
    table = rep.tables(rows, ["floor", "router-1"])
    assert "| router-1 | 800-1,400 | 0.75 |" in table


MakeClient = Callable[
    [web.Application], Awaitable[TestClient[web.Request, web.Application]]
]


async def test_floor_relays_json_and_streams_as_the_fake_sends_them(
    mods: dict[str, ModuleType], aiohttp_client: MakeClient
) -> None:
    spec = importlib.util.spec_from_file_location(
        "fake_for_floor", BENCH / "fake_upstream.py"
    )
    assert spec is not None and spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    upstream = TestServer(fake.make_app(record=False))
    await upstream.start_server()
    try:
        floor = await aiohttp_client(mods["floor"].make_app(str(upstream.make_url(""))))
        direct = await aiohttp_client(fake.make_app(record=False))
        for stream in (False, True):
            body = {"model": "gpt-4o", "stream": stream,
                    "messages": [{"role": "user", "content": "hello floor"}]}  # fmt: skip
            got = await floor.post("/v1/chat/completions", json=body)
            want = await direct.post("/v1/chat/completions", json=body)
            assert got.status == want.status == 200
            assert got.headers["Content-Type"] == want.headers["Content-Type"]
            assert await got.read() == await want.read()
            if stream:
                assert got.headers.get("Transfer-Encoding") == "chunked"
    finally:
        await upstream.close()
