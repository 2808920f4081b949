"""Translate stage, chat result -> Responses object: a chat completion (plus the
Responses request that asked for it) in, a Responses API `Response` out.

The builders here are shared with the stream writer, so that the object a
stream ends with is the one the non-streaming path returns.
"""

from __future__ import annotations

from typing import Any

from router.translate import shape
from router.translate.responses import namespaced

JSON = dict[str, Any]

# ResponseError.code is an enum (ResponseErrorCode); others report server_error.
ERROR_CODES = frozenset(
    {
        "server_error",
        "rate_limit_exceeded",
        "invalid_prompt",
        "data_residency_mismatch",
        "bio_policy",
        "vector_store_timeout",
        "invalid_image",
        "invalid_image_format",
        "invalid_base64_image",
        "invalid_image_url",
        "image_too_large",
        "image_too_small",
        "image_parse_error",
        "image_content_policy_violation",
        "invalid_image_mode",
        "image_file_too_large",
        "unsupported_image_media_type",
        "empty_image_file",
        "failed_to_download_image",
        "image_file_not_found",
    }
)
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def chat_to_response(
    completion: JSON,
    *,
    request: JSON,
    response_id: str,
    created_at: int,
    completed_at: int | None = None,
) -> JSON:
    """A chat completion object -> a Responses `Response` object.

    `completed_at` defaults to the completion's `created`; this stage reads no
    clock.
    """
    choices = shape.items(completion, "choices")
    choice = choices[0] if choices else {}
    message = shape.obj(choice, "message")
    finish_reason = shape.text(choice, "finish_reason")
    response = response_shell(
        request,
        response_id=response_id,
        created_at=created_at,
        model=shape.text(completion, "model") or shape.text(request, "model") or "",
    )
    status = finish_status(finish_reason)
    ids = ItemIds(response_id)
    output: list[JSON] = []
    text = shape.text(message, "content") or ""
    refusal = shape.text(message, "refusal")
    calls = [c for c in shape.items(message, "tool_calls") if isinstance(c, dict)]
    thinking = shape.text(message, "reasoning") or shape.text(
        message, "reasoning_content"
    )
    if thinking:
        output.append(reasoning_item(ids.reasoning, thinking, status))
    parts: list[JSON] = []
    # An answer with nothing at all still gets an (empty) message, as OpenAI's.
    if text or not (refusal or calls):
        parts.append(output_text_part(text))
    if refusal:
        parts.append(refusal_part(refusal))
    if parts:
        output.append(message_item(ids.message, parts, status))
    namespaces = namespaced(request)
    for n, call in enumerate(calls):
        function = shape.obj(call, "function")
        output.append(
            function_call_item(
                ids.call(n),
                call_id=shape.text(call, "id") or ids.call_id(n),
                name=shape.text(function, "name") or "",
                arguments=shape.text(function, "arguments") or "",
                status=status,
                namespaces=namespaces,
            )
        )
    created = completion.get("created")
    return finish_response(
        response,
        output=output,
        finish_reason=finish_reason,
        usage=shape.obj(completion, "usage") or None,
        completed_at=completed_at
        or (created if isinstance(created, int) else created_at),
    )


class ItemIds:
    """Output item ids derived from the response id, so that the streamed and
    the final object agree without sharing state."""

    def __init__(self, response_id: str) -> None:
        self.suffix = response_id.removeprefix("resp_")
        self.message = f"msg_{self.suffix}"
        self.reasoning = f"rs_{self.suffix}"

    def call(self, n: int) -> str:
        return f"fc_{self.suffix}_{n}"

    def call_id(self, n: int) -> str:
        return f"call_{self.suffix}_{n}"


def response_shell(
    request: JSON, *, response_id: str, created_at: int, model: str
) -> JSON:
    """An `in_progress` Response with every field echoed from the request."""
    response: JSON = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": "in_progress",
        "background": False,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": request.get("max_tool_calls"),
        "model": model,
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls") is not False,
        "previous_response_id": None,
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,
        "temperature": _number(request.get("temperature")),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice") or "auto",
        "tools": _function_tools(request.get("tools")),
        "top_logprobs": 0,
        "top_p": _number(request.get("top_p")),
        "truncation": "disabled",
        "metadata": request.get("metadata") or {},
    }
    for key in ("user", "safety_identifier", "prompt_cache_key"):
        if isinstance(request.get(key), str):
            response[key] = request[key]
    return response


def finish_status(finish_reason: str | None) -> str:
    return "incomplete" if finish_reason in _INCOMPLETE else "completed"


def finish_response(
    response: JSON,
    *,
    output: list[JSON],
    finish_reason: str | None,
    usage: JSON | None,
    completed_at: int,
) -> JSON:
    """Fill a shell with its final output, status, usage and timestamps."""
    status = finish_status(finish_reason)
    response["status"] = status
    response["output"] = output
    if finish_reason in _INCOMPLETE:
        response["incomplete_details"] = {"reason": _INCOMPLETE[finish_reason]}
    else:
        response["completed_at"] = completed_at
    if usage is not None:
        response["usage"] = response_usage(usage)
    return response


def response_usage(usage: JSON) -> JSON:
    """Chat `usage` -> Responses `usage`."""
    prompt = shape.count(usage, "prompt_tokens")
    completion = shape.count(usage, "completion_tokens")
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": shape.count(
                shape.obj(usage, "prompt_tokens_details"), "cached_tokens"
            ),
            "cache_write_tokens": shape.count(
                shape.obj(usage, "prompt_tokens_details"), "cache_write_tokens"
            ),
        },
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": shape.count(
                shape.obj(usage, "completion_tokens_details"), "reasoning_tokens"
            )
        },
        "total_tokens": shape.count(usage, "total_tokens") or prompt + completion,
    }


def output_text_part(text: str) -> JSON:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal_part(refusal: str) -> JSON:
    return {"type": "refusal", "refusal": refusal}


def message_item(item_id: str, parts: list[JSON], status: str) -> JSON:
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "content": parts,
        "status": status,
    }


def reasoning_item(item_id: str, text: str, status: str) -> JSON:
    """A model's thinking as a Responses `reasoning` item (its text in
    `content`; no summary, nothing encrypted)."""
    content = [{"type": "reasoning_text", "text": text}] if text else []
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [],
        "content": content,
        "encrypted_content": None,
        "status": status,
    }


def function_call_item(
    item_id: str,
    *,
    call_id: str,
    name: str,
    arguments: str,
    status: str,
    namespaces: dict[str, tuple[str, str]] | None = None,
) -> JSON:
    """A function call; `namespaces` maps a flattened name back to the
    namespace tool it came from (responses.namespaced)."""
    item = {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }
    origin = namespaces.get(name) if namespaces else None
    if origin is not None:
        item["namespace"], item["name"] = origin
    return item


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 1.0


def _function_tools(tools: Any) -> list[JSON]:
    """The request's function tools as the Response echoes them: only those
    the model was offered (hosted ones were dropped), with every required key."""
    if not isinstance(tools, list):
        return []
    return [
        {
            "type": "function",
            "name": t.get("name"),
            "description": t.get("description"),
            "parameters": t.get("parameters"),
            "strict": t.get("strict") is True,
        }
        for t in tools
        if isinstance(t, dict) and t.get("type") == "function"
    ]
