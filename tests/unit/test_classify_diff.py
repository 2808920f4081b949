"""The compiled classifier returns the reference's `Classification`, signals
included, on every input tried: random Unicode (hypothesis, derandomized),
seeded random conversations of both API shapes with arbitrary extra JSON
fields and payloads (classified with their raw bodies), the shared vectors
and adversarial 200 KB inputs. The gathered texts and facts are compared
too (the body read and the normaliser alone: test_classify_body_diff.py).

Skipped when the extension or hyperscan is not available.
"""

from __future__ import annotations

import base64
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import (
    REFERENCE,
    ClassifierConfig,
    Classify,
    Unreadable,
    _reference,
)
from router.wire import ChatMessage, ChatRequest, ResponsesRequest, decode_request
from tests.conftest import compiled

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors"
HINTS = (None, "medium", "HIGH ", "bogus")

# Pieces that make patterns fire, nearly fire, or sit at a cluster's edge.
FRAGMENTS = [
    "SSN 078-05-1123", "ssn: 078051123", "ITIN 912-70-1234", "passport X1234567",
    " 943 476 5919 is my NHS number", " 123456782 (BSN) ", " X1234567 passport ",
    " D1234-567 is my driver's license", " 021000021 is the routing number",
    " 046 454 286 is my SIN ", " AB1234563 DEA ", " 44051401359 PESEL ",
    " 1234567893 npi ", " 12345678901 is my CPF", " 2222 4444 6666 aadhaar ",
    "port it using rust ", "in java please", " 12345678901 steuer-id ",
    " 85073003328 rijksregisternummer ", " 19811218-9876 personnummer ",
    " 070761-4285 CPR ", " 123 456 782 tfn ", " 2123 45670 1 medicare ",
    " 11222333000181 CNPJ ", " 8001011234568 RRN ", " 98765432100 (CPF) ",
    "4111 1111 1111 1111", "4111-1111-1111-1112", "5555555555554444", "1234-" * 6,
    "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "MRN 12345678",
    "member id AB12345", "Patient: John diagnosed with E11.9", "Mr. Smith dx",
    "mail a.b@example.org", "x@y", "192.168.1.20", "1.2.3.4.5", "fe80::1ff:fe23:4567",
    "dead::beef", "+44 20 7946 0958", "(415) 555-2671", "1600 Pennsylvania Avenue",
    "DOB 03/04/1990", "born on 12th March 1980", "password = 'hunter2hunter2'",
    "api_key: ${API_KEY}", "token => sk-" + "a1B2" * 12, "AKIA" + "ABCDEFGHIJKLMNOP",
    "ghp_" + "a1" * 18, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJ" + "x" * 9,
    "postgres://user:s3cr3tPass@db.host/x", "curl -u admin:Adm1n!pw",
    "Authorization: Bearer abcDEF123456ghiJKL", "-----BEGIN RSA PRIVATE KEY-----",
    "```python\n", "```\n", "~~~", "    ```", "def f(x):\n", "class Foo:\n",
    "Traceback (most recent call last)", "SELECT a\nFROM t;", "SELECT *  FROM x",
    "write a function", "fix the code in python", "regex for emails",
    "1. one\n2. two\n3. three\n", "step by step", "prove that", "trade-offs",
    "latest news today", "what happened today in the news?", "search the web",
    "foo(x);\n", "bar();  \n", ") => {", "print(", "NameError", "main.py",
    " class F(Base):\n", "\tdef go():\n", "async def go(x):\n", "pub fn main() {\n",
    "func f(x int) {\n", "fn  x<T>(", "undef x", "first class Mail", "x" * 16 + "\n",
]  # fmt: skip
ALPHABET = " \t\n\n.,;:-_=/@#()[]{}'\"`~0123456789abcXYZéß中🙂\u00a0\u2028٣"


