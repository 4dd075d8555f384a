"""The compiled whitespace removal against Python's own idea of whitespace."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataprep.whitespace import strip_whitespace


def _stripped(strings: pa.Array) -> list[bytes]:
    data, offsets = strip_whitespace(strings)
    return [data[offsets[i] : offsets[i + 1]].tobytes() for i in range(len(strings))]


def _python(text: str) -> bytes:
    return "".join(text.split()).encode("utf-8")


def test_every_code_point_is_removed_exactly_when_python_calls_it_whitespace() -> None:
    # Each code point (surrogates cannot be UTF-8) between two letters, 4,096 to a row.
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    rows = ["".join(f"a{p}b" for p in points[i : i + 4096]) for i in range(0, len(points), 4096)]
    for kind in (pa.string(), pa.large_string()):
        assert _stripped(pa.array(rows, kind)) == [_python(row) for row in rows]


# No deadline: the first call may load (on a fresh clone, compile) the numba kernel.
@settings(deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8")), max_size=20), st.integers(0, 5))
def test_any_texts_and_slices(texts: list[str], start: int) -> None:
    strings = pa.array(texts, pa.string())[start:]
    assert _stripped(strings) == [_python(text) for text in texts[start:]]


def test_nulls_empty_arrays_and_other_types() -> None:
    assert _stripped(pa.array(["a b", None, " "], pa.string())) == [b"ab", b"", b""]
    assert _stripped(pa.array([], pa.string())) == []
    with pytest.raises(TypeError, match="string array"):
        strip_whitespace(pa.array([b"a b"], pa.binary()))
