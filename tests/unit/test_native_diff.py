"""The C functions agree with their pure-Python twins on every input tried:
token estimate, Luhn, the span-only checks, the JWT check, the fence count,
plus the scan buffer and the match collector hyperscan reports into. (The
gather twin is compared in test_classify_diff.py, request by request.)

Seeded generators plus hypothesis over arbitrary Unicode, in the spirit of
uvloop running every test on both loops. Skipped when the extension was not
built (LLR_NO_EXTENSIONS=1 at build time).
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import ids, tokens, validators
from router.classify.patterns import BANK, BY_NAME, RE_FLAGS

native = pytest.importorskip("router.classify._native")

ALPHABETS = [
    "0123456789",
    "0123456789 -",
    "abc XYZ_09,.;:!?()[]{}\n\t  ",
    "def f(x):\n    return x + 1  # ok\n",
    "你好世界こんにちはカタカナ한국어",
    "naïve café Ωμέγα привет 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ٠١٢٣ ²³ ⅷ \u00a0\u2028\u3000",
    "🙂👍🏽\u200d\ufe0f",
]


def random_text(rng: random.Random) -> str:
    alphabet = rng.choice(ALPHABETS) + rng.choice(ALPHABETS)
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))


def test_estimate_tokens_seeded() -> None:
    rng = random.Random(1125)
    for _ in range(5000):
        text = random_text(rng)
        assert native.estimate_tokens(text) == tokens.estimate_tokens(text), repr(text)


def test_estimate_tokens_ascii_blocks() -> None:
    """The ASCII path counts 64 characters at a time: runs of every class,
    of every length mod 3 and past ten letters, across block edges."""
    rng = random.Random(64)
    pieces = ["a", "Z", "7", " ", "\t", "\x1c", ".", "-", "\x00", "\x7f"]
    lengths = [1, 1, 2, 3, 9, 10, 11, 40, 64, 70]
    for _ in range(1500):
        n = rng.randint(0, 40)
        text = "".join(rng.choice(pieces) * rng.choice(lengths) for _ in range(n))
        assert native.estimate_tokens(text) == tokens.estimate_tokens(text), repr(text)


@settings(max_examples=1500, deadline=None)
@given(st.text())
def test_estimate_tokens_any_unicode(text: str) -> None:
    assert native.estimate_tokens(text) == tokens.estimate_tokens(text)


def test_luhn_seeded() -> None:
    rng = random.Random(4111)
    for _ in range(20000):
        n = rng.randint(0, 22)
        s = "".join(rng.choice("0123456789") for _ in range(n))
        if rng.random() < 0.1 and s:
            i = rng.randrange(len(s))
            s = s[:i] + rng.choice("a -٣²") + s[i + 1 :]
        assert native.luhn_ok(s) == validators.luhn_ok(s), repr(s)


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4012888888881881",
        "371449635398431",
        "5555555555554444",
        "6011000400000000",
        "3528000700000000",
    ],
)
def test_luhn_known_cards(card: str) -> None:
    assert native.luhn_ok(card) and validators.luhn_ok(card)
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not native.luhn_ok(bad) and not validators.luhn_ok(bad)


def test_type_errors() -> None:
    with pytest.raises(TypeError):
        native.luhn_ok(b"4111111111111111")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.estimate_tokens(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- span checks

SPAN_ALPHABETS = [
    "0123456789 -", "0123456789-.", "GBDE0123456789 -AZ", "9876543210 ./",
    "gbdeGBDE0123456789 -azAZ", "aX0123456789 -",
]  # fmt: skip


def span_cases(rng: random.Random) -> list[str]:
    cases = [
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4111 1111-1111 1111",
        "378282246310005", "6011000990139424", "1234 5678 9012 3456",
        "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "NO9386011117947",
        "078-05-1123", "666-05-1123", "912-70-1234", "900-49-1234", "12345",
        "11111", "+44 20 7946 0958", "03/04/1990", "12th March 1980", "31 12 99",
        "٤١١١١١١١١١١١١١١١", "４１１１", "",
    ]  # fmt: skip
    for _ in range(6000):
        alphabet = rng.choice(SPAN_ALPHABETS)
        cases.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))))
    return cases


@pytest.mark.parametrize("kind", range(7 + len(ids.ID_CHECKS)))
def test_span_checks_seeded(kind: int) -> None:
    from router.classify._compiled import KERNELS, SPAN_CHECKS
    from router.classify.checks import CHECKS

    check = CHECKS[SPAN_CHECKS[kind]]
    for span in span_cases(random.Random(kind)):
        want = check(span, 0, len(span), KERNELS)
        assert native.count_valid(kind, [span], 1) == want, repr(span)
    assert native.count_valid(kind, ["x", "4111111111111111"] * 3, 2) <= 2


def test_span_tables_match_the_validators() -> None:
    from router.classify.checks import check_card, check_iban

    for country, length in validators.IBAN_LENGTHS.items():
        body = country + "00" + "0" * (length - 4)
        for digits in range(100):
            iban = body[:2] + f"{digits:02d}" + body[4:]
            assert native.count_valid(1, [iban], 1) == check_iban(
                iban,
                0,
                len(iban),
                validators,  # type: ignore[arg-type]
            )
    heads = {0, 9999}
    for lo, hi, _ in validators._CARD_RANGES:
        scale = 10 ** (4 - len(str(lo)))
        for edge in (lo * scale, (hi + 1) * scale - 1):
            heads.update({edge - 1, edge, edge + 1})
    for head in sorted(h for h in heads if 0 <= h <= 9999):
        for length in range(12, 20):
            digits = f"{head:04d}" + "0" * (length - 4)
            digits = digits[:-1] + str(
                next(d for d in range(10) if validators.luhn_ok(digits[:-1] + str(d)))
                if length >= 13
                else 0
            )
            assert native.count_valid(0, [digits], 1) == check_card(
                digits,
                0,
                len(digits),
                validators,  # type: ignore[arg-type]
            ), digits


@settings(max_examples=800, deadline=None, derandomize=True)
@given(
    st.text(alphabet="eyJhbGciOiJIUzI1NiJ9.-_xX0 \n", max_size=60), st.integers(0, 5)
)
def test_jwt_any_text(text: str, start: int) -> None:
    from router.classify.checks import check_jwt

    start = min(start, len(text))
    want = check_jwt(text, start, start, validators)  # type: ignore[arg-type]
    assert native.check_jwt(text, start) == want


def test_jwt_real_headers() -> None:
    import base64

    for header in (b'{"alg":"HS256"}', b' {"typ":"JWT"} ', b'{"x":1}', b"[]", b"{"):
        segment = base64.urlsafe_b64encode(header).decode().rstrip("=")
        text = f"{segment}.eyJzdWIiOiIxIn0.sig"
        from router.classify.checks import check_jwt

        want = check_jwt(text, 0, 0, validators)  # type: ignore[arg-type]
        assert native.check_jwt(text, 0) == want


CARD_GROUPS_RX = re.compile(BY_NAME["card_grouped"].regex, RE_FLAGS)
CARD_PIECES = [
    "4111",
    "1111",
    "123",
    "12345",
    "123456",
    "1234567",
    "9",
    " ",
    "-",
    "a",
    "_",
    "é",
]


def test_card_groups_bad_arguments() -> None:
    class Falsy:
        def __bool__(self) -> bool:
            raise ValueError("no truth")

    with pytest.raises(TypeError):
        native.count_card_groups("1234", "x", Falsy())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no truth"):
        native.count_card_groups("1234", 1, Falsy())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.count_card_groups(b"1234", 1, True)  # type: ignore[arg-type]


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(CARD_PIECES), max_size=30))
def test_card_groups_are_re_spans(pieces: list[str]) -> None:
    """The C twin of card_grouped's finditer: as many spans as `re` finds,
    every prefix of the text too, and as many that pass the card check."""
    text = "".join(pieces)
    for end in range(0, len(text) + 1, 3):
        head = text[:end]
        spans = CARD_GROUPS_RX.findall(head)
        assert native.count_card_groups(head, 10**9, False) == len(spans), head
        valid = native.count_valid(0, spans, 10**9)
        assert native.count_card_groups(head, 10**9, True) == valid, head
        assert native.count_card_groups(head, 1, True) == min(valid, 1), head


def line_shapes() -> dict[str, int]:
    """The `shape` of each pattern counted by lines (`Pattern.counting`)."""
    shapes = {p.name: p.shape for p in BANK if p.counting == "lines"}
    assert set(shapes) == set(SHAPE_ALPHABETS)
    assert sorted(shapes.values()) == list(range(len(shapes)))
    return shapes


# Per line shape, an alphabet its matches and near misses are made of.
SHAPE_ALPHABETS = {
    "code_fence": " \t\n`~x中",
    "numbered_item": " \t\n0123.)x中",
    "semicolon_line_end": " \t\n;)]'\"x\r中",
}


@pytest.mark.parametrize("name", sorted(SHAPE_ALPHABETS))
def test_line_shapes_are_re_counts(name: str) -> None:
    """count_lines is len(findall) of the pattern, capped at the limit."""
    rx = re.compile(BY_NAME[name].regex, RE_FLAGS)
    shape = line_shapes()[name]

    @settings(max_examples=2000, deadline=None, derandomize=True)
    @given(st.text(alphabet=SHAPE_ALPHABETS[name], max_size=80))
    def check(text: str) -> None:
        want = len(rx.findall(text))
        assert native.count_lines(text, shape, 10**9) == want, text
        for limit in (0, 1, 2):
            assert native.count_lines(text, shape, limit) == min(want, limit), text

    check()


def test_line_shape_edges() -> None:
    cases = {
        "numbered_item": [
            "1. a",
            "    12) b",
            "     1. c",
            "123. d",
            "1.",
            "\n1.\t",
            "1.\n",
        ],
        "semicolon_line_end": [
            "f();",
            "f()  ;  ",
            "f()   ;",
            "f(); \t ",
            "';\n",
            ";",
            "x;",
        ],
        "code_fence": ["```", "   ~~~", "    ```", "``", "\n```"],
    }
    for name, texts in cases.items():
        rx = re.compile(BY_NAME[name].regex, RE_FLAGS)
        for text in texts:
            for wide in (text, text + "中"):
                want = len(rx.findall(wide))
                assert native.count_lines(wide, line_shapes()[name], 9) == want, wide


def test_count_lines_bad_arguments() -> None:
    with pytest.raises(TypeError):
        native.count_lines(b"1. a", 1, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        native.count_lines("1. a", len(SHAPE_ALPHABETS), 3)
    with pytest.raises(ValueError, match="shape"):
        native.count_lines("1. a", -1, 3)
    with pytest.raises(TypeError):
        native.count_lines("1. a", 1, "3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        native.count_lines("1. a", 1, -1)


# ------------------------------------------------------ scan buffer and hits


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.text())
def test_utf8_buffer(text: str) -> None:
    want = text.encode("utf-8", "surrogatepass")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        want = "".join(
            "\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text
        ).encode()
    buffer = native.Utf8(text)
    assert bytes(memoryview(buffer)) == want  # type: ignore[arg-type]
    assert len(buffer) == len(want)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(min_size=1), st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400))))
def test_hits_collect(text: str, reports: list[tuple[int, int]]) -> None:
    data = native.Utf8(text)
    size = len(bytes(memoryview(data)))  # type: ignore[arg-type]
    starts = [len(text[:i].encode("utf-8", "replace")) for i in range(len(text) + 1)]
    reports = [(i, starts[min(e, len(text))]) for i, e in reports if e <= size]
    hits = native.Hits(len(reports))
    for pid, end in reports:
        assert hits(pid, 0, end, 0, None) is None
    want: dict[int, list[int]] = {}
    for pid, end in sorted(set(reports), key=lambda r: (r[1], r[0])):
        want.setdefault(pid, []).append(starts.index(end))
    assert hits.collect(text) == want
    tally: dict[int, int] = {}
    for pid, _ in reports:
        tally[pid] = tally.get(pid, 0) + 1
    assert hits(0, 0, 0, 0, None) is True  # past the cap: halt
    assert hits.collect(text) is None
    assert hits.tally() == tally


def test_hits_and_buffers_reject_bad_input() -> None:
    with pytest.raises(TypeError):
        native.Utf8(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.Hits(4)(1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        native.Hits(4)(1, 0, -3, 0, None)
    with pytest.raises(OverflowError):
        native.Hits(4)(-1, 0, 3, 0, None)
    with pytest.raises(TypeError):
        native.count_valid(0, ["4111"], "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        native.count_valid(7 + len(ids.ID_CHECKS), [], 1)
    with pytest.raises(ValueError):
        native.check_jwt("eyJ", 9)
    with pytest.raises(AttributeError):  # as the reference's gather raises
        native.gather(object(), True)
    with pytest.raises(TypeError):
        native.gather(object())  # type: ignore[call-arg]


# ------------------------------------------------------------ near clusters


def near_reference(
    ends: list[int], firsts: list[int], near: list[int], c: int, lead: int
) -> int:
    for k in range(c, len(firsts)):
        last = ends[firsts[k + 1] - 1] if k + 1 < len(firsts) else ends[-1]
        if any(ends[firsts[k]] - lead <= v <= last for v in near):
            return k
    return len(firsts)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=40, unique=True),
    st.lists(st.integers(0, 300), max_size=20, unique=True),
    st.integers(0, 60),
    st.data(),
)
def test_next_near_is_the_cluster_walk(
    ends: list[int], near: list[int], lead: int, data: st.DataObject
) -> None:
    ends.sort()
    near.sort()
    cuts = data.draw(
        st.sets(st.integers(1, len(ends) - 1)) if len(ends) > 1 else st.just(set())
    )
    firsts = [0, *sorted(cuts)]
    for c in range(len(firsts) + 1):
        want = near_reference(ends, firsts, near, c, lead)
        assert native.next_near(ends, firsts, near, c, lead) == want


def test_next_near_bad_arguments() -> None:
    with pytest.raises(TypeError):
        native.next_near((1, 2), [0], [1], 0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="index"):
        native.next_near([1, 2], [0, 5], [1], 0, 3)
    with pytest.raises(ValueError, match="negative"):
        native.next_near([1, 2], [0], [1], -1, 3)
    with pytest.raises(TypeError):
        native.next_near([1, "x"], [0], [1], 0, 3)  # type: ignore[list-item]
    assert native.next_near([], [], [1], 0, 3) == 0
    with pytest.raises(ValueError, match="negative"):
        native.next_near([-(2**62), 2**62], [0], [0], 0, 2**62)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 400), max_size=40), st.integers(0, 60))
def test_cluster_firsts_split_at_wide_gaps(ends: list[int], width: int) -> None:
    ends.sort()
    want = [k for k in range(len(ends)) if k == 0 or ends[k] - ends[k - 1] > width]
    assert native.cluster_firsts(ends, width) == want


def test_cluster_firsts_bad_arguments() -> None:
    with pytest.raises(TypeError):
        native.cluster_firsts((1, 2), 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        native.cluster_firsts([1, "x"], 3)  # type: ignore[list-item]
    with pytest.raises(OverflowError):
        native.cluster_firsts([1, 2**70], 3)
    with pytest.raises(ValueError, match="negative"):
        native.cluster_firsts([-(2**62), 2**62], 0)
