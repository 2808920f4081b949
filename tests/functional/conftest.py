"""Functional fixtures: three fake upstreams on loopback and a router in front.

`fakes` starts one fake per backend (local Ollama, SarmaLink, OpenAI), each
recording what it received; `router_for(policy_yaml)` builds the real app on
a policy that points at them and returns a running test server. Backend
behaviours (`error-500`, `cut-stream`, `hang`, ...) are picked by the model
name the router sends, so policies list them as models a backend serves.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openai import AsyncOpenAI

from router.api.edge import EdgeRunner
from router.app import create_app
from router.policy import load_policy_text
from router.settings import Settings
from router.state import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def load_fake() -> ModuleType:
    name = "fake_upstream"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "bench" / "fake_upstream.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fake_upstream = load_fake()

BEHAVIOURS = [
    "error-500",
    "error-503",
    "error-400",
    "error-429",
    "cut-stream",
    "hang",
    "garbage",
    "slow-300",
    "ollama-error",
]


# What the local fake's /api/tags lists: the policy's models and behaviours,
# and the cloud and remote models Ollama lists once pulled.
PULLED = (
    *fake_upstream.MODELS,
    *BEHAVIOURS,
    "gpt-oss:120b-cloud",
    "remote-llama3.2",
    # Listed, yet refused by /api/chat: deleted since the last /api/tags, or
    # lacking a capability (test_ollama_fidelity).
    "missing-llama",
    "unpulled-llama",
    "notools-llama",
    "slow-stream-150",
    # The faults of test_backend_faults and test_privacy_faults.
    *("reset", "bad-frames", "wrong-type", "slow-200", "slow-900", "drip-300"),
    *("retry-after-1", "retry-after-30", "slow-stream-200"),
    *("burst-2", "recover-2", "recover-3", "sick-400"),
)


class EdgeTestServer(TestServer):
    """A TestServer whose connections run under the router's edge limits, as
    `llm-router serve` does (431s, idle and body timeouts)."""

    async def _make_runner(self, **kwargs: Any) -> EdgeRunner:
        return EdgeRunner(self.app, self.app[SETTINGS].limits, **kwargs)


@dataclass
class Fake:
    name: str
    server: TestServer
    app: web.Application

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def requests(self) -> list[Any]:
        return list(self.app[fake_upstream.REQUESTS])

    def models_seen(self) -> list[str]:
        return [r.model for r in self.requests]

    def texts_seen(self) -> str:
        """Every request body this fake received, as one string."""
        return "\n".join(str(r.body) for r in self.requests)

    def clear(self) -> None:
        self.app[fake_upstream.REQUESTS].clear()


@dataclass
class Fakes:
    local: Fake
    sarmalink: Fake
    frontier: Fake

    def all(self) -> list[Fake]:
        return [self.local, self.sarmalink, self.frontier]

    def policy(
        self,
        routes: str,
        *,
        faulty: tuple[str, ...] = ("local", "sarmalink", "frontier"),
        timeout_ms: int = 2000,
        local_p50: int = 100,
        extra: str = "",
    ) -> str:
        """A policy over the three fakes. Backends in `faulty` also serve the
        behaviour models, so a client asking for `error-500` gets that
        behaviour there and a healthy default model elsewhere."""

        def models(*base: str, name: str) -> str:
            return ", ".join([*base, *(BEHAVIOURS if name in faulty else [])])

        return f"""
backends:
  local:
    type: ollama
    endpoint: {self.local.url}
    families: {{qwen-coder: qwen2.5-coder:7b, gemma: gemma3:12b, llama: llama3.2}}
    models: [{models("llama3.2", "qwen2.5-coder:7b", "gemma3:12b", name="local")}]
    p50Ms: {local_p50}
    timeoutMs: {timeout_ms}
  sarmalink:
    type: sarmalink
    endpoint: {self.sarmalink.url}/v1
    model: smart
    models: [{models("smart", name="sarmalink")}]
    p50Ms: 600
    timeoutMs: {timeout_ms}
  frontier:
    type: openai
    endpoint: {self.frontier.url}/v1
    model: gpt-4o
    models: [{models("gpt-4o", name="frontier")}]
    p50Ms: 900
    timeoutMs: {timeout_ms}
routes:
{routes}
{extra}
"""


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    started: list[Fake] = []
    for name in ("local", "sarmalink", "frontier"):
        app = fake_upstream.make_app(name=name, pulled=PULLED)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        started.append(Fake(name, server, app))
    try:
        yield Fakes(*started)
    finally:
        for f in started:
            await f.server.close()


@pytest.fixture
def backend_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-frontier")
    monkeypatch.setenv("SARMALINK_API_KEY", "sk-test-sarmalink")


RouterFor = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def router_for(backend_keys: None, tmp_path: Path) -> AsyncIterator[RouterFor]:
    servers: list[TestServer] = []

    async def make(policy_yaml: str, **settings: Any) -> TestServer:
        policy = load_policy_text(policy_yaml, "test-policy.yaml")
        settings.setdefault("db", str(tmp_path / f"metrics-{len(servers)}.db"))
        app = create_app(policy, Settings(policy="test-policy.yaml", **settings))
        server = EdgeTestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return server

    yield make
    for s in servers:
        await s.close()


def base_url(server: TestServer) -> str:
    return str(server.make_url("/v1"))


SdkFor = Callable[..., AsyncOpenAI]


@pytest.fixture
async def sdk() -> AsyncIterator[SdkFor]:
    """`sdk(server, api_key=...)`: an AsyncOpenAI client on the router, closed
    at teardown."""
    clients: list[AsyncOpenAI] = []

    def make(server: TestServer, api_key: str = "k") -> AsyncOpenAI:
        client = AsyncOpenAI(base_url=base_url(server), api_key=api_key, max_retries=0)
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.close()


@dataclass
class StandIn:
    server: TestServer
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


StandInFor = Callable[..., Awaitable[StandIn]]


@pytest.fixture
async def stand_in() -> AsyncIterator[StandInFor]:
    """`stand_in(answer)`: a server on loopback that records every request and
    answers each with `answer(request, body)`."""
    started: list[StandIn] = []

    async def make(
        answer: Callable[[web.Request, bytes], web.StreamResponse],
    ) -> StandIn:
        holder: list[StandIn] = []

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            holder[0].seen.append((request.path, body))
            return answer(request, body)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        holder.append(StandIn(server))
        started.append(holder[0])
        return holder[0]

    yield make
    for s in started:
        await s.server.close()