@pytest.fixture(scope="module")
def c_classify() -> Classify:
    implementation = compiled()
    if implementation is None:
        pytest.skip("the compiled classifier is not available")
    c: Classify = implementation.classify
    return c


def assert_same(
    request: ChatRequest | ResponsesRequest,
    c_classify: Classify,
    *,
    big: bool = False,
    body: bytes | None = None,
) -> None:
    """Same gathered facts, same classification; small requests also under a
    sensitivity hint, a low-threshold config and other unreadable levels."""
    from router.classify import _native

    chat = isinstance(request, ChatRequest)
    assert tuple(_reference.gather(request)) == _native.gather(request, chat)
    want = REFERENCE.classify(request, body=body)
    assert c_classify(request, body=body) == want, request
    if big:
        return
    hint = HINTS[len(repr(request)) % len(HINTS)]
    want = REFERENCE.classify(request, body=body, sensitivity_hint=hint)
    assert c_classify(request, body=body, sensitivity_hint=hint) == want
    config = ClassifierConfig(medium_tokens=5, high_markers=1, medium_code_blocks=1)
    want = REFERENCE.classify(request, body=body, config=config)
    assert c_classify(request, body=body, config=config) == want
    levels = Unreadable(files="medium", audio="low", images="high")
    want = REFERENCE.classify(request, body=body, unreadable=levels)
    assert c_classify(request, body=body, unreadable=levels) == want


def user(text: str) -> ChatRequest:
    return ChatRequest(model="auto", messages=[ChatMessage(role="user", content=text)])


def random_text(rng: random.Random, size: int) -> str:
    out: list[str] = []
    while sum(map(len, out)) < size:
        if rng.random() < 0.4:
            out.append(rng.choice(FRAGMENTS))
        else:
            n = rng.randint(1, 12)
            out.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    return "".join(out)


def random_parts(rng: random.Random, image_type: str, text_type: str) -> Any:
    if rng.random() < 0.4:
        return random_text(rng, rng.randint(0, 200))
    parts: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 3)):
        kind = rng.randrange(6)
        if kind == 0:
            parts.append({"type": text_type, "text": random_text(rng, 80)})
        elif kind == 1:
            url = rng.choice(["https://x.test/a.png?k=078-05-1123", "data:image/png;b"])
            image = {"url": url} if image_type == "image_url" else url
            parts.append({"type": image_type, "image_url": image})
        elif kind == 2:
            parts.append({"type": "input_audio", "input_audio": {"data": "AAAA"}})
        elif kind == 3:
            parts.append({"type": "refusal", "refusal": random_text(rng, 40)})
        elif kind == 4:
            parts.append({"type": "file", "filename": random_text(rng, 20)})
        else:
            parts.append(random_file(rng))
    return parts


def random_file(rng: random.Random) -> dict[str, Any]:
    """A file part: inline text or binary, sniffed or typed, or remote."""
    data = random_text(rng, 30).encode() if rng.random() < 0.6 else b"%PDF\x00\x01"
    encoded = base64.b64encode(data).decode()
    kind = rng.choice(["text/plain", "text/csv", "application/pdf", ""])
    file_data = rng.choice([encoded, f"data:{kind};base64,{encoded}"])
    return rng.choice([
        {"type": "file", "file": {"filename": "f.txt", "file_data": file_data}},
        {"type": "input_file", "file_data": file_data},
        {"type": "input_file", "file_id": "file-1"},
        {"type": "input_image", "file_id": "file-2"},
    ])  # fmt: skip


def random_extra(rng: random.Random) -> dict[str, Any]:
    """Fields the typed view does not name: read by sensitivity only."""
    pool = {
        "user": lambda: random_text(rng, 20),
        "stop": lambda: [random_text(rng, 10) for _ in range(rng.randint(0, 2))],
        "metadata": lambda: {random_text(rng, 6): random_text(rng, 12)},
        "prediction": lambda: {"type": "content", "content": random_text(rng, 30)},
        "temperature": lambda: rng.random(),
        "anything": lambda: random_params(rng),
    }
    keys = rng.sample(sorted(pool), rng.randint(0, 3))
    return {k: pool[k]() for k in keys}


