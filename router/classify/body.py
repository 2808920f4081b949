"""Classifier stage, reading the body: raw request bytes in, the sensitive
text and what could not be read out (`read_body`, the reference; the C twin
is `_native.read_body`, classifier_ext/body.c, equal on every input).

Sensitivity reads everything a backend would receive, so this walks the JSON
body generically, in document order, rather than the fields `router.wire`
names: a field the API adds tomorrow is read by default.

- Every string value is a text, except the values of the `SKIP` keys (model,
  role, type, ids, enum-valued parameters) where they describe the request's
  structure.
- Structure is what the keys of `STRUCTURAL` hold (the API's own field
  names). Any other key is data: it is read too (`key: value` for a string
  value, so `{"ssn": "..."}` in `metadata` or a header `Authorization:
  Bearer ...` reads as written), and everything under it is data: its keys
  and all its strings, `SKIP` keys included (metadata values, JSON-schema
  property names, MCP `headers`, prompt `variables`, any new map). In
  structure a key is read only when its value is a string or a container.
- Adjacent text parts (the string `text` members of consecutive objects of
  one array, nothing read between them) are one text; other texts are
  joined by a blank line.
- Payloads: a `data:` URL with `;base64` and a `file_data` string in plain
  base64 are decoded; text (valid UTF-8 without C0 controls other than
  tab, line feed, vertical tab, form feed and carriage return) of a
  text-like or unknown media type is read; images, audio and any other
  media are not (`IMAGE`, `AUDIO`, `FILE`). A
  non-empty `image_url` is an image; a `file_id` or `file_url` is a file
  (an image when its object's `type` names one); `input_audio` is audio,
  and its base64 `data` is not read.
- A body that is not strict JSON (RFC 8259, UTF-8, no lone surrogate) or is
  nested deeper than `MAX_DEPTH` is not read at all: `BODY`.
"""

from __future__ import annotations

import base64
import re
from typing import Any, Final, NamedTuple

import msgspec

from router.wire import ChatRequest, ResponsesRequest

MAX_DEPTH: Final = 128
SEPARATOR: Final = "\n\n"
# Bits of `Read.unreadable`.
FILE: Final = 1
AUDIO: Final = 2
IMAGE: Final = 4
BODY: Final = 8

STRUCTURAL: Final = frozenset(
    {
        *("messages", "content", "text", "role", "type", "model", "input"),
        *("instructions", "tools", "tool_calls", "function", "function_call"),
        *("functions", "name", "arguments", "parameters", "description", "id"),
        *("call_id", "tool_call_id", "output", "image_url", "url", "detail"),
        *("file", "file_data", "filename", "file_id", "file_url", "input_audio"),
        *("data", "format", "refusal", "stream", "stream_options", "tool_choice"),
        *("response_format", "json_schema", "schema", "strict", "reasoning"),
        *("effort", "summary", "status", "previous_response_id", "truncation"),
        *("service_tier", "annotations", "items", "required", "enum", "anyOf"),
        *("oneOf", "allOf", "additionalProperties", "title", "audio", "voice"),
        *("modalities", "include", "verbosity", "reasoning_effort"),
    }
)
SKIP: Final = frozenset(
    {
        *("model", "role", "type", "id", "call_id", "tool_call_id", "file_id"),
        *("previous_response_id", "status", "detail", "format", "effort"),
        *("reasoning_effort", "service_tier", "tool_choice", "truncation"),
        *("verbosity", "voice"),
    }
)
TEXT_TYPES: Final = frozenset(
    {
        *("", "application/octet-stream", "application/json", "application/xml"),
        *("application/csv", "application/javascript", "application/ecmascript"),
        *("application/x-javascript", "application/typescript", "application/sql"),
        *("application/x-sql", "application/yaml", "application/x-yaml"),
        *("application/toml", "application/x-toml", "application/graphql"),
        *("application/x-ndjson", "application/ndjson", "application/x-sh"),
        *("application/x-python", "application/x-httpd-php", "application/x-tex"),
        *("application/x-www-form-urlencoded", "application/rtf"),
    }
)
TEXT_SUFFIXES: Final = ("+json", "+xml", "+yaml")

