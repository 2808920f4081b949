"""Translate stage, chat request -> Ollama request: an OpenAI Chat Completions
body in, the body for Ollama's native `POST /api/chat` out.

Ollama-native extras a client sends as extra body fields (`options`,
`keep_alive`, `think`, `format`, or an option such as `num_ctx` at top level)
override what the policy set, within the backend's `clientOptions`
(ollama_options.py). The prompt is never cut to fit: `truncate: false` makes
an over-long conversation an error that falls back, not lost turns.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from router.policy.model import KNOWN_OPTIONS, ClientOptions
from router.translate import shape
from router.translate.errors import TranslationError
from router.translate.ollama_options import Adjusted, limit

JSON = dict[str, Any]

# Ollama model options a client may also send at the top level of the body.
_TOP_LEVEL_OPTIONS = KNOWN_OPTIONS - {"stop", "seed"}
_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
_SAME_NAME_OPTIONS = (
    "temperature",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
)
# OpenAI reasoning effort -> Ollama `think`, as Ollama's own OpenAI layer maps
# it (openai/openai.go, thinkFromReasoningEffort): the tiers past Ollama's
# ends clamp to its nearest.
THINK: dict[str, bool | str] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "max",
    "xhigh": "max",
    "ultra": "max",
}
# Text-like files can be inlined into the prompt; anything else cannot reach Ollama.
_TEXT_MEDIA = ("text/", "application/json", "application/xml", "application/x-yaml")


def chat_to_ollama(
    req: JSON,
    *,
    model: str,
    options: JSON | None = None,
    keep_alive: str | int | None = None,
    limits: ClientOptions | None = None,
    adjusted: Adjusted | None = None,
    thinks: bool | None = None,
) -> JSON:
    """A Chat Completions request body -> an Ollama `/api/chat` body.

    `options` and `keep_alive` come from the policy; the client's own values
    win over them, within `limits` when given (what was dropped or capped is
    noted in `adjusted`). `thinks` says whether the model can think (None:
    unknown); a reasoning effort becomes `think` only when it can.
    Raises TranslationError for what Ollama cannot take.
    """
    if req.get("n") not in (None, 1):
        raise TranslationError("Ollama returns a single choice; n must be 1", param="n")
    messages = req.get("messages")
    if not isinstance(messages, list) or not messages:
        raise TranslationError("messages must be a non-empty list", param="messages")
    body: JSON = {
        "model": model,
        "messages": _messages(messages),
        "stream": bool(req.get("stream")),
    }
    tools = _tools(req.get("tools"), req.get("tool_choice"))
    if tools:
        body["tools"] = tools
    fmt = (
        _format(req["response_format"])
        if "response_format" in req
        else req.get("format")
    )
    if fmt is not None:
        body["format"] = fmt
    asked = _options(req)
    alive = req.get("keep_alive")
    if limits is not None:
        asked, alive = limit(asked, alive, limits, adjusted or Adjusted())
    merged = {**(options or {}), **asked}
    if merged:
        body["options"] = merged
    alive = keep_alive if alive is None else alive
    if alive is not None:
        body["keep_alive"] = alive
    think = _think(req, thinks)
    if think is not None:
        body["think"] = think
    if req.get("logprobs"):
        body["logprobs"] = True
        top = req.get("top_logprobs")
        if isinstance(top, int) and not isinstance(top, bool) and top > 0:
            body["top_logprobs"] = top
    body["truncate"] = False
    return body


def _think(req: JSON, thinks: bool | None) -> bool | str | None:
    """The client's own `think`, else its reasoning effort as Ollama maps it;
    nothing for a model that cannot think (it would answer 400)."""
    if "think" in req:
        return req["think"]  # type: ignore[no-any-return]
    effort = shape.text(req, "reasoning_effort")
    if effort is None:
        return None
    if effort not in THINK:
        raise TranslationError(
            f"reasoning effort {effort!r} is not one of {', '.join(THINK)}",
            param="reasoning_effort",
        )
    return None if thinks is False else THINK[effort]


def _options(req: JSON) -> JSON:
    out: JSON = {k: req[k] for k in _SAME_NAME_OPTIONS if req.get(k) is not None}
    stop = req.get("stop")
    if isinstance(stop, str):
        out["stop"] = [stop]
    elif isinstance(stop, list):
        out["stop"] = stop
    limit = req.get("max_completion_tokens")
    if limit is None:
        limit = req.get("max_tokens")
    if limit is not None:
        out["num_predict"] = limit
    out.update((k, v) for k, v in req.items() if k in _TOP_LEVEL_OPTIONS)
    native = req.get("options")
    if isinstance(native, dict):
        out.update(native)
    elif native is not None:
        raise TranslationError("options must be an object", param="options")
    return out


def _messages(messages: list[Any]) -> list[JSON]:
    names: dict[str, str] = {}
    out: list[JSON] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise TranslationError(f"{where} must be an object", param=where)
        role = _ROLES.get(shape.text(message, "role") or "")
        if role is None:
            raise TranslationError(
                f"{where}.role {message.get('role')!r} is not known", param=where
            )
        converted = {"role": role, **_content(message.get("content"), where)}
        if role == "tool":
            call_id = shape.text(message, "tool_call_id")
            name = names.get(call_id or "") or shape.text(message, "name")
            if name:
                converted["tool_name"] = name
            if call_id:
                converted["tool_call_id"] = call_id
        elif role == "assistant":
            thinking = shape.text(message, "reasoning") or shape.text(
                message, "reasoning_content"
            )
            if thinking:
                converted["thinking"] = thinking
        calls = shape.items(message, "tool_calls") if role == "assistant" else None
        if calls:
            converted["tool_calls"] = [
                _tool_call(call, f"{where}.tool_calls[{j}]", names)
                for j, call in enumerate(calls)
            ]
        out.append(converted)
    return out


def _content(content: Any, where: str) -> JSON:
    """Message content -> Ollama's `content` string plus its `images` list."""
    if content is None:
        return {"content": ""}
    if isinstance(content, str):
        return {"content": content}
    if not isinstance(content, list):
        raise TranslationError(
            f"{where}.content must be a string or a list", param=where
        )
    texts: list[str] = []
    images: list[str] = []
    for j, part in enumerate(content):
        here = f"{where}.content[{j}]"
        kind = shape.text(part, "type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif kind == "image_url":
            images.append(_image(part.get("image_url"), here))
        elif kind == "file":
            texts.append(_file_text(part.get("file"), here))
        else:
            raise TranslationError(
                f"{here}: content parts of type {kind!r} cannot be sent to Ollama",
                param=here,
            )
    out: JSON = {"content": "\n".join(texts)}
    if images:
        out["images"] = images
    return out


def _image(image: Any, where: str) -> str:
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise TranslationError(f"{where}: image_url.url must be a string", param=where)
    if not url.startswith("data:"):
        raise TranslationError(
            f"{where}: Ollama cannot fetch image URLs; "
            "send the image inline as a base64 data: URL",
            param=where,
        )
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise TranslationError(
            f"{where}: image data: URLs must be base64-encoded", param=where
        )
    return payload


def _file_text(file: Any, where: str) -> str:
    data = file.get("file_data") if isinstance(file, dict) else None
    header, _, payload = data.partition(",") if isinstance(data, str) else ("", "", "")
    media = header.removeprefix("data:").split(";")[0]
    if (
        header.startswith("data:")
        and header.endswith(";base64")
        and media.startswith(_TEXT_MEDIA)
    ):
        try:
            text = base64.b64decode(payload, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise TranslationError(
                f"{where}: file_data is not valid base64 UTF-8 text", param=where
            ) from None
        name = file.get("filename") if isinstance(file, dict) else None
        return f"{name}:\n{text}" if isinstance(name, str) and name else text
    raise TranslationError(
        f"{where}: Ollama takes files only as inline text (a base64 data: URL "
        "of a text type)",
        param=where,
    )


def _tool_call(call: Any, where: str, names: dict[str, str]) -> JSON:
    function = call.get("function") if isinstance(call, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or function is None:
        raise TranslationError(f"{where}.function.name must be a string", param=where)
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            raise TranslationError(
                f"{where}.function.arguments is not valid JSON", param=where
            ) from None
    if not isinstance(arguments, dict):
        raise TranslationError(
            f"{where}.function.arguments must encode a JSON object", param=where
        )
    out: JSON = {"function": {"name": name, "arguments": arguments}}
    if isinstance(call.get("id"), str):
        names[call["id"]] = name
        out["id"] = call["id"]
    return out


def _tools(tools: Any, choice: Any) -> list[JSON]:
    """Function tools, narrowed by tool_choice: Ollama cannot force a call, so
    `none` drops the tools and a named or allowed set keeps only those."""
    if not tools:
        return []
    if not isinstance(tools, list) or not all(
        isinstance(t, dict)
        and t.get("type") == "function"
        and isinstance(t.get("function"), dict)
        for t in tools
    ):
        raise TranslationError("Ollama takes only function tools", param="tools")
    if choice == "none":
        return []
    wanted: set[str | None] | None = None
    kind = shape.text(choice, "type")
    if kind == "function":
        wanted = {shape.text(shape.obj(choice, "function"), "name")}
    elif kind == "allowed_tools":
        allowed = shape.items(shape.obj(choice, "allowed_tools"), "tools")
        wanted = {shape.text(shape.obj(t, "function"), "name") for t in allowed}
    if wanted is None:
        return tools
    picked = [t for t in tools if shape.text(t["function"], "name") in wanted - {None}]
    if not picked:
        raise TranslationError(
            "tool_choice names no function that is in tools", param="tool_choice"
        )
    return picked


def _format(fmt: Any) -> Any:
    kind = shape.text(fmt, "type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = shape.obj(shape.obj(fmt, "json_schema"), "schema")
        return schema or "json"
    if kind == "text" or fmt is None:
        return None
    raise TranslationError(
        f"response_format of type {kind!r} is not supported", param="response_format"
    )
