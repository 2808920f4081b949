"""The clients people point at the router, from PyPI (the `clients` extra):
openai, openai-agents, langchain-openai and litellm, each on chat and
Responses, streaming and not, in front of an Ollama and an OpenAI backend;
a sensitive prompt stays local through every one of them. A client that is
not installed is skipped. Nothing leaves loopback: agents tracing is off and
litellm reads its bundled model map."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from openai import AsyncOpenAI

from tests.functional.conftest import Fakes, RouterFor, base_url

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# The clients' own import-time warnings are theirs, not the router's.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]

SSN = "078-05-1120"
Ask = Callable[[TestServer, str, bool, bool], Awaitable[str]]


def routes(backend: str) -> str:
    return (
        f"  - match: {{sensitivity: high}}\n    backend: local\n"
        f"  - default: {backend}\n"
    )


async def ask_openai(
    server: TestServer, text: str, responses: bool, stream: bool
) -> str:
    client = AsyncOpenAI(base_url=base_url(server), api_key="k", max_retries=0)
    async with client:
        if responses:
            if not stream:
                return (
                    await client.responses.create(model="auto", input=text)
                ).output_text
            events = await client.responses.create(
                model="auto", input=text, stream=True
            )
            return "".join(
                [
                    e.delta
                    async for e in events
                    if e.type == "response.output_text.delta"
                ]
            )
        messages: Any = [{"role": "user", "content": text}]
        if not stream:
            resp = await client.chat.completions.create(model="auto", messages=messages)
            return resp.choices[0].message.content or ""
        chunks = await client.chat.completions.create(
            model="auto", messages=messages, stream=True
        )
        return "".join(
            [c.choices[0].delta.content or "" async for c in chunks if c.choices]
        )


async def ask_langchain(
    server: TestServer, text: str, responses: bool, stream: bool
) -> str:
    lc = pytest.importorskip("langchain_openai")
    llm = lc.ChatOpenAI(
        model="auto",
        base_url=base_url(server),
        api_key="k",
        max_retries=0,
        use_responses_api=responses,
    )
    if stream:
        return "".join([chunk.text async for chunk in llm.astream(text)])
    return str((await llm.ainvoke(text)).text)


async def ask_litellm(
    server: TestServer, text: str, responses: bool, stream: bool
) -> str:
    litellm = pytest.importorskip("litellm")
    litellm.telemetry = False
    where = {"model": "openai/auto", "api_base": base_url(server), "api_key": "k"}
    if responses:
        resp = await litellm.aresponses(input=text, stream=stream, **where)
        if not stream:
            return "".join(
                part.text
                for item in resp.output
                if getattr(item, "type", "") == "message"
                for part in item.content
            )
        return "".join(
            [
                e.delta
                async for e in resp
                if getattr(e, "type", "") == "response.output_text.delta"
            ]
        )
    messages = [{"role": "user", "content": text}]
    resp = await litellm.acompletion(messages=messages, stream=stream, **where)
    if not stream:
        return str(resp.choices[0].message.content)
    return "".join([c.choices[0].delta.content or "" async for c in resp if c.choices])


async def ask_agents(
    server: TestServer, text: str, responses: bool, stream: bool
) -> str:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=base_url(server), api_key="k", max_retries=0)

    @agents.function_tool
    def lookup(echo: str) -> str:
        """Look a phrase up."""
        return f"found {echo}"

    kind = (
        agents.OpenAIResponsesModel if responses else agents.OpenAIChatCompletionsModel
    )
    agent = agents.Agent(
        name="helper",
        instructions="Use lookup, then answer.",
        model=kind(model="auto", openai_client=client),
        tools=[lookup],
    )
    async with client:
        if not stream:
            result = await agents.Runner.run(agent, text)
        else:
            result = agents.Runner.run_streamed(agent, text)
            async for _ in result.stream_events():
                pass
    return str(result.final_output)


CLIENTS: dict[str, Ask] = {
    "openai": ask_openai,
    "langchain": ask_langchain,
    "litellm": ask_litellm,
    "agents": ask_agents,
}


@pytest.mark.parametrize("client", list(CLIENTS))
@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("backend", ["local", "frontier"])
async def test_client_matrix(
    fakes: Fakes,
    router_for: RouterFor,
    client: str,
    api: str,
    stream: bool,
    backend: str,
) -> None:
    router = await router_for(fakes.policy(routes(backend)))
    ask = CLIENTS[client]
    answer = await ask(router, "hello there", api == "responses", stream)
    served = {f.name: f for f in fakes.all()}[backend]
    if client == "agents":
        # The agent loop: a tool call, the tool's result sent back, an answer.
        assert answer == "tool said: found hello there", answer
        assert len(served.requests) == 2
    else:
        assert answer == "echo: hello there", answer
        assert len(served.requests) == 1
    others = [f for f in fakes.all() if f is not served]
    assert all(f.requests == [] for f in others)
    # A sensitive prompt stays on this machine, whatever the client.
    for f in fakes.all():
        f.clear()
    await ask(router, f"my ssn is {SSN}", api == "responses", stream)
    assert fakes.local.requests
    assert SSN not in fakes.sarmalink.texts_seen() + fakes.frontier.texts_seen()
