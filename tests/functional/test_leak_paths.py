"""The paths around the pin: redirects, Ollama cloud and remote models, echoed keys.

Stand-ins on loopback: a `trap` origin that must never receive anything, a
backend that redirects there, a backend that echoes the request headers in
its error. The fakes of conftest play Ollama (with `/api/show`), SarmaLink
and OpenAI.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.functional.conftest import (
    Fakes,
    RouterFor,
    StandInFor,
    fake_upstream,
)

SSN = "078-05-1120"
FRONTIER_KEY = "sk-test-frontier"


def ok(_request: web.Request, _body: bytes) -> web.Response:
    return web.json_response({"trapped": True})


def redirecting(status: int, target: str) -> Callable[[web.Request, bytes], Any]:
    """Answers `/api/show` as a local Ollama would and redirects the rest."""

    def answer(request: web.Request, _body: bytes) -> web.Response:
        if request.path == "/api/show":
            return web.json_response({"details": {}, "model_info": {}})
        return web.Response(
            status=status, headers={"Location": target + request.path_qs}
        )

    return answer


def echoing(status: int) -> Callable[[web.Request, bytes], Any]:
    """An error that quotes every request header back."""

    def answer(request: web.Request, _body: bytes) -> web.Response:
        headers = dict(request.headers)
        return web.json_response(
            {"error": {"message": f"rejected: {headers}", "type": "bad_thing"}},
            status=status,
        )

    return answer


def chat(text: str, model: str = "auto", stream: bool = False) -> dict[str, Any]:
    return {
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def policy(backends: str, routes: str) -> str:
    return f"backends:\n{backends}\nroutes:\n{routes}\n"


def ollama(name: str, url: str, models: str = "[llama3.2]", extra: str = "") -> str:
    return (
        f"  {name}:\n    type: ollama\n    endpoint: {url}\n"
        f"    models: {models}\n    timeoutMs: 2000\n{extra}"
    )


def openai_backend(name: str, url: str, model: str = "gpt-4o") -> str:
    return (
        f"  {name}:\n    type: openai\n    endpoint: {url}/v1\n    model: {model}\n"
        "    timeoutMs: 2000\n"
    )


PINNED_ROUTES = """\
  - match: {sensitivity: high}
    backend: local
    fallback: frontier
  - default: local
    fallback: frontier
