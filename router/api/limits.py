"""Decode stage, its bounds: what one request may cost before the pipeline
takes it (docs/operations.md lists each limit, its setting and its answer).

- `Gate`: requests handled at once, with a bounded queue; past both, a 503
  `overloaded` with `Retry-After`. Never unbounded memory: a request waits
  in the queue before its body is read.
- `read_body`: the body within `body_timeout_s` of the head (slow senders
  get a 408); a body already received is read without a timer.
- `check_request`: counts and lengths of the decoded request, on the one
  decode (no second parse): messages, content parts, tools, model name.
- `Drain`: the proxied requests in flight, so a shutdown waits for them up
  to its deadline and then ends the rest with a clean error.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from typing import Any

from aiohttp import web

from router.errors import InvalidRequest, Overloaded, RequestTimeout
from router.settings import Limits
from router.wire import ChatRequest, Request


class Gate:
    """At most `limit` holders at once; up to `queue` more wait, each at most
    `wait_s`, in arrival order. `enter()` raises `Overloaded` past both."""

    def __init__(self, limit: int, queue: int, wait_s: float) -> None:
        self.limit = limit
        self.queue = queue
        self.wait_s = wait_s
        self.active = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.rejected = 0
        self._retry_after = max(1, math.ceil(wait_s))

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def enter(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        if len(self._waiters) >= self.queue:
            self._reject()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            async with asyncio.timeout(self.wait_s):
                await slot
        except TimeoutError:
            if not _handed(slot):
                self._forget(slot)
                self._reject()
        except asyncio.CancelledError:
            if _handed(slot):
                self.leave()  # handed a slot in the same tick: pass it on
            else:
                self._forget(slot)
            raise

    def _forget(self, slot: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(slot)

    def leave(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)
                return
        self.active -= 1

    def _reject(self) -> None:
        self.rejected += 1
        raise Overloaded(
            f"The router is at its limit of {self.limit} requests at once "
            f"(and {self.queue} waiting); retry after {self._retry_after} s.",
            retry_after_s=self._retry_after,
        )


class Drain:
    """The proxied requests in flight. `drain()` (on shutdown, once nothing
    new is accepted) waits for them up to a grace period, then sets `cut`
    and cancels the rest: a handler that sees `cut` ends its request with a
    clean error (a 503 `shutting_down`, or an error event in a stream) and
    its row, not a dropped connection."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle: asyncio.Event | None = None
        self.cut = False

    def __len__(self) -> int:
        return len(self._tasks)

    def enter(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)

    def leave(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.discard(task)
        if not self._tasks and self._idle is not None:
            self._idle.set()

    async def drain(self, grace_s: float, cut_s: float) -> int:
        """Wait up to `grace_s` for the requests in flight, then cut what is
        left and wait up to `cut_s` for those to answer; the number cut."""
        if not await self._settled(grace_s):
            self.cut = True
            cut = len(self._tasks)
            for task in tuple(self._tasks):
                task.cancel()
            await self._settled(cut_s)
            return cut
        return 0

    async def _settled(self, timeout_s: float) -> bool:
        if not self._tasks:
            return True
        self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


def uncancel() -> None:
    """Take back a cancellation this task handles (the drain's cut), so the
    awaits that write its answer run normally."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


async def read_body(request: web.Request, timeout_s: float) -> bytes:
    """The whole body, or a 408 when it does not arrive within `timeout_s`."""
    if request.content.is_eof():  # already received: no timer to arm
        return await request.read()
    try:
        async with asyncio.timeout(timeout_s):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(
            f"The request body did not arrive within {timeout_s:g} s."
        ) from None


def _handed(slot: asyncio.Future[None]) -> bool:
    return slot.done() and not slot.cancelled()


def _over(what: str, count: int, limit: int, param: str) -> InvalidRequest:
    return InvalidRequest(
        f"Too many {what}: {count}; this router accepts at most {limit} "
        "(see its LLR_MAX_* settings).",
        param=param,
    )


def check_request(typed: Request, limits: Limits) -> None:
    """A 400 naming the first limit the decoded request is past."""
    if len(typed.model) > limits.max_model_chars:
        raise InvalidRequest(
            f"model is {len(typed.model)} characters long; at most "
            f"{limits.max_model_chars} are accepted.",
            param="model",
        )
    tools = typed.tools
    if tools is not None and len(tools) > limits.max_tools:
        raise _over("tools", len(tools), limits.max_tools, "tools")
    if isinstance(typed, ChatRequest):
        functions = typed.functions
        if functions is not None and len(functions) > limits.max_tools:
            raise _over("functions", len(functions), limits.max_tools, "functions")
        messages = typed.messages
        if len(messages) > limits.max_messages:
            raise _over("messages", len(messages), limits.max_messages, "messages")
        parts = sum(len(m.content) for m in messages if m.content.__class__ is list)
        param = "messages"
    elif isinstance(typed.input, str):
        return
    else:
        items = typed.input
        if len(items) > limits.max_messages:
            raise _over("input items", len(items), limits.max_messages, "input")
        parts = 0
        for item in items:
            if item.content.__class__ is list:
                parts += len(item.content)
            if item.output.__class__ is list:
                parts += len(item.output)
        param = "input"
    if parts > limits.max_parts:
        raise _over("content parts", parts, limits.max_parts, param)
