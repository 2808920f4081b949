"""The built-in load generator of bench_load.py and bench_peers.py, run as its
own process: HTTP/1.1 keep-alive POSTs to one loopback port from a minimal
asyncio client on uvloop, then one JSON object on stdout.

Modes:
- closed: N connections, each sends its next request as soon as the answer
  to the last is complete (max throughput; what wrk does);
- open: a fixed offered rate spread over up to N connections; latency counts
  from the moment each request was due, not when a connection was free, so a
  server that falls behind shows its queue (wrk2's correction for
  coordinated omission); achieved = answers completed per second;
- burst: N connections each send one request at once and read it to the end
  (the slow-stream memory test samples the server's RSS meanwhile).

Latency is send to last byte; ttfb is send to the first byte of the body
(for a stream, its first event). Only loopback is accepted as a target.

    python bench/loadgen.py --port N --path /v1/chat/completions --body FILE
        [--mode closed|open|burst] [--connections 50] [--duration 10]
        [--warmup 2] [--rate 1000] [--header 'Name: value' ...]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import resource
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import uvloop

LOOPBACK = ("127.0.0.1", "localhost", "::1")
now = time.perf_counter


def raise_fd_limit() -> None:
    """Soft open-files limit up to the hard one (1,000 streams need 1,000+ fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Failed(Exception):
    """One request that got no complete 2xx answer; the message is its kind."""


class Conn(asyncio.Protocol):
    """One keep-alive connection: send a request, parse one response
    (Content-Length or chunked), resolve a future with the status."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.fut: asyncio.Future[int] | None = None
        self.state = 0  # 0 head, 1 sized body, 2 chunked body, 3 until close
        self.remaining = 0
        self.pos = 0
        self.status = 0
        self.first = 0.0
        self.closed = False
        self.close_after = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        fut = self.fut
        if fut is not None and not fut.done():
            if self.state == 3:
                fut.set_result(self.status)
            else:
                fut.set_exception(Failed("disconnect"))

    def send(self, payload: bytes) -> asyncio.Future[int]:
        self.buf.clear()
        self.state = 0
        self.pos = 0
        self.first = 0.0
        self.fut = self.loop.create_future()
        assert self.transport is not None
        self.transport.write(payload)
        return self.fut

    def _done(self) -> None:
        fut = self.fut
        self.fut = None
        if fut is not None and not fut.done():
            fut.set_result(self.status)

    def data_received(self, data: bytes) -> None:
        if self.fut is None:
            return
        buf = self.buf
        buf += data
        if self.state == 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            del buf[: end + 4]
            try:
                self.status = int(head[9:12])
            except ValueError:
                self.fut.set_exception(Failed("bad-response"))
                return
            self.close_after = b"\r\nconnection: close" in head
            if b"\r\ntransfer-encoding: chunked" in head:
                self.state = 2
            else:
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    self.state = 3
                else:
                    stop = head.find(b"\r\n", at + 2)
                    self.remaining = int(head[at + 17 : stop if stop > 0 else None])
                    self.state = 1
            if not buf and self.state == 1 and self.remaining == 0:
                self._done()
                return
        if buf and not self.first:
            self.first = now()
        if self.state == 1:
            if len(buf) >= self.remaining:
                self._done()
        elif self.state == 2:
            self._chunks()

    def _chunks(self) -> None:
        buf = self.buf
        pos = self.pos
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                break
            size = int(bytes(buf[pos:nl]).split(b";", 1)[0], 16)
            if size == 0:
                if len(buf) >= nl + 4:
                    self._done()
                    return
                break
            nxt = nl + 2 + size + 2
            if len(buf) < nxt:
                break
            pos = nxt
        if pos > 65536:
            del buf[:pos]
            pos = 0
        self.pos = pos


def request_bytes(host: str, port: int, path: str, body: bytes, headers: list[str]):
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Run:
    """Shared state of one run: the payload, the clock window, what was seen."""

    def __init__(self, args: argparse.Namespace, payload: bytes) -> None:
        self.args = args
        self.payload = payload
        self.loop = asyncio.get_running_loop()
        self.lat: list[float] = []
        self.ttfb: list[float] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.ok = 0
        self.start = self.measure_from = self.end = 0.0

    async def connect(self) -> Conn:
        transport, conn = await self.loop.create_connection(
            lambda: Conn(self.loop), self.args.host, self.args.port
        )
        conn.transport = transport  # uvloop calls connection_made after this
        return conn

    async def exchange(self, conn: Conn) -> tuple[float, float]:
        """One request on `conn`: (first body byte, end) times; Failed if not 2xx."""
        fut = conn.send(self.payload)
        timer = self.loop.call_later(
            self.args.timeout,
            lambda: fut.done() or fut.set_exception(Failed("timeout")),
        )
        try:
            status = await fut
        finally:
            timer.cancel()
        end = now()
        if not 200 <= status < 300:
            raise Failed(f"status-{status}")
        return conn.first or end, end

    def record(self, sent: float, first: float, end: float) -> None:
        if sent >= self.measure_from and end <= self.end:
            self.ok += 1
            self.lat.append(end - sent)
            self.ttfb.append(first - sent)

    async def keep(self, conn: Conn | None, exc: BaseException | None) -> Conn | None:
        """The connection to use next: None after a failure or a close."""
        if conn is not None and (exc is not None or conn.closed or conn.close_after):
            if conn.transport is not None:
                conn.transport.close()
            return None
        return conn


async def closed_worker(run: Run) -> None:
    conn: Conn | None = None
    while (t := now()) < run.end:
        try:
            if conn is None:
                conn = await run.connect()
                t = now()
            first, end = await run.exchange(conn)
            run.record(t, first, end)
            conn = await run.keep(conn, None)
        except (Failed, OSError) as exc:
            if t >= run.measure_from:
                run.errors[exc.args[0] if isinstance(exc, Failed) else "connect"] += 1
            conn = await run.keep(conn, exc)
            if isinstance(exc, OSError):
                await asyncio.sleep(0.01)
    if conn is not None and conn.transport is not None:
        conn.transport.close()


async def open_worker(run: Run, due_q: asyncio.Queue[float | None]) -> None:
    conn: Conn | None = None
    while (due := await due_q.get()) is not None:
        try:
            if conn is None:
                conn = await run.connect()
            first, end = await run.exchange(conn)
            run.record(due, first, end)
            conn = await run.keep(conn, None)
        except (Failed, OSError) as exc:
            if due >= run.measure_from:
                run.errors[exc.args[0] if isinstance(exc, Failed) else "connect"] += 1
            conn = await run.keep(conn, exc)
    if conn is not None and conn.transport is not None:
        conn.transport.close()


async def schedule(run: Run, rate: float, due_q: asyncio.Queue[float | None]) -> int:
    """Put each request's due time on the queue at `rate` per second; the
    count of those still queued at the end (never sent in time)."""
    i = 0
    while True:
        due = run.start + i / rate
        if due >= run.end:
            break
        t = now()
        if due > t:
            await asyncio.sleep(due - t)
            continue
        due_q.put_nowait(due)
        i += 1
    late = 0
    while not due_q.empty():
        due_q.get_nowait()
        late += 1
    return late


def pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1e3, 4)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    body = Path(args.body).read_bytes()
    headers = [h for h in args.header]
    payload = request_bytes(args.host, args.port, args.path, body, headers)
    run = Run(args, payload)
    run.start = now() + 0.05
    run.measure_from = run.start + args.warmup
    run.end = run.measure_from + args.duration
    result: dict[str, Any] = {"mode": args.mode, "connections": args.connections}
    if args.mode == "closed":
        await asyncio.sleep(max(0.0, run.start - now()))
        workers = [closed_worker(run) for _ in range(args.connections)]
        await asyncio.wait_for(asyncio.gather(*workers), args.duration + 60)
    elif args.mode == "open":
        due_q: asyncio.Queue[float | None] = asyncio.Queue()
        tasks = [
            asyncio.ensure_future(open_worker(run, due_q))
            for _ in range(args.connections)
        ]
        late = await schedule(run, args.rate, due_q)
        for _ in tasks:
            due_q.put_nowait(None)
        _, pending = await asyncio.wait(tasks, timeout=args.timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        result |= {"offered_rps": args.rate, "late": late, "unfinished": len(pending)}
    else:  # burst: everything at once, measured from the start, no window
        run.measure_from = 0.0
        run.end = float("inf")

        async def one() -> None:
            t = now()
            conn = None
            try:
                conn = await run.connect()
                first, end = await run.exchange(conn)
                run.record(t, first, end)
            except (Failed, OSError) as exc:
                run.errors[exc.args[0] if isinstance(exc, Failed) else "connect"] += 1
            finally:
                if conn is not None and conn.transport is not None:
                    conn.transport.close()

        t0 = now()
        await asyncio.gather(*(one() for _ in range(args.connections)))
        result["elapsed_s"] = round(now() - t0, 3)
    lat, ttfb = sorted(run.lat), sorted(run.ttfb)
    window = args.duration if args.mode != "burst" else result["elapsed_s"]
    result |= {
        "requests": run.ok,
        "errors": sum(run.errors.values()),
        "error_kinds": dict(run.errors),
        "rps": round(run.ok / window, 1) if window else None,
        "p50_ms": pct(lat, 50),
        "p90_ms": pct(lat, 90),
        "p99_ms": pct(lat, 99),
        "max_ms": round(lat[-1] * 1e3, 3) if lat else None,
        "ttfb_p50_ms": pct(ttfb, 50),
        "ttfb_p99_ms": pct(ttfb, 99),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/v1/chat/completions")
    ap.add_argument("--body", required=True, help="file holding the request body")
    ap.add_argument("--header", action="append", default=[], help="'Name: value'")
    ap.add_argument("--mode", choices=["closed", "open", "burst"], default="closed")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=0.0)
    ap.add_argument("--rate", type=float, default=1000.0, help="open mode, req/s")
    ap.add_argument("--timeout", type=float, default=10.0, help="per request, s")
    args = ap.parse_args(argv)
    if args.host not in LOOPBACK and not args.host.startswith("127."):
        ap.error(f"{args.host}: only loopback targets")
    raise_fd_limit()
    result = uvloop.run(main_async(args))
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