def random_params(rng: random.Random, depth: int = 0) -> Any:
    if depth > 2 or rng.random() < 0.3:
        return rng.choice([random_text(rng, 15), 3, None, True, ""])
    if rng.random() < 0.5:
        return [random_params(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [random_text(rng, 6) for _ in range(rng.randint(0, 3))]
    return {k: random_params(rng, depth + 1) for k in keys}


def random_tool(rng: random.Random, *, nested: bool) -> dict[str, Any]:
    kind = rng.choice(
        ["function", "function", "web_search_preview", "code_interpreter"]
    )
    fn = {
        "name": rng.choice(["run_python", "web_search", "lookup", random_text(rng, 8)]),
        "description": random_text(rng, 40),
        "parameters": random_params(rng),
    }
    return {"type": kind, "function": fn} if nested else {"type": kind, **fn}


def random_chat(rng: random.Random) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 6)):
        role = rng.choice(["system", "developer", "user", "assistant", "tool"])
        message: dict[str, Any] = {
            "role": role,
            "content": random_parts(rng, "image_url", "text"),
        }
        if rng.random() < 0.2:
            message["name"] = random_text(rng, 8)
        if role == "assistant" and rng.random() < 0.4:
            call = {"name": "f", "arguments": random_text(rng, 60)}
            message["tool_calls"] = [{"id": "c", "type": "function", "function": call}]
        if role == "assistant" and rng.random() < 0.1:
            message["function_call"] = {"name": "g", "arguments": random_text(rng, 30)}
        messages.append(message)
    body: dict[str, Any] = {
        "model": rng.choice(["auto", "gpt-4o"]),
        "messages": messages,
    }
    if rng.random() < 0.3:
        body["tools"] = [
            random_tool(rng, nested=True) for _ in range(rng.randint(1, 2))
        ]
    if rng.random() < 0.1:
        body["functions"] = [{"name": "h", "parameters": random_params(rng)}]
    if rng.random() < 0.1:
        body["web_search_options"] = {}
    body.update(random_extra(rng))
    if rng.random() < 0.2:
        body["metadata"] = {"sensitivity": rng.choice(["medium", "high", 3])}
    return body


def random_responses(rng: random.Random) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.randrange(3)
        if kind == 0:
            role = rng.choice(["system", "developer", "user", "assistant", None])
            content = random_parts(rng, "input_image", "input_text")
            items.append({"type": "message", "role": role, "content": content})
        elif kind == 1:
            args = random_text(rng, 50)
            items.append({"type": "function_call", "name": "f", "arguments": args})
        else:
            output = random_parts(rng, "input_image", "input_text")
            items.append({"type": "function_call_output", "output": output})
    body: dict[str, Any] = {
        "model": "auto",
        "input": random_text(rng, 100) if rng.random() < 0.3 else items,
    }
    if rng.random() < 0.5:
        body["instructions"] = random_text(rng, 80)
    if rng.random() < 0.3:
        body["tools"] = [random_tool(rng, nested=False)]
    body.update(random_extra(rng))
    return body


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text())
def test_random_unicode(c_classify: Classify, text: str) -> None:
    assert_same(user(text), c_classify)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(ALPHABET, max_size=8)))
def test_random_fragments(c_classify: Classify, pieces: list[str]) -> None:
    assert_same(user("".join(pieces)), c_classify)


def test_seeded_conversations(c_classify: Classify) -> None:
    rng = random.Random(20261125)
    for _ in range(300):
        body = random_chat(rng) if rng.random() < 0.6 else random_responses(rng)
        raw = msgspec.json.encode(body)
        assert_same(decode_request(raw), c_classify, body=raw)


