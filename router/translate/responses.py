"""Translate stage, Responses request -> chat request: a decoded `/v1/responses`
body in, the equivalent `/v1/chat/completions` body out, for chat-only backends.

Top-level fields this module does not know are carried over unchanged, so
backend extras (Ollama `options`, `keep_alive`, ...) survive the translation.
Hosted tools (web search, file search, ...) run on OpenAI's side and have no
chat equivalent: they are dropped, and `dropped_tools` names them; a
`tool_choice` that requires one is refused. A `namespace` tool (Codex sends
them) is flattened into its function tools, and `namespaced` maps the names
the chat model sees back to their namespace. `reasoning` items travel as the
next assistant message's `reasoning`.
"""

from __future__ import annotations

from typing import Any

from router.translate import shape
from router.translate.errors import TranslationError

JSON = dict[str, Any]

# Responses fields that are translated below, or dropped because a chat
# backend has nothing to do with them (storage, includes, truncation, ...).
_CONSUMED = frozenset(
    {
        "input",
        "instructions",
        "max_output_tokens",
        "text",
        "tools",
        "tool_choice",
        "reasoning",
        "store",
        "include",
        "truncation",
        "stream_options",
        "top_logprobs",
        "max_tool_calls",
        "context_management",
        "prompt_cache_options",
        "previous_response_id",
        "conversation",
        "prompt",
        "background",
    }
)
# Fields whose truthy value needs OpenAI-side state this router does not have.
_STATEFUL = {
    "previous_response_id": "previous_response_id needs stored responses",
    "conversation": "conversation needs stored conversations",
    "prompt": "prompt templates are stored by OpenAI",
    "background": "background responses need stored responses",
}
# Client-executed tool kinds a chat backend cannot express; refusing them is
# better than letting the model silently lose a tool the client relies on.
_UNSUPPORTED_TOOLS = frozenset({"custom"})
# Chat backends other than OpenAI rarely know `developer`; it means system.
_ROLES = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
}
_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
_CHAT_DETAIL = {"low": "low", "high": "high", "auto": "auto", "original": "high"}


def responses_to_chat(req: JSON) -> JSON:
    """A Responses request body -> a Chat Completions request body.

    Raises TranslationError for what a stateless chat backend cannot honour
    (stored state, item references, file ids, custom tools, ...).
    """
    for field, why in _STATEFUL.items():
        if req.get(field):
            raise TranslationError(
                f"{field} is not supported on this backend: {why}", param=field
            )
    out: JSON = {k: v for k, v in req.items() if k not in _CONSUMED}
    flat = _flat_names(req.get("tools"))
    out["messages"] = _messages(req, flat)
    if req.get("max_output_tokens") is not None:
        out["max_tokens"] = req["max_output_tokens"]
    _text_options(req.get("text"), out)
    reasoning = req.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
        out["reasoning_effort"] = reasoning["effort"]
    tools = _tools(req.get("tools"), flat)
    if tools:
        out["tools"] = tools
    choice = _tool_choice(req.get("tool_choice"), flat)
    if tools and choice is not None:
        out["tool_choice"] = choice
    if req.get("stream"):
        out["stream_options"] = {"include_usage": True}
    return out


def dropped_tools(req: JSON) -> list[str]:
    """The hosted tool types `responses_to_chat` leaves out, in request order."""
    tools = req.get("tools")
    if not isinstance(tools, list):
        return []
    kinds = [shape.text(t, "type") for t in tools]
    return [k for k in kinds if k is not None and k not in _KEPT_TOOLS]


_KEPT_TOOLS = frozenset({"function", "namespace"}) | _UNSUPPORTED_TOOLS


def namespaced(req: JSON) -> dict[str, tuple[str, str]]:
    """The flattened name of each function inside a `namespace` tool of
    `req` -> (its namespace, its own name)."""
    return {flat: key for key, flat in _flat_names(req.get("tools")).items() if key[0]}


def _flat_names(tools: Any) -> dict[tuple[str, str], str]:
    """(namespace, name) -> the name a chat model sees: the function's own
    name, or `namespace_name` where two tools would share it. Top-level
    functions have namespace ''."""
    pairs: list[tuple[str, str]] = []
    for tool in tools if isinstance(tools, list) else ():
        kind = shape.text(tool, "type")
        if kind == "function" and shape.text(tool, "name"):
            pairs.append(("", tool["name"]))
        elif kind == "namespace":
            ns = shape.text(tool, "name") or ""
            pairs += [
                (ns, t["name"])
                for t in shape.items(tool, "tools")
                if shape.text(t, "type") == "function" and shape.text(t, "name")
            ]
    seen: dict[str, int] = {}
    for _, name in pairs:
        seen[name] = seen.get(name, 0) + 1
    return {
        (ns, name): name if seen[name] == 1 or not ns else f"{ns}_{name}"
        for ns, name in pairs
    }


