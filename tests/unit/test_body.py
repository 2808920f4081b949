"""Body: the client's bytes forwarded with only `model` replaced."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from router.backends.base import Body

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10), JSON, max_size=6), st.text())
def test_with_model_changes_model_only(body: dict[str, object], model: str) -> None:
    raw = orjson.dumps(body)
    out = orjson.loads(Body(raw).with_model(model))
    assert out == {**body, "model": model}
    assert list(out)[: len(body)] == list(body)  # key order kept


def test_values_are_copied_as_sent() -> None:
    raw = b'{"model": "auto", "temperature": 1.0e0, "x": "\\u00e9\\n"}'
    out = Body(raw).with_model("gpt-4o")
    assert out == b'{"model":"gpt-4o","temperature":1.0e0,"x":"\\u00e9\\n"}'
    assert Body(raw).parsed["x"] == "é\n"