def test_surrogates_and_wide_text(c_classify: Classify) -> None:
    text = "\ud800 078-05-1123 \udfff a@example.org 中文 🙂 192.168.0.1 fe80::1:2:3"
    for k in range(8):
        assert_same(user(text * (k + 1)), c_classify)


@pytest.mark.parametrize(
    "text",
    [
        "1. a\n2. b\n3. c\n" + "prose line\n" * 3_000,
        "1. a\n2. b\n" + "prose line\n" * 3_000 + "3. c\n",
        "1. a\n2. b\n" + "x" * 8_178 + "\n3. c\n" + "y\n" * 100,
        "1. a\n2. b\nz" + "é" * 4_093 + "\n3. c\n" + "y\n" * 5_000,
        "1.5 no\n" * 3 + "z " * 6_000 + "\n1. a\n2. b\n",
    ],
    ids=["early", "late", "far-apart", "wide-text", "too-few"],
)
def test_numbered_items_in_long_texts(c_classify: Classify, text: str) -> None:
    assert_same(user(text), c_classify, big=True)


@pytest.mark.parametrize("line", [" class F:", "\tdef f(x):", " fn f() {", " func f("])
def test_definitions_after_long_lines(c_classify: Classify, line: str) -> None:
    """hyperscan 0.9.1 missed these (one blank, after a line of 16+)."""
    for before in ("", "x" * 15, "x" * 16, "x" * 70):
        assert_same(user(before + "\n" + line), c_classify)


def test_long_mixed_texts(c_classify: Classify) -> None:
    rng = random.Random(7)
    for size in (2_000, 30_000, 120_000):
        assert_same(user(random_text(rng, size)), c_classify, big=size > 2_000)


@pytest.mark.parametrize(
    "text",
    [
        "7" * 200_000,
        "-1" * 100_000,
        "a@" * 100_000,
        "- . : / _ =" * 18_000,
        "1234-" * 40_000,
        ("x" * 9_999 + "\n") * 20,
        "a.b@example.org " * 12_000,
        " @example.org x..y@z.io" * 8_000,
        "SELECT a FROM t.b_c; FROM\n x " * 7_000,
        "SSN 078-05-1123 " * 12_000,
        "ssn 123456789 passport A1234567 MRN 1234-5678 member id AB12345 " * 3_000,
        "Patient: John dx E11.9 diagnosed " * 6_000,
        "```\n" * 50_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_adversarial(c_classify: Classify, text: str) -> None:
    assert_same(user(text), c_classify, big=True)


def test_many_tiny_messages(c_classify: Classify) -> None:
    messages = [ChatMessage(role="user", content="hi")] * 20_000
    assert_same(ChatRequest(model="auto", messages=messages), c_classify, big=True)


def test_fallback_paths(c_classify: Any) -> None:
    """Halted scans, per-pattern position scans and plain `finditer`."""
    from router.classify import _compiled, bank

    databases = c_classify.bank._databases
    per_report = (("sensitive", 10**9), ("task", 10**9))
    rng = random.Random(11)
    for cap in (0, 2, 50):
        limits = bank.Limits(max_ends=cap, scan_reports=3, per_report=per_report)
        small = _compiled.Compiled(bank.Bank(databases, limits))
        for _ in range(40):
            assert_same(msgspec.convert(random_chat(rng), ChatRequest), small)


@pytest.mark.vectors
@pytest.mark.skipif(not VECTORS.is_dir(), reason=f"no test vectors under {VECTORS}")
@pytest.mark.parametrize(
    "name", ["presidio_cases.jsonl", "secret_cases.jsonl", "task_prompts.jsonl"]
)
def test_shared_vectors(c_classify: Classify, name: str) -> None:
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    for line in path.read_bytes().splitlines():
        if line:
            text = msgspec.json.decode(line)["text"]
            assert c_classify(user(text)) == REFERENCE.classify(user(text)), text