_B64: Final = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_URLSAFE: Final = str.maketrans("-_", "+/")
_CONTROL: Final = re.compile(rb"[\x00-\x08\x0e-\x1f]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class Read(NamedTuple):
    """The texts of a body joined (see the module docstring) and the bits
    of what could not be read."""

    text: str
    unreadable: int


class _Object(list[tuple[str, object]]):
    """A JSON object as its members in document order (duplicates kept)."""


class _Malformed(Exception):
    pass


def request_body(request: ChatRequest | ResponsesRequest, body: bytes | None) -> bytes:
    """The body to read: the one the request came as, else its own encoding
    (a request built in code has no other; one that holds a lone surrogate
    has none, and reads as a body that is not JSON)."""
    if body is not None:
        return body
    try:
        return msgspec.json.encode(request)
    except UnicodeEncodeError:
        return b""


def read_body(body: bytes) -> Read:
    """The texts and unreadable bits of one JSON body."""
    try:
        value = _Parser(body.decode("utf-8")).document()
        walker = _Walker()
        walker.value(value, None, False, 0, None)
    except (UnicodeDecodeError, _Malformed):
        return Read("", BODY)
    return Read("".join(walker.out), walker.flags)


_WS: Final = re.compile("[ \t\n\r]*")
_STRING: Final = re.compile(r'"([^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*)"')
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_ESCAPE: Final = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))|\\')
_SIMPLE: Final = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_SCALAR: Final = object()


def _unescape(match: re.Match[str]) -> str:
    code, simple = match.groups()
    if code is not None:
        return chr(int(code, 16))
    if simple is None:
        raise _Malformed("bad escape")
    return _SIMPLE.get(simple, simple)


