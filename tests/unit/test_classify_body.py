"""Sensitivity reads the whole body: fields the router's typed view does not
name, keys that carry data, adjacent text parts as one text, decoded text
files; what it cannot read fails closed (`privacy.unreadable`). Run through
both implementations with the raw body, as the server calls them.

Credentials are assembled from pieces so that no literal one sits in the
repository for secret scanners to trip on.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from router.classify import Classify, Unreadable
from router.classify.types import Classification
from router.wire import decode_request

SSN = "078-05-1120"
GHP = "gh" + "p_" + "Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"
USER_HI = {"role": "user", "content": "hi"}


def run(body: dict[str, Any], classifier: Classify, **kw: Any) -> Classification:
    raw = msgspec.json.encode(body)
    return classifier(decode_request(raw), body=raw, **kw)


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": [USER_HI], **extra}


def responses(input_: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "auto", "input": input_, **extra}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Each place of the list that reached the cloud unread.
UNNAMED = {
    "prediction": chat(prediction={"type": "content", "content": f"SSN {SSN}"}),
    "stop": chat(stop=["END", GHP]),
    "user": chat(user=f"ssn {SSN}"),
    "metadata value": chat(metadata={"note": f"SSN {SSN}"}),
    "metadata key": chat(metadata={f"SSN {SSN}": "x"}),
    "response_format schema": chat(
        response_format={"type": "json_schema", "json_schema": {"name": "r",
            "schema": {"type": "object", "properties": {GHP: {"type": "string"}}}}}
    ),
    "text.format schema": responses("hi", text={"format": {"type": "json_schema",
        "name": "r", "schema": {"description": f"example SSN {SSN}"}}}),
    "web_search_options": chat(web_search_options={"user_location": {
        "type": "approximate", "approximate": {"city": f"SSN {SSN}"}}}),
    "assistant refusal": {"model": "auto", "messages": [USER_HI,
        {"role": "assistant", "refusal": f"not with SSN {SSN}"}]},
    "prompt.variables": responses("hi", prompt={"id": "pmpt_1",
        "variables": {"customer": f"SSN {SSN}"}}),
    "custom_tool_call.input": responses([{"type": "custom_tool_call",
        "call_id": "c1", "name": "f", "input": GHP}]),
    "reasoning.summary": responses([{"type": "reasoning", "id": "rs_1",
        "summary": [{"type": "summary_text", "text": f"SSN {SSN}"}]}]),
    "shell call": responses([{"type": "local_shell_call", "id": "s", "call_id": "c",
        "status": "completed", "action": {"type": "exec",
        "command": ["curl", "-H", f"token {GHP}"], "env": {}}}]),
    "code interpreter call": responses([{"type": "code_interpreter_call",
        "id": "ci", "code": f"ssn = '{SSN}'", "container_id": "x"}]),
    "web search call": responses([{"type": "web_search_call", "id": "ws",
        "status": "completed", "action": {"type": "search", "query": f"SSN {SSN}"}}]),
    "MCP headers": responses("hi", tools=[{"type": "mcp", "server_label": "m",
        "server_url": "https://mcp.example", "headers": {"Authorization": GHP}}]),
    "a field of tomorrow": chat(brand_new={"deep": [{"x": f"SSN {SSN}"}]}),
}  # fmt: skip


@pytest.mark.parametrize("place", sorted(UNNAMED))
def test_fields_the_wire_does_not_name_are_read(
    place: str, classifier: Classify
) -> None:
    c = run(UNNAMED[place], classifier)
    assert c.sensitivity == "high", c.signals
    assert {"pii:ssn", "secret:github_token"} & set(c.signals)


def test_headers_read_as_written(classifier: Classify) -> None:
    bearer = "Bearer " + "abcDEF123456ghiJKL"
    body = responses("hi", tools=[{"type": "mcp", "server_label": "m",
        "headers": {"Authorization": bearer}}])  # fmt: skip
    assert run(body, classifier).sensitivity == "high"


def test_structural_values_are_not_text(classifier: Classify) -> None:
    body = {"model": SSN, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "tool_calls": [{"id": SSN, "type": "function",
            "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": SSN, "content": "ok"}]}  # fmt: skip
    assert run(body, classifier).sensitivity == "low"


def test_allow_listed_keys_are_data_inside_data(classifier: Classify) -> None:
    assert run(chat(metadata={"model": SSN}), classifier).sensitivity == "high"
    assert run(chat(metadata={"id": SSN}), classifier).sensitivity == "high"


def test_keyed_values_read_with_their_key(classifier: Classify) -> None:
    """Nine bare digits count only beside an SSN keyword: a metadata key."""
    assert run(chat(metadata={"ssn": "078051120"}), classifier).sensitivity == "high"
    assert run(chat(metadata={"order": "078051120"}), classifier).sensitivity == "low"


def test_adjacent_text_parts_are_one_text(classifier: Classify) -> None:
    parts = [{"type": "text", "text": "SSN 078-05-"}, {"type": "text", "text": "1120"}]
    body = {"model": "auto", "messages": [{"role": "user", "content": parts}]}
    assert run(body, classifier).sensitivity == "high"
    split = [{"role": "user", "content": [p]} for p in parts]
    assert run({"model": "auto", "messages": split}, classifier).sensitivity == "low"


def test_text_files_are_decoded_and_read(classifier: Classify) -> None:
    csv = b64(f"name,ssn\nAda,{SSN}\n".encode())
    for part in (
        {"type": "file", "file": {"filename": "a.csv",
            "file_data": f"data:text/csv;base64,{csv}"}},
        {"type": "file", "file": {"filename": "a", "file_data": csv}},
        {"type": "file", "file": {"file_data": "data:application/json;base64,"
            + b64(msgspec.json.encode({"token": GHP}))}},
    ):  # fmt: skip
        body = {"model": "auto", "messages": [{"role": "user", "content": [part]}]}
        c = run(body, classifier)
        assert c.sensitivity == "high", part
        assert not any(s.startswith("unreadable:") for s in c.signals), c.signals


UNREADABLE = {
    "pdf": ("file", {"type": "input_file", "filename": "a.pdf",
        "file_data": "data:application/pdf;base64," + b64(b"%PDF-1.7\x00\x01")}),
    "binary, type sniffed": ("file", {"type": "input_file",
        "file_data": b64(bytes(range(256)))}),
    "file id": ("file", {"type": "input_file", "file_id": "file-abc"}),
    "file url": ("file", {"type": "input_file", "file_url": "https://x.test/a.pdf"}),
    "audio": ("audio", {"type": "input_audio",
        "input_audio": {"data": b64(b"RIFF\x00"), "format": "wav"}}),
    "image by url": ("image", {"type": "input_image",
        "image_url": "https://x.test/a.png"}),
    "image inline": ("image", {"type": "input_image",
        "image_url": "data:image/png;base64," + b64(b"\x89PNG")}),
    "image by file id": ("image", {"type": "input_image", "file_id": "file-img"}),
}  # fmt: skip
LEVELS = {"file": "high", "audio": "high", "image": "low"}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_what_cannot_be_read_fails_closed(name: str, classifier: Classify) -> None:
    kind, part = UNREADABLE[name]
    body = responses([{"role": "user", "content": [part]}])
    c = run(body, classifier)
    assert f"unreadable:{kind}" in c.signals
    assert c.sensitivity == LEVELS[kind]
    lowered = Unreadable(files="low", audio="low", images="low")
    assert run(body, classifier, unreadable=lowered).sensitivity == "low"
    raised = Unreadable(images="high")
    assert run(body, classifier, unreadable=raised).sensitivity == "high"


def test_a_body_that_is_not_strict_json_is_high(classifier: Classify) -> None:
    raw = b'{"model": "auto", "messages": [], "x": "\xff"}'
    c = classifier(decode_request(raw), body=raw)
    assert (c.sensitivity, "unreadable:body" in c.signals) == ("high", True)
    deep = b'{"model": "auto", "messages": [], "x": ' + b"[" * 200 + b"]" * 200 + b"}"
    assert "unreadable:body" in classifier(decode_request(deep), body=deep).signals


NORMALISED = [
    "SSN 078\u201105\u20111120",
    "SSN \uff10\uff17\uff18-\uff10\uff15-\uff11\uff11\uff12\uff10",
    "SSN 078-05-11\u200b20",
    "card 4111\u00a01111\u00a01111\u00a01111",
    "SSN 078%2D05%2D1120",
    "SSN 078%E2%80%9105%E2%80%911120",
]


@pytest.mark.parametrize("text", NORMALISED, ids=ascii)
def test_normalised_before_scanning(text: str, classifier: Classify) -> None:
    c = run(chat(messages=[{"role": "user", "content": text}]), classifier)
    assert c.sensitivity == "high", c.signals