def _messages(req: JSON, flat: dict[tuple[str, str], str]) -> list[JSON]:
    messages: list[JSON] = []
    instructions = req.get("instructions")
    if isinstance(instructions, str):
        if instructions:
            messages.append({"role": "system", "content": instructions})
    elif instructions is not None:
        raise TranslationError("instructions must be a string", param="instructions")
    items = req.get("input")
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
    elif isinstance(items, list):
        for i, item in enumerate(items):
            _item(messages, item, f"input[{i}]", flat)
    elif items is not None:
        raise TranslationError("input must be a string or a list", param="input")
    if not messages:
        raise TranslationError("input is required", param="input")
    return messages


def _item(
    messages: list[JSON], item: Any, where: str, flat: dict[tuple[str, str], str]
) -> None:
    if not isinstance(item, dict):
        raise TranslationError(f"{where} must be an object", param=where)
    kind = item.get("type", "message")
    last = messages[-1] if messages else None
    if kind == "message":
        message = _message(item, where)
        if message["role"] == "assistant" and last is not None and _thinking_only(last):
            last.update(message)
        else:
            messages.append(message)
    elif kind == "function_call":
        _function_call(messages, item, where, flat)
    elif kind == "function_call_output":
        messages.append(_function_output(item, where))
    elif kind == "reasoning":
        text = _reasoning_text(item)
        if text:
            messages.append({"role": "assistant", "content": None, "reasoning": text})
    elif kind == "item_reference":
        raise TranslationError(
            f"{where}: item_reference needs stored items; send the item itself",
            param=where,
        )
    else:
        raise TranslationError(
            f"{where}: input items of type {kind!r} cannot be sent to a chat backend",
            param=where,
        )


def _thinking_only(message: JSON) -> bool:
    """An assistant message made from a reasoning item, nothing else yet."""
    return (
        message["role"] == "assistant"
        and "reasoning" in message
        and message.get("content") is None
        and "tool_calls" not in message
    )


def _reasoning_text(item: JSON) -> str:
    """A reasoning item's text: its content, else its summary."""
    for key, kind in (("content", "reasoning_text"), ("summary", "summary_text")):
        texts = [
            p["text"]
            for p in shape.items(item, key)
            if shape.text(p, "type") == kind and shape.text(p, "text")
        ]
        if texts:
            return "\n".join(texts)
    return ""