class _Parser:
    """Strict RFC 8259 JSON (the grammar body.c reads): objects become
    `_Object`, arrays lists, strings str, other scalars `_SCALAR`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def document(self) -> object:
        value = self.value(0)
        if self.blank() != len(self.text):
            raise _Malformed("trailing data")
        return value

    def blank(self) -> int:
        match = _WS.match(self.text, self.at)
        assert match is not None
        self.at = match.end()
        return self.at

    def value(self, depth: int) -> object:
        text, at = self.text, self.blank()
        head = text[at : at + 1]
        if head in ("{", "["):
            if depth >= MAX_DEPTH:
                raise _Malformed("too deep")
            return self.container(head == "{", depth)
        if head == '"':
            return self.string()
        for word in ("true", "false", "null"):
            if text.startswith(word, at):
                self.at = at + len(word)
                return _SCALAR
        number = _NUMBER.match(text, at)
        if number is None or number.end() == at:
            raise _Malformed("bad value")
        self.at = number.end()
        return _SCALAR

    def string(self) -> str:
        match = _STRING.match(self.text, self.at)
        if match is None:
            raise _Malformed("bad string")
        self.at = match.end()
        raw = match.group(1)
        if "\\" not in raw:
            return raw
        text = _ESCAPE.sub(_unescape, raw)
        if not text.isascii() and _SURROGATE.search(text) is not None:
            try:
                text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
            except UnicodeDecodeError:
                raise _Malformed("lone surrogate") from None
        return text

    def container(self, is_object: bool, depth: int) -> object:
        close = "}" if is_object else "]"
        out: list[Any] = _Object() if is_object else []
        self.at += 1
        if self.blank() < len(self.text) and self.text[self.at] == close:
            self.at += 1
            return out
        while True:
            if is_object:
                self.blank()
                if self.text[self.at : self.at + 1] != '"':
                    raise _Malformed("bad key")
                key = self.string()
                self.blank()
                if self.text[self.at : self.at + 1] != ":":
                    raise _Malformed("no colon")
                self.at += 1
                out.append((key, self.value(depth + 1)))
            else:
                out.append(self.value(depth + 1))
            sep = self.text[self.blank() : self.at + 1]
            self.at += 1
            if sep == close:
                return out
            if sep != ",":
                raise _Malformed("bad separator")


def _b64(text: str) -> bytes | None:
    """The bytes of a base64 text (standard or URL-safe alphabet, padding
    optional), or None."""
    if not text.isascii() or _B64.fullmatch(text) is None:
        return None
    core = text.rstrip("=")
    if len(core) % 4 == 1:
        return None
    return base64.b64decode(core.translate(_URLSAFE) + "=" * (-len(core) % 4))


def _text_of(raw: bytes) -> str | None:
    """Decoded bytes as text, or None when they do not look like text."""
    if _CONTROL.search(raw) is not None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_text_type(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in TEXT_TYPES
        or media.endswith(TEXT_SUFFIXES)
    )


class _Walker:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.flags = 0
        # (array depth, element index) of the text part read last, if any.
        self.glue: tuple[int, int] | None = None

    def emit(self, text: str | None, part: tuple[int, int] | None = None) -> None:
        if not text:
            return
        if self.out and (part is None or self.glue != (part[0], part[1] - 1)):
            self.out.append(SEPARATOR)
        self.out.append(text)
        self.glue = part

    def payload(self, text: str, key: str | None) -> str | None:
        """The text a string value reads as (None: nothing readable)."""
        if text[:5].isascii() and text[:5].lower() == "data:":
            comma = text.find(",")
            header = text[5:comma]
            if comma >= 0 and header.isascii():
                params = header.lower().split(";")
                raw = _b64(text[comma + 1 :]) if params[-1] == "base64" else None
                if len(params) > 1 and raw is not None:
                    return self.media(params[0], raw)
        if key == "file_data":
            raw = _b64(text)
            if raw is not None:
                return self.media("", raw)
        return text

    def media(self, media: str, raw: bytes) -> str | None:
        if media.startswith("image/"):
            self.flags |= IMAGE
            return None
        if media.startswith("audio/"):
            self.flags |= AUDIO
            return None
        text = _text_of(raw) if _is_text_type(media) else None
        if text is None:
            self.flags |= FILE
        return text

    def value(
        self,
        value: object,
        key: str | None,
        data: bool,
        depth: int,
        part: tuple[int, int] | None,
    ) -> None:
        if isinstance(value, list):  # the parser refused MAX_DEPTH deep ones
            if isinstance(value, _Object):
                self.members(value, key, data, depth, part)
            else:
                self.array(value, key, data, depth)
        elif isinstance(value, str):
            skip = not data and key in SKIP
            if not skip:
                self.emit(self.payload(value, key))

    def array(self, items: list[object], key: str | None, data: bool, d: int) -> None:
        for i, item in enumerate(items):
            if isinstance(item, str):
                if data or key not in SKIP:
                    self.emit(self.payload(item, key))
            else:
                self.value(item, key, data, d + 1, (d, i))
        self.glue = None

    def members(
        self,
        pairs: _Object,
        parent: str | None,
        data: bool,
        depth: int,
        part: tuple[int, int] | None,
    ) -> None:
        file_ref = image_type = False
        for key, value in pairs:
            container = isinstance(value, list)
            keyed = data or (
                key not in STRUCTURAL and (container or isinstance(value, str))
            )
            if isinstance(value, str):
                if key == "type":
                    image_type = "image" in value
                elif key in ("file_id", "file_url") and value:
                    file_ref = True
                elif key == "image_url" and value:
                    self.flags |= IMAGE
                skip = (not data and key in SKIP) or (
                    key == "data" and parent == "input_audio"
                )
                text = None if skip else self.payload(value, key)
                if keyed:
                    self.emit(f"{key}: {text}" if text else key)
                elif key == "text" and part is not None:
                    self.emit(text, part)
                else:
                    self.emit(text)
                continue
            if keyed:
                self.emit(key)
            if container:
                if key == "image_url" and value:
                    self.flags |= IMAGE
                elif key == "input_audio" and isinstance(value, _Object):
                    self.flags |= AUDIO
                self.value(value, key, keyed, depth + 1, None)
        if file_ref:
            self.flags |= IMAGE if image_type else FILE
