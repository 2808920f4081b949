"""`GET /openapi.json`: an OpenAPI 3.1 description of the router's own API.

Written by hand from the routes (a test keeps the two in step) and kept to
what a client of the router sends and gets: the request fields the router
reads, with OpenAI's enums for roles and content part types; every other
field passes through. Encoded once, at app start-up.
"""

from __future__ import annotations

from typing import Any, get_args

import orjson
from aiohttp import web

from router.wire import ChatPartType, ChatRole, InputPartType, InputRole

_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {_JSON: {"schema": schema}}
    return body


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _answer("OpenAI-shaped error", _ref("Error")) for s in statuses}


def _get(summary: str, ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": ok, **_errors(*errors)}}}


def _post(summary: str, body: str, ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": _ref(body)}},
            },
            "responses": {"200": ok, **_errors(*errors)},
        }
    }


def _schemas() -> dict[str, Any]:
    text = {"type": "string"}
    part = {
        "type": "object",
        "properties": {"type": {"enum": list(get_args(ChatPartType))}, "text": text},
        "required": ["type"],
    }
    input_part = {
        "type": "object",
        "properties": {"type": {"enum": list(get_args(InputPartType))}, "text": text},
        "required": ["type"],
    }
    tool = {
        "type": "object",
        "properties": {"type": text, "function": {"type": "object"}, "name": text},
    }
    return {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "message": text,
                        "type": text,
                        "param": {"type": ["string", "null"]},
                        "code": {"type": ["string", "null"]},
                    },
                    "required": ["message", "type", "param", "code"],
                }
            },
            "required": ["error"],
        },
        "ChatRequest": {
            "type": "object",
            "properties": {
                "model": text,
                "stream": {"type": "boolean"},
                "messages": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "role": {"enum": list(get_args(ChatRole))},
                            "content": {
                                "anyOf": [text, {"type": "array", "items": part}]
                            },
                        },
                        "required": ["role"],
                    },
                },
                "tools": {"type": "array", "items": tool},
                "metadata": {"type": "object", "additionalProperties": text},
            },
            "required": ["model", "messages"],
        },
        "ResponsesRequest": {
            "type": "object",
            "properties": {
                "model": text,
                "stream": {"type": "boolean"},
                "instructions": text,
                "input": {
                    "anyOf": [
                        text,
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"enum": ["message"]},
                                    "role": {"enum": list(get_args(InputRole))},
                                    "content": {
                                        "anyOf": [
                                            text,
                                            {"type": "array", "items": input_part},
                                        ]
                                    },
                                },
                                "required": ["role", "content"],
                            },
                        },
                    ]
                },
                "tools": {"type": "array", "items": tool},
            },
            "required": ["model", "input"],
        },
        "AnyRequest": {"anyOf": [_ref("ChatRequest"), _ref("ResponsesRequest")]},
    }


def document() -> dict[str, Any]:
    obj = {"type": "object"}
    completion = _answer("the backend's answer (JSON, or SSE when stream is true)")
    paths = {
        "/health": _get("liveness", _answer("alive", obj)),
        "/ready": _get("readiness", _answer("ready", obj), 503),
        "/v1/models": _get("auto and the reachable models", _answer("", obj)),
        "/metrics": _get("Prometheus text", _answer("exposition format"), 401),
        "/v1/metrics": _get("JSON summary", _answer("", obj), 401, 503),
        "/v1/ab": _get("A/B report", _answer("", obj), 401, 503),
        "/openapi.json": _get("this description", _answer("", obj)),
        "/admin/reload": {
            "post": {
                "summary": "reload the policy file",
                "responses": {
                    "200": _answer("reloaded", obj),
                    **_errors(400, 401),
                },
            }
        },
        "/v1/route": _post(
            "explain: classification and decision, nothing dispatched",
            "AnyRequest",
            _answer("explain JSON", obj),
            400, 401, 408, 413, 503,
        ),
        "/v1/chat/completions": _post(
            "OpenAI Chat Completions, routed",
            "ChatRequest",
            completion,
            400, 401, 408, 413, 502, 503, 504,
        ),
        "/v1/responses": _post(
            "OpenAI Responses, routed",
            "ResponsesRequest",
            completion,
            400, 401, 408, 413, 502, 503, 504,
        ),
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "local-llm-router", "version": "1"},
        "paths": paths,
        "components": {"schemas": _schemas()},
    }


OPENAPI = web.AppKey("openapi", bytes)


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type=_JSON)


def setup(app: web.Application) -> None:
    app[OPENAPI] = orjson.dumps(document())
    app.router.add_get("/openapi.json", openapi)