def _message(item: JSON, where: str) -> JSON:
    role = _ROLES.get(shape.text(item, "role") or "")
    if role is None:
        raise TranslationError(
            f"{where}.role must be user, assistant, system or developer",
            param=f"{where}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise TranslationError(
            f"{where}.content must be a string or a list of parts",
            param=f"{where}.content",
        )
    if role == "user":
        parts = [_user_part(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
        return {"role": role, "content": parts}
    texts: list[str] = []
    refusals: list[str] = []
    for j, part in enumerate(content):
        here = f"{where}.content[{j}]"
        kind = shape.text(part, "type")
        if kind in _TEXT_PARTS:
            texts.append(_string(part, "text", here))
        elif kind == "refusal" and role == "assistant":
            refusals.append(_string(part, "refusal", here))
        else:
            raise TranslationError(
                f"{here}: a {role} message can carry only text, not {kind!r}",
                param=here,
            )
    message: JSON = {"role": role, "content": "".join(texts)}
    if refusals:
        message["refusal"] = "".join(refusals)
    return message


def _user_part(part: Any, where: str) -> JSON:
    kind = shape.text(part, "type")
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": _string(part, "text", where)}
    if kind == "input_image":
        return _image(part, where)
    if kind == "input_file":
        return _file(part, where)
    raise TranslationError(
        f"{where}: content parts of type {kind!r} cannot be sent to a chat backend",
        param=where,
    )


def _image(part: JSON, where: str) -> JSON:
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        if part.get("file_id"):
            raise TranslationError(
                f"{where}: images by file_id live in OpenAI file storage; "
                "send the image as a URL or a data: URL instead",
                param=where,
            )
        raise TranslationError(f"{where}: input_image needs image_url", param=where)
    detail = _CHAT_DETAIL.get(shape.text(part, "detail") or "auto", "auto")
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def _file(part: JSON, where: str) -> JSON:
    file = {
        k: part[k]
        for k in ("file_data", "file_id", "filename")
        if isinstance(part.get(k), str)
    }
    if "file_data" not in file and "file_id" not in file:
        raise TranslationError(
            f"{where}: input_file needs file_data or file_id on this backend "
            "(file_url is not supported)",
            param=where,
        )
    return {"type": "file", "file": file}


def _function_call(
    messages: list[JSON], item: JSON, where: str, flat: dict[tuple[str, str], str]
) -> None:
    arguments = item.get("arguments", "")
    if not isinstance(arguments, str):
        raise TranslationError(f"{where}.arguments must be a string", param=where)
    name = _string(item, "name", where)
    namespace = shape.text(item, "namespace") or ""
    call = {
        "id": _string(item, "call_id", where),
        "type": "function",
        "function": {"name": flat.get((namespace, name), name), "arguments": arguments},
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _function_output(item: JSON, where: str) -> JSON:
    output = item.get("output")
    content: str | list[JSON]
    if isinstance(output, str):
        content = output
    elif isinstance(output, list):
        content = []
        for j, part in enumerate(output):
            here = f"{where}.output[{j}]"
            kind = shape.text(part, "type")
            if kind not in _TEXT_PARTS:
                raise TranslationError(
                    f"{here}: a chat backend takes only text tool outputs, "
                    f"not {kind!r}",
                    param=here,
                )
            content.append({"type": "text", "text": _string(part, "text", here)})
        content = content or ""
    else:
        raise TranslationError(
            f"{where}.output must be a string or a list", param=f"{where}.output"
        )
    return {
        "role": "tool",
        "tool_call_id": _string(item, "call_id", where),
        "content": content,
    }


def _tools(tools: Any, flat: dict[tuple[str, str], str]) -> list[JSON]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise TranslationError("tools must be a list", param="tools")
    out: list[JSON] = []
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        kind = shape.text(tool, "type")
        if kind == "function":
            out.append(_function_tool(tool, where, "", flat))
        elif kind == "namespace":
            ns = _string(tool, "name", where)
            inner = tool.get("tools")
            if not isinstance(inner, list):
                raise TranslationError(
                    f"{where}.tools must be a list", param=f"{where}.tools"
                )
            for j, sub in enumerate(inner):
                here = f"{where}.tools[{j}]"
                sub_kind = shape.text(sub, "type")
                if sub_kind != "function":
                    raise TranslationError(
                        f"{here}: tools of type {sub_kind!r} cannot be sent to a "
                        "chat backend",
                        param=here,
                    )
                out.append(_function_tool(sub, here, ns, flat))
        elif kind is None or kind in _UNSUPPORTED_TOOLS:
            raise TranslationError(
                f"{where}: tools of type {kind!r} cannot be sent to a chat backend",
                param=where,
            )
    return out


def _function_tool(
    tool: Any, where: str, namespace: str, flat: dict[tuple[str, str], str]
) -> JSON:
    name = _string(tool, "name", where)
    function: JSON = {"name": flat.get((namespace, name), name)}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            function[key] = tool[key]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any, flat: dict[tuple[str, str], str]) -> Any:
    """Responses tool_choice -> chat tool_choice; None means leave it out.

    A choice that requires a hosted tool cannot be honoured once that tool
    is dropped: it is refused (a 400), never silently relaxed.
    """
    if choice is None or choice in ("none", "auto", "required"):
        return choice
    if not isinstance(choice, dict):
        raise TranslationError("tool_choice is not valid", param="tool_choice")
    kind = choice.get("type")
    if kind == "function":
        name = _string(choice, "name", "tool_choice")
        namespace = shape.text(choice, "namespace") or ""
        name = flat.get((namespace, name), name)
        return {"type": "function", "function": {"name": name}}
    if kind == "allowed_tools":
        listed = shape.items(choice, "tools")
        allowed = [
            {"type": "function", "function": {"name": t["name"]}}
            for t in listed
            if shape.text(t, "type") == "function" and shape.text(t, "name")
        ]
        mode = choice.get("mode", "auto")
        if not allowed:
            if mode == "required" and listed:
                raise _hosted_choice(shape.text(listed[0], "type"))
            return "auto"
        return {
            "type": "allowed_tools",
            "allowed_tools": {"mode": mode, "tools": allowed},
        }
    raise _hosted_choice(kind if isinstance(kind, str) else None)


def _hosted_choice(kind: str | None) -> TranslationError:
    return TranslationError(
        f"tool_choice requires the hosted tool {kind!r}, which this backend cannot run",
        param="tool_choice",
    )


def _text_options(text: Any, out: JSON) -> None:
    if text is None:
        return
    if not isinstance(text, dict):
        raise TranslationError("text must be an object", param="text")
    if text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    fmt = text.get("format")
    if fmt is None:
        return
    kind = shape.text(fmt, "type")
    if kind == "json_object":
        out["response_format"] = {"type": "json_object"}
    elif kind == "json_schema":
        schema: JSON = {"name": fmt.get("name") or "response"}
        for key in ("description", "schema", "strict"):
            if fmt.get(key) is not None:
                schema[key] = fmt[key]
        out["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif kind != "text":
        raise TranslationError(
            f"text.format of type {kind!r} is not supported", param="text.format"
        )


def _string(obj: JSON, key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise TranslationError(
            f"{where}.{key} must be a string", param=f"{where}.{key}"
        )
    return value
