"""The HTTP skeleton against the real app: /v1/route, probes, errors, auth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from router.app import create_app
from router.policy import load_policy
from router.settings import Settings
from router.state import POLICY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "policy.example.yaml")

AiohttpClient = Any  # the pytest-aiohttp fixture factory


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the default ./metrics.db lands here
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("SARMALINK_API_KEY", "sk-test")


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "auto",
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


async def make_client(aiohttp_client: AiohttpClient, **settings: Any) -> TestClient:  # type: ignore[type-arg]
    s = Settings(policy=EXAMPLE, **settings)
    return await aiohttp_client(create_app(load_policy(EXAMPLE), s))


def assert_openai_error(body: dict[str, Any], type_: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == type_
    assert body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]


async def test_health_and_ready(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    r = await client.get("/health")
    assert r.status == 200 and (await r.json()) == {"status": "ok"}
    r = await client.get("/ready")
    body = await r.json()
    assert r.status == 200 and body["status"] == "ready"
    assert body["disabled"] == [] and body["circuits"] == {}
    assert set(body) == {
        "status", "policy_hash", "policy_loaded_at", "disabled", "circuits",
        "missing_models",
    }  # fmt: skip
    assert "policy.example.yaml" not in await r.text()


async def test_ready_names_disabled_backends(
    aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    client = await make_client(aiohttp_client)
    body = await (await client.get("/ready")).json()
    assert body["disabled"] == ["frontier"]
    assert "OPENAI_API_KEY" not in str(body)


async def test_route_explain_shape_for_chat(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    r = await client.post("/v1/route", json=chat("```python\nprint(1)\n```\nfix this"))
    assert r.status == 200
    body = await r.json()
    assert set(body) == {"classification", "decision"}
    assert set(body["classification"]) == {
        "task",
        "complexity",
        "sensitivity",
        "modality",
        "family",
        "tokens",
        "signals",
    }
    assert set(body["decision"]) == {
        "route",
        "reason",
        "backend",
        "model",
        "fallbacks",
        "pinned",
        "latency_shifted",
    }
    c, d = body["classification"], body["decision"]
    assert c["task"] == "code" and c["family"] == "qwen-coder"
    assert c["complexity"] == "low" and c["sensitivity"] == "low"
    assert isinstance(c["tokens"], int) and c["tokens"] > 0
    assert d["route"] == 1 and d["backend"] == "local"
    assert d["model"] == "qwen2.5-coder:7b" and d["fallbacks"] == ["sarmalink"]
    assert d["pinned"] is False and d["latency_shifted"] is False


async def test_route_explain_for_responses_body(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    body = {
        "model": "auto",
        "instructions": "be brief",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is in this picture?"},
                    {"type": "input_image", "image_url": "https://example.com/a.png"},
                ],
            }
        ],
    }
    r = await client.post("/v1/route", json=body)
    out = await r.json()
    assert r.status == 200
    assert out["classification"]["task"] == "vision"
    assert out["classification"]["modality"] == "image"
    assert out["classification"]["family"] == "gemma"


async def test_default_route_shifts_on_hint(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    r = await client.post("/v1/route", json=chat("Tell me a joke about cats."))
    d = (await r.json())["decision"]
    # default route: local p50 1800ms > budget 1200ms, sarmalink 600ms goes first
    assert d["route"] == 2 and d["backend"] == "sarmalink" and d["latency_shifted"]
    assert d["fallbacks"] == ["local"]


async def test_disabled_backend_is_skipped_and_said(
    aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SARMALINK_API_KEY")
    client = await make_client(aiohttp_client)
    r = await client.post("/v1/route", json=chat("Tell me a joke about cats."))
    d = (await r.json())["decision"]
    assert d["backend"] == "local" and d["fallbacks"] == []
    assert not d["latency_shifted"]
    assert "sarmalink: disabled (SARMALINK_API_KEY unset)" in d["reason"]


async def test_sensitive_anywhere_pins(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {
                            "name": "lookup",
                            "arguments": '{"card": "4111 1111 1111 1111"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "user", "content": "thanks, continue"},
        ],
    }
    r = await client.post("/v1/route", json=body)
    out = await r.json()
    assert out["classification"]["sensitivity"] == "high"
    assert out["decision"]["pinned"] is True
    assert out["decision"]["backend"] == "local" and out["decision"]["fallbacks"] == []


async def test_sensitivity_header_raises_never_lowers(
    aiohttp_client: AiohttpClient,
) -> None:
    client = await make_client(aiohttp_client)
    r = await client.post(
        "/v1/route", json=chat("hello"), headers={"x-llr-sensitivity": "high"}
    )
    assert (await r.json())["decision"]["pinned"] is True
    r = await client.post(
        "/v1/route",
        json=chat("my card 4111 1111 1111 1111"),
        headers={"x-llr-sensitivity": "low"},
    )
    assert (await r.json())["classification"]["sensitivity"] == "high"
    r = await client.post(
        "/v1/route", json=chat("hello"), headers={"x-llr-sensitivity": "secret"}
    )
    assert r.status == 400
    body = await r.json()
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["param"] == "x-llr-sensitivity"


@pytest.mark.parametrize("path", ["/v1/route", "/v1/chat/completions"])
@pytest.mark.parametrize("bad", ["secret", 3, None, ["high"]])
async def test_bad_metadata_sensitivity_is_a_400_like_the_header(
    aiohttp_client: AiohttpClient, path: str, bad: object
) -> None:
    client = await make_client(aiohttp_client)
    r = await client.post(path, json=chat("hello", metadata={"sensitivity": bad}))
    assert r.status == 400
    body = await r.json()
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["param"] == "metadata.sensitivity"
    r = await client.post(
        "/v1/route", json=chat("hello", metadata={"sensitivity": " HIGH "})
    )
    assert (await r.json())["decision"]["pinned"] is True


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        (b"{not json", None),
        (b"", None),
        (b"[]", None),
        (orjson.dumps({"model": "auto"}), None),
        (orjson.dumps({"model": 3, "messages": []}), "model"),
        (
            orjson.dumps(
                {"model": "auto", "messages": [{"role": "user", "content": 5}]}
            ),
            "messages[0].content",
        ),
        (orjson.dumps({"model": "auto", "input": {"x": 1}}), "input"),
    ],
)
async def test_bad_bodies_are_400(
    aiohttp_client: AiohttpClient, payload: bytes, param: str | None
) -> None:
    client = await make_client(aiohttp_client)
    r = await client.post(
        "/v1/route", data=payload, headers={"content-type": "application/json"}
    )
    assert r.status == 400
    body = await r.json()
    assert_openai_error(body, "invalid_request_error")
    assert body["error"]["param"] == param


async def test_body_over_limit_is_413(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client, max_body_bytes=4096)
    r = await client.post("/v1/route", json=chat("x" * 10_000))
    assert r.status == 413
    body = await r.json()
    assert_openai_error(body, "invalid_request_error")
    assert "4096" in body["error"]["message"]


async def test_chunked_body_over_limit_is_413(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client, max_body_bytes=4096)

    async def gen() -> Any:
        for _ in range(10):
            yield b"x" * 1000

    r = await client.post("/v1/route", data=gen())
    assert r.status == 413
    assert_openai_error(await r.json(), "invalid_request_error")


async def test_unknown_path_and_method(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client)
    r = await client.get("/v1/nope")
    assert r.status == 404
    assert_openai_error(await r.json(), "invalid_request_error")
    r = await client.get("/v1/route")
    assert r.status == 405
    assert_openai_error(await r.json(), "invalid_request_error")


async def test_models_lists_auto_and_reachable(
    aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("SARMALINK_API_KEY", "sk-test")
    client = await make_client(aiohttp_client)
    r = await client.get("/v1/models")
    ids = [m["id"] for m in (await r.json())["data"]]
    assert ids[0] == "auto"
    local = {"qwen2.5-coder:7b", "gemma3:12b", "llama4:16x17b"}
    assert set(ids) == {"auto", "smart", *local}  # frontier has no key: unreachable
    assert len(ids) == len(set(ids))


async def test_inbound_keys(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client, api_keys=frozenset({"k1", "k2"}))
    r = await client.post("/v1/route", json=chat("hi"))
    assert r.status == 401
    assert_openai_error(await r.json(), "authentication_error")
    r = await client.post(
        "/v1/route", json=chat("hi"), headers={"Authorization": "Bearer nope"}
    )
    assert r.status == 401
    r = await client.post(
        "/v1/route", json=chat("hi"), headers={"Authorization": "Bearer k2"}
    )
    assert r.status == 200
    assert (await client.get("/health")).status == 200


async def test_unexpected_error_is_generic_500(aiohttp_client: AiohttpClient) -> None:
    app = create_app(load_policy(EXAMPLE), Settings(policy=EXAMPLE))

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals /etc/passwd")

    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    r = await client.get("/boom")
    assert r.status == 500
    body = await r.json()
    assert_openai_error(body, "server_error")
    assert "secret internals" not in body["error"]["message"]


async def test_failed_reload_keeps_running_policy(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(Path(EXAMPLE).read_text())
    app = create_app(load_policy(path), Settings(policy=str(path)))
    holder = app[POLICY]
    before = holder.current
    path.write_text("routes: [\n")
    assert holder.reload() is False
    assert holder.current is before
    path.write_text(Path(EXAMPLE).read_text().replace("p50Ms: 600", "p50Ms: 650"))
    assert holder.reload() is True
    assert holder.current.backends["sarmalink"].p50_ms == 650


async def test_store_off(aiohttp_client: AiohttpClient) -> None:
    client = await make_client(aiohttp_client, db="off")
    assert (await client.get("/ready")).status == 200
    r = await client.get("/v1/metrics")
    assert r.status == 503
    assert_openai_error(await r.json(), "service_unavailable")
    assert not list(Path.cwd().glob("*.db"))


SSN = "078-05-1120"
UNNAMED_FIELDS = {
    "user": chat("hi", user=f"ssn {SSN}"),
    "metadata key": chat("hi", metadata={f"SSN {SSN}": "x"}),
    "mcp headers": {
        "model": "auto",
        "input": "hi",
        "tools": [{"type": "mcp", "server_label": "m", "headers": {"x": SSN}}],
    },
    "a pdf": {
        "model": "auto",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_file", "file_data": "data:application/pdf;base64,"}
                ],
            }
        ],
    },
}


@pytest.mark.parametrize("name", sorted(UNNAMED_FIELDS))
async def test_route_reads_the_whole_body(
    aiohttp_client: AiohttpClient, name: str
) -> None:
    """The handler hands classify the raw body: fields the typed view does
    not name, and files it cannot read, pin the request."""
    client = await make_client(aiohttp_client)
    r = await client.post("/v1/route", json=UNNAMED_FIELDS[name])
    out = await r.json()
    assert out["classification"]["sensitivity"] == "high"
    assert out["decision"]["pinned"] is True
