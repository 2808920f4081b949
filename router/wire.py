"""Decode stage: typed views of the OpenAI request bodies.

Bytes in, a `ChatRequest` or `ResponsesRequest` out. The Structs name only the
fields the router reads (classification, routing, streaming); every other
field is ignored here and survives untouched in the raw body that dispatch
forwards, so pass-through never depends on this module knowing a field.
Decoders are built once at import time.

The Structs inside a request are `gc=False` (msgspec): decoded JSON holds no
reference cycles and nothing here builds one, so the garbage collector need
not track the thousands a long conversation decodes into (200 KB of tiny
messages: 880 -> 780 us to decode).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import msgspec


class ImageURL(msgspec.Struct, kw_only=True, gc=False):
    url: str = ""
    detail: str | None = None


class InputAudio(msgspec.Struct, kw_only=True, gc=False):
    data: str = ""
    format: str | None = None


# The content part types OpenAI accepts (../shared/specs/openai_openapi.yaml):
# chat's ChatCompletionRequest*MessageContentPart, the Responses InputContent
# of messages and tool outputs, OutputMessageContent and a reasoning item's
# content. Another type is a 400 naming the allowed ones: the router cannot
# promise to have read a part it does not know.
ChatPartType = Literal["text", "image_url", "input_audio", "file", "refusal"]
InputPartType = Literal[
    "input_text", "input_image", "input_file", "output_text", "refusal",
    "reasoning_text",
]  # fmt: skip
PartType = Literal[ChatPartType, InputPartType]


class ContentPart(msgspec.Struct, kw_only=True, gc=False):
    """One content part of either API (`text`, `image_url`, `input_text`,
    `input_image`, `input_audio`, `output_text`, `refusal`, `file`, ...).

    One Struct for both APIs, so a part of the other API's types decodes
    too (and is read); `type` defaults to `text` where a list of
    objects names none (e.g. shell call outputs).
    """

    type: PartType = "text"
    text: str | None = None
    refusal: str | None = None
    # Chat uses {"image_url": {"url": ...}}; Responses uses {"image_url": "..."}.
    image_url: ImageURL | str | None = None
    input_audio: InputAudio | None = None
    file_id: str | None = None
    filename: str | None = None
    file_data: str | None = None


class FunctionCall(msgspec.Struct, kw_only=True, gc=False):
    name: str = ""
    arguments: str = ""


class ToolCall(msgspec.Struct, kw_only=True, gc=False):
    id: str | None = None
    type: str = "function"
    function: FunctionCall | None = None


# The roles OpenAI accepts (../shared/specs/openai_openapi.yaml:
# ChatCompletionRequestMessage, EasyInputMessage); any other is a 400 there,
# and here.
ChatRole = Literal["developer", "system", "user", "assistant", "tool", "function"]
InputRole = Literal["user", "assistant", "system", "developer"]
ALLOWED: dict[str, tuple[str, ...]] = {
    "messages[].role": get_args(ChatRole),
    "input[].role": get_args(InputRole),
    "messages[].content[].type": get_args(ChatPartType),
    "input[].content[].type": get_args(InputPartType),
    "input[].output[].type": ("input_text", "input_image", "input_file"),
}


class ChatMessage(msgspec.Struct, kw_only=True, gc=False):
    role: ChatRole
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    # Deprecated single function call of the legacy API; still read for privacy.
    function_call: FunctionCall | None = None


class FunctionDef(msgspec.Struct, kw_only=True, gc=False):
    name: str = ""
    description: str | None = None
    parameters: Any = None


class Tool(msgspec.Struct, kw_only=True, gc=False):
    """A tool of either API: chat nests `function`, Responses flattens it."""

    type: str = "function"
    function: FunctionDef | None = None
    name: str | None = None
    description: str | None = None
    parameters: Any = None


class ChatRequest(msgspec.Struct, kw_only=True):
    model: str
    messages: list[ChatMessage]
    stream: bool | None = None
    tools: list[Tool] | None = None
    functions: list[FunctionDef] | None = None
    metadata: dict[str, Any] | None = None
    web_search_options: Any = None


class InputItem(msgspec.Struct, kw_only=True, gc=False):
    """One Responses `input` item: a message, a function call or its output,
    a reasoning item, ... All fields optional; `type` defaults to message."""

    type: str = "message"
    role: InputRole | None = None
    content: str | list[ContentPart] | None = None
    name: str | None = None
    arguments: str | None = None
    call_id: str | None = None
    output: str | list[ContentPart] | None = None


class ResponsesRequest(msgspec.Struct, kw_only=True):
    model: str
    input: str | list[InputItem]
    instructions: str | None = None
    stream: bool | None = None
    tools: list[Tool] | None = None
    metadata: dict[str, Any] | None = None


Request = ChatRequest | ResponsesRequest

chat_decoder = msgspec.json.Decoder(ChatRequest)
responses_decoder = msgspec.json.Decoder(ResponsesRequest)


class _Shape(msgspec.Struct):
    # Raw leaves the values unparsed; an empty Raw means the key is absent.
    messages: msgspec.Raw = msgspec.Raw()
    input: msgspec.Raw = msgspec.Raw()


_shape_decoder = msgspec.json.Decoder(_Shape)


def decode_request(body: bytes) -> Request:
    """Decode a body of either shape, picked by its top-level keys (`input`
    without `messages` is Responses, anything else is chat). Raises
    `msgspec.ValidationError` or `msgspec.DecodeError` with msgspec's path."""
    # Chat first: a valid chat body is decoded once. Only when that fails
    # does the shape decide, so errors are those of the shape's decoder (a
    # malformed body raises the shape decoder's DecodeError, as before).
    try:
        return chat_decoder.decode(body)
    except msgspec.ValidationError:
        shape = _shape_decoder.decode(body)
        if shape.input and not shape.messages:
            return responses_decoder.decode(body)
        raise
    except msgspec.DecodeError:
        # Malformed JSON: the typed decoder may stop at another byte or say
        # it otherwise; the error is the shape decoder's, as documented.
        _shape_decoder.decode(body)
        raise