"""


async def post(server: TestServer, path: str, body: Any) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(server.make_url(path), json=body) as r,
    ):
        raw = await r.read()
        return r.status, r.headers, raw


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("stream", [False, True])
async def test_local_redirect_is_a_failed_attempt_never_followed(
    fakes: Fakes,
    router_for: RouterFor,
    stand_in: StandInFor,
    status: int,
    stream: bool,
) -> None:
    trap = await stand_in(ok)
    lan = await stand_in(redirecting(status, trap.url))
    text = policy(
        ollama("local", lan.url) + openai_backend("frontier", fakes.frontier.url),
        PINNED_ROUTES,
    )
    router = await router_for(text)
    code, _, raw = await post(
        router, "/v1/chat/completions", chat(f"my ssn is {SSN}", stream=stream)
    )
    assert code == 503, raw
    error = orjson.loads(raw)["error"]
    assert error["code"] == "privacy_pinned"
    assert f"HTTP {status} redirect refused" in error["message"]
    assert fakes.frontier.requests == []
    # Unpinned, the redirect falls back like a 5xx.
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hello there", stream=stream)
    )
    assert code == 200 and headers["x-llr-backend"] == "frontier", raw
    assert trap.seen == []
    # /api/tags (the model inventory) was redirected too, and not followed.
    posted = [p for p, _ in lan.seen if p != "/api/tags"]
    assert posted == ["/api/show", "/api/chat", "/api/chat"]


@pytest.mark.parametrize("stream", [False, True])
async def test_cloud_redirect_falls_back_and_is_never_labelled_as_served(
    fakes: Fakes, router_for: RouterFor, stand_in: StandInFor, stream: bool
) -> None:
    trap = await stand_in(ok)
    cloud = await stand_in(redirecting(302, trap.url))
    text = policy(
        openai_backend("frontier", cloud.url)
        + openai_backend("backup", fakes.frontier.url),
        "  - default: frontier\n    fallback: backup\n",
    )
    router = await router_for(text)
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hello", stream=stream)
    )
    assert code == 200 and headers["x-llr-backend"] == "backup", raw
    assert b"trapped" not in raw
    assert trap.seen == [] and len(cloud.seen) == 1


async def test_only_a_redirect_left_is_a_502_naming_it(
    router_for: RouterFor, stand_in: StandInFor
) -> None:
    trap = await stand_in(ok)
    cloud = await stand_in(redirecting(307, trap.url))
    router = await router_for(
        policy(openai_backend("frontier", cloud.url), "  - default: frontier\n")
    )
    code, _, raw = await post(router, "/v1/chat/completions", chat("hi"))
    assert code == 502 and b"redirect refused" in raw and trap.seen == []


async def test_cloud_tagged_model_on_a_local_backend_is_never_pinned_to(
    fakes: Fakes, router_for: RouterFor
) -> None:
    models = "[gpt-oss:120b-cloud]"
    text = policy(
        ollama("local", fakes.local.url, models)
        + openai_backend("frontier", fakes.frontier.url),
        PINNED_ROUTES,
    )
    router = await router_for(text)
    code, _, raw = await post(router, "/v1/chat/completions", chat(f"ssn {SSN}"))
    assert code == 503 and orjson.loads(raw)["error"]["code"] == "privacy_pinned"
    code, _, raw = await post(router, "/v1/route", chat(f"ssn {SSN}"))
    decision = orjson.loads(raw)["decision"]
    assert decision["backend"] is None and decision["pinned"] is True
    assert "local has no model that runs here" in decision["reason"]
    assert fakes.local.requests == [] and fakes.frontier.requests == []


async def test_pinned_request_takes_the_local_model_beside_a_cloud_one(
    fakes: Fakes, router_for: RouterFor
) -> None:
    extra = "    families: {llama: gpt-oss:120b-cloud}\n"
    text = policy(
        ollama("local", fakes.local.url, "[gpt-oss:120b-cloud, llama3.2]", extra)
        + openai_backend("frontier", fakes.frontier.url),
        PINNED_ROUTES,
    )
    router = await router_for(text)
    code, headers, raw = await post(router, "/v1/chat/completions", chat(f"ssn {SSN}"))
    assert code == 200 and headers["x-llr-model"] == "llama3.2", raw
    assert fakes.local.models_seen() == ["llama3.2"]
    _, _, raw = await post(router, "/v1/route", chat(f"ssn {SSN}"))
    reason = orjson.loads(raw)["decision"]["reason"]
    assert "local uses llama3.2; gpt-oss:120b-cloud does not run here" in reason
    # Not pinned, the route's choice stands (the client's data may leave).
    code, headers, _ = await post(router, "/v1/chat/completions", chat("hello"))
    assert code == 200 and headers["x-llr-model"] == "gpt-oss:120b-cloud"


async def test_remote_model_reported_by_api_show_is_withheld(
    fakes: Fakes, router_for: RouterFor
) -> None:
    text = policy(
        ollama("local", fakes.local.url, "[remote-llama3.2]")
        + openai_backend("frontier", fakes.frontier.url),
        PINNED_ROUTES,
    )
    router = await router_for(text)
    # The first is refused by the adapter, after /api/show; then decide knows.
    expected = ["remote-llama3.2 runs on https://ollama.com:443", "no model that runs"]
    for words in expected:
        code, _, raw = await post(router, "/v1/chat/completions", chat(f"ssn {SSN}"))
        assert code == 503, raw
        assert words in orjson.loads(raw)["error"]["message"]
    assert fakes.local.requests == [] and fakes.frontier.requests == []
    assert fakes.local.app[fake_upstream.SHOWN] == ["remote-llama3.2"]  # cached
    _, _, raw = await post(router, "/v1/route", chat(f"ssn {SSN}"))
    assert (
        "local has no model that runs here" in orjson.loads(raw)["decision"]["reason"]
    )


async def test_pinned_model_not_pulled_is_a_failed_attempt(
    fakes: Fakes, router_for: RouterFor
) -> None:
    text = policy(
        ollama("local", fakes.local.url, "[missing-llama]")
        + ollama("spare", fakes.sarmalink.url, "[llama3.2]"),
        "  - default: local\n    fallback: spare\n",
    )
    router = await router_for(text)
    code, headers, raw = await post(router, "/v1/chat/completions", chat(f"ssn {SSN}"))
    assert code == 200 and headers["x-llr-backend"] == "spare", raw
    assert fakes.local.requests == []


@pytest.mark.parametrize("stream", [False, True])
async def test_backend_4xx_body_is_the_routers_own_error(
    router_for: RouterFor, stand_in: StandInFor, stream: bool
) -> None:
    echo = await stand_in(echoing(400))
    router = await router_for(
        policy(openai_backend("frontier", echo.url), "  - default: frontier\n")
    )
    code, headers, raw = await post(
        router, "/v1/chat/completions", chat("hi", stream=stream)
    )
    assert code == 400 and headers["Content-Type"].startswith("application/json")
    assert FRONTIER_KEY.encode() not in raw and b"Bearer" not in raw
    error = orjson.loads(raw)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "bad_thing"
    assert error["message"].startswith("backend frontier answered HTTP 400: rejected")
    assert "[redacted]" in error["message"]


async def test_backend_5xx_body_never_reaches_the_502(
    router_for: RouterFor, stand_in: StandInFor
) -> None:
    echo = await stand_in(echoing(500))
    router = await router_for(
        policy(openai_backend("frontier", echo.url), "  - default: frontier\n")
    )
    code, _, raw = await post(router, "/v1/chat/completions", chat("hi"))
    assert code == 502 and FRONTIER_KEY.encode() not in raw, raw
    assert b"HTTP 500: rejected" in raw


async def test_ollama_error_with_a_key_is_scrubbed(
    router_for: RouterFor, stand_in: StandInFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAN_OLLAMA_KEY", "lan-secret-4711-abcdef")

    def answer(request: web.Request, _body: bytes) -> web.Response:
        if request.path == "/api/show":
            return web.json_response({"details": {}})
        auth = request.headers.get("Authorization", "")
        return web.json_response({"error": f"denied for {auth}"}, status=403)

    lan = await stand_in(answer)
    extra = "    apiKeyEnv: LAN_OLLAMA_KEY\n"
    router = await router_for(
        policy(ollama("local", lan.url, extra=extra), "  - default: local\n")
    )
    code, _, raw = await post(router, "/v1/chat/completions", chat(f"ssn {SSN}"))
    assert code == 403 and b"lan-secret" not in raw, raw
    assert orjson.loads(raw)["error"]["type"] == "permission_error"


async def test_random_policies_never_send_a_pinned_request_off_the_machine(
    fakes: Fakes, router_for: RouterFor, stand_in: StandInFor
) -> None:
    """Random chains over a healthy Ollama with cloud, remote, unpulled and
    tool-less models (the inventory, Ollama's 404s and capability 400s, each
    of which falls back), a redirecting Ollama, a redirecting cloud and two
    clouds: a pinned
    request is only ever received by the healthy Ollama, for a model that runs
    there; nothing ever reaches the redirect target."""
    trap = await stand_in(ok)
    lan = await stand_in(redirecting(307, trap.url))
    cloud = await stand_in(redirecting(302, trap.url))
    local_models = [
        "llama3.2",
        "gpt-oss:120b-cloud",
        "remote-llama3.2",
        "missing-x",  # not in /api/tags: the inventory skips it
        "missing-llama",  # listed, then 404 model not found
        "unpulled-llama",  # the same in Ollama's other wording
        "notools-llama",  # 400 does not support tools, when tools are sent
    ]
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    runs_here = {"llama3.2", "missing-llama", "unpulled-llama", "notools-llama"}
    rng = random.Random(11)
    names = ["local", "lan", "cloud", "sarmalink", "frontier"]
    marker = 0
    for _ in range(25):
        models = rng.sample(local_models, rng.randint(1, 4))
        backends = (
            ollama("local", fakes.local.url, f"[{', '.join(models)}]")
            + ollama("lan", lan.url)
            + openai_backend("cloud", cloud.url)
            + openai_backend("sarmalink", fakes.sarmalink.url, "smart")
            + openai_backend("frontier", fakes.frontier.url)
        )
        chain = rng.sample(names, rng.randint(1, 5))
        fallback = f"    fallback: [{', '.join(chain[1:])}]\n" if chain[1:] else ""
        router = await router_for(
            policy(backends, f"  - default: {chain[0]}\n{fallback}"), db="off"
        )
        for _ in range(3):
            marker += 1
            text = f"case {marker}: my ssn is {SSN}"
            body = chat(
                text, model=rng.choice(["auto", *models]), stream=rng.random() < 0.5
            )
            if rng.random() < 0.5:
                body["tools"] = [tool]
            code, _, _ = await post(router, "/v1/chat/completions", body)
            assert code in (200, 400, 503)
            for f in (fakes.sarmalink, fakes.frontier):
                assert f"case {marker}:" not in f.texts_seen(), f.name
            for r in fakes.local.requests:
                if f"case {marker}:" in str(r.body):
                    # Only models that run here (never the cloud or remote one).
                    assert r.model in runs_here, r.model
    assert trap.seen == [] and cloud.seen == []
