"""The floor of this stack for bench_load.py: a bare pass-through with no
logic, an aiohttp server on uvloop in front of one pooled aiohttp
ClientSession. Reads the body, POSTs it to the same path upstream, relays
status, headers and body; a chunked (streaming) answer is relayed chunk by
chunk as it arrives. Whatever the router does beyond this is its own cost.

    python bench/floor.py --port N --upstream http://127.0.0.1:M
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import aiohttp
import uvloop
from aiohttp import web
from multidict import CIMultiDict

UPSTREAM = web.AppKey("floor.upstream", str)
SESSION = web.AppKey("floor.session", aiohttp.ClientSession)
# Not relayed: hop-by-hop, and what aiohttp sets itself for the body it sends.
SKIP = frozenset(
    ("content-length", "transfer-encoding", "connection", "keep-alive", "date")
)
FORWARD = ("Content-Type", "Authorization", "Accept")


async def relay(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    headers = {k: v for k in FORWARD if (v := request.headers.get(k)) is not None}
    url = request.app[UPSTREAM] + request.path_qs
    async with request.app[SESSION].post(url, data=body, headers=headers) as up:
        out = CIMultiDict(
            (k, v) for k, v in up.headers.items() if k.lower() not in SKIP
        )
        if up.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return web.Response(status=up.status, body=await up.read(), headers=out)
        response = web.StreamResponse(status=up.status, headers=out)
        await response.prepare(request)
        async for chunk in up.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response


async def _session(app: web.Application):
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
    app[SESSION] = aiohttp.ClientSession(
        connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout()
    )
    yield
    await app[SESSION].close()


def make_app(upstream: str) -> web.Application:
    """The pass-through: every path relayed to `upstream`."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.cleanup_ctx.append(_session)
    app.router.add_route("*", "/{tail:.*}", relay)
    return app


async def serve(host: str, port: int, upstream: str) -> None:
    app = make_app(upstream)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        print(f"floor listening on http://{host}:{port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT")
    args = ap.parse_args(argv)
    uvloop.run(serve(args.host, args.port, args.upstream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
