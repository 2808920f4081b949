"""The NDJSON reader (Ollama's streams): lines split from arbitrary reads,
one parse per read."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from router.backends import ndjson
from router.translate.errors import UpstreamStreamError

OBJECTS = [
    {"message": {"role": "assistant", "content": f"w{i} \u00e9\\n"}, "done": False}
    for i in range(20)
] + [{"done": True, "done_reason": "stop", "eval_count": 20}]
DOC = b"".join(orjson.dumps(o) + b"\n" for o in OBJECTS)


class _Content:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class _Resp:
    def __init__(self, chunks: list[bytes]) -> None:
        self.content = _Content(chunks)


async def _read(chunks: list[bytes]) -> list[dict[str, Any]]:
    batches = ndjson.batches(_Resp(chunks))  # type: ignore[arg-type]
    return [obj async for batch in batches for obj in batch]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


async def test_every_two_way_split_gives_the_same_objects() -> None:
    for cut in range(len(DOC) + 1):
        assert await _read(_split(DOC, [cut])) == OBJECTS, cut


async def test_random_reads_blank_lines_and_crlf() -> None:
    rng = random.Random(5)
    doc = DOC.replace(b"\n", b"\r\n\n")
    for _ in range(200):
        cuts = [rng.randrange(len(doc) + 1) for _ in range(rng.randrange(1, 40))]
        assert await _read(_split(doc, cuts)) == OBJECTS


async def test_a_last_line_without_its_newline_is_read() -> None:
    assert await _read([DOC.rstrip(b"\n")]) == OBJECTS


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        ([b'{"done": false}\n', b"not json\n"], "not NDJSON"),
        ([b"[1, 2]\n"], "not an object"),
        ([b'{"done": false}, {"done": true}\n'], "not NDJSON"),
        ([b"1, 2\n"], "not NDJSON"),
        ([b'{"message": "' + b"x" * 64], "too long"),
    ],
)
async def test_bad_lines_are_protocol_errors(
    chunks: list[bytes], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ndjson, "MAX_LINE_BYTES", 32)
    with pytest.raises(UpstreamStreamError, match=message):
        await _read(chunks)


async def test_the_lines_before_a_bad_one_come_first_however_the_reads_fell() -> None:
    head = b"".join(orjson.dumps(o) + b"\n" for o in OBJECTS[:2])
    bad = head + b"not json\n" + DOC
    for cut in range(len(bad) + 1):
        got: list[dict[str, Any]] = []
        batches = ndjson.batches(_Resp(_split(bad, [cut])))  # type: ignore[arg-type]
        with pytest.raises(UpstreamStreamError, match="not NDJSON"):
            async for batch in batches:
                got += batch
        assert got == OBJECTS[:2], cut
