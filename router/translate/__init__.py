"""Translate stage: pure, synchronous conversions between the wire formats the
router speaks (Responses <-> chat completions, chat completions <-> Ollama),
for requests, whole answers and streams. No I/O; plain decoded JSON in and out.

    responses_to_chat      Responses request   -> chat request
    chat_to_response       chat completion     -> Responses object
    ResponsesStreamWriter  chat chunks         -> Responses events (encode_sse)
    chat_to_ollama         chat request        -> Ollama /api/chat request
    ollama_to_chat         Ollama answer       -> chat completion
    OllamaChatStream       Ollama NDJSON lines -> chat chunks (encode_chat_sse)
"""

from router.translate.errors import TranslationError, UpstreamStreamError
from router.translate.ollama import chat_to_ollama
from router.translate.ollama_stream import (
    SSE_DONE,
    OllamaChatStream,
    encode_chat_sse,
    ollama_to_chat,
    ollama_usage,
)
from router.translate.response_object import (
    chat_to_response,
    response_shell,
    response_usage,
)
from router.translate.responses import dropped_tools, responses_to_chat
from router.translate.responses_stream import (
    ResponsesStreamWriter,
    encode_sse,
    failure_events,
)

__all__ = [
    "SSE_DONE",
    "OllamaChatStream",
    "ResponsesStreamWriter",
    "TranslationError",
    "UpstreamStreamError",
    "chat_to_ollama",
    "chat_to_response",
    "dropped_tools",
    "encode_chat_sse",
    "encode_sse",
    "failure_events",
    "ollama_to_chat",
    "ollama_usage",
    "response_shell",
    "response_usage",
    "responses_to_chat",
]
