"""The C body read and normaliser agree with their references on every input
tried: arbitrary JSON bodies (hypothesis, derandomized; keys drawn from the
walk's own key sets so every rule is hit), payloads of every kind, bytes that
are not JSON, and every code point through the normaliser.

Skipped when the extension was not built.
"""

from __future__ import annotations

import base64
import random
import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import body, normalize

native = pytest.importorskip("router.classify._native")

KEYS = sorted(
    body.STRUCTURAL | body.SKIP | {"metadata", "headers", "properties", "x", ""}
)
TEXTS = [
    "078-05-1120", "hi", "", "data:", "data:,a%2Db", "DATA:text/plain;BASE64,"
    + base64.b64encode(b"SSN 078-05-1120").decode(), "data:image/png;base64,AAAA",
    "data:audio/wav;base64,UklG", "data:application/pdf;base64,JVBERi0=",
    "data:;base64,aGk=", "data:text/csv;charset=utf-8;base64,YSxi",
    "data:text/plain;base64,/w==", "data:x;base64,a=b", "aGVsbG8=", "aGk", "a",
    "SGVsbG8gd29ybGQ_-", "\u00e9\u4e2d\U0001f642", "\u2011\u00a0\u200b",
    "image", "input_image", "%E2%80%91",
]  # fmt: skip
ALPHABET = "ab-%2DE0_\u2011\u00a0\u200b\uff10\u00e9\u4e2d\u0301\u2212 \t\n"


def json_values() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.sampled_from(TEXTS),
        st.text(ALPHABET, max_size=12),
        st.text(max_size=8),
        st.integers(),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    keys = st.sampled_from(KEYS) | st.text(ALPHABET, max_size=6)
    return st.recursive(
        leaf,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5)
        ),
        max_leaves=30,
    )


def same(raw: bytes) -> None:
    want = body.read_body(raw)
    assert native.read_body(raw) == tuple(want), raw


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(json_values())
def test_any_json_body(value: Any) -> None:
    same(msgspec.json.encode(value))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(json_values(), st.sampled_from([b" ", b"\n\t", b"\r\n "]))
def test_whitespace_and_escapes(value: Any, blank: bytes) -> None:
    """The same values written with blanks everywhere and every character
    escaped (\\uXXXX, surrogate pairs)."""
    import json

    text = json.dumps(value, ensure_ascii=True, indent=1)
    same(blank + text.replace("\n", "\n" + blank.decode()).encode() + blank)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(json_values(), st.integers(0, 10_000), st.binary(min_size=1, max_size=3))
def test_broken_bodies(value: Any, at: int, junk: bytes) -> None:
    raw = msgspec.json.encode(value)
    at %= len(raw) + 1
    same(raw[:at] + junk + raw[at:])
    same(raw[:at])


@pytest.mark.parametrize(
    "raw",
    [
        b"", b" ", b"nul", b"01", b"1.", b"-", b"1e", b"[1,]", b'{"a"}', b'{"a":}',
        b"[NaN]", b"[Infinity]", b"\xef\xbb\xbf{}", b'"\\ud800"', b'"\\udc00"',
        b'"\\ud800\\u0041"', b'"\\ud83d\\ude00"', b'"\\q"', b'"\x01"', b'"\x7f"',
        b'"\xed\xa0\x80"', b'"\xc0\x80"', b'"\xf4\x90\x80\x80"', b'"\xe0\x80"',
        b"[" * 127 + b"]" * 127, b"[" * 128 + b"]" * 128, b"[" * 5000,
        b'{"a":' * 127 + b"1" + b"}" * 127, b"1" + b"0" * 5000, b"[1e99999]",
        b'{"a":1}  x', b'{"a":1} ', b'["a","b"]', b'"text"',
    ],
)  # fmt: skip
def test_edges(raw: bytes) -> None:
    same(raw)


def test_seeded_payloads() -> None:
    rng = random.Random(1202)
    kinds = ["text/plain", "text/csv", "application/json", "", "image/png",
             "audio/mpeg", "application/pdf", "application/octet-stream",
             "Text/Plain", "application/ld+json", "video/mp4"]  # fmt: skip
    for _ in range(3000):
        n = rng.randint(0, 40)
        data = bytes(rng.choice([rng.randrange(256), rng.randrange(32, 127)])
                     for _ in range(n))  # fmt: skip
        encoded = rng.choice([base64.b64encode, base64.urlsafe_b64encode])(data)
        text = encoded.decode().rstrip("=" if rng.random() < 0.5 else "")
        kind = rng.choice(kinds)
        url = f"data:{kind};base64,{text}"
        part = rng.choice([
            {"type": "file", "file": {"file_data": rng.choice([url, text])}},
            {"type": "input_image", "image_url": url},
            {"image_url": {"url": url}}, {"input_audio": {"data": text}},
            {"metadata": {"file_data": text, "u": url}},
        ])  # fmt: skip
        same(msgspec.json.encode({"messages": [{"content": [part]}]}))


def test_normalize_every_code_point() -> None:
    """Each code point alone (between newlines: no run of combining marks to
    reorder), so the C table is checked against unicodedata's categories; in
    chunks (unicodedata grows its buffer linearly: slow on long texts under
    the sanitizer's realloc)."""
    points = [c for c in range(0x80, sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]
    for at in range(0, len(points), 2048):
        chars = "\n".join(map(chr, points[at : at + 2048]))
        assert native.normalize(chars) == normalize.normalize(chars), hex(points[at])
    for c in range(0x80, sys.maxunicode + 1, 97):
        if not 0xD800 <= c < 0xE000:
            text = f"a{chr(c)}b%2d"
            assert native.normalize(text) == normalize.normalize(text), hex(c)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.text(ALPHABET + "%41%e2%80%91%ZZ%%", max_size=40) | st.text())
def test_normalize_any_text(text: str) -> None:
    assert native.normalize(text) == normalize.normalize(text)


def test_normalize_returns_plain_ascii_as_is() -> None:
    text = "plain ascii, no percent"
    assert native.normalize(text) is text
    assert normalize.normalize(text) is text
    with pytest.raises(TypeError):
        native.normalize(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.read_body("not bytes")  # type: ignore[arg-type]
