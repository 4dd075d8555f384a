"""Every string of an Arrow array without its whitespace, in one compiled pass over the bytes.

Whitespace is what Python's str.split() cuts at (str.isspace(), so re's \\s in str patterns):
the ASCII ones and 16 code points above, whose UTF-8 forms are matched byte by byte. Arrow
strings are valid UTF-8, so a whitespace form can only start at the first byte of a character.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

# 1 for the ASCII bytes that stay, 0 for ASCII whitespace (\t to \r, \x1c to \x1f, space).
_ASCII_KEPT = np.array([not chr(byte).isspace() for byte in range(128)], dtype=np.int64)


@njit(cache=True)
def _space_length(data: np.ndarray, at: int, end: int) -> int:
    # The length of the non-ASCII whitespace character at `at`, 0 if it is not one:
    # U+0085, U+00A0 (C2 ..), U+1680 (E1 9A 80), U+2000-U+200A, U+2028, U+2029, U+202F,
    # U+205F (E2 ...), U+3000 (E3 80 80).
    lead = data[at]
    if lead == 0xC2:
        if at + 1 < end and (data[at + 1] == 0x85 or data[at + 1] == 0xA0):
            return 2
        return 0
    if at + 2 >= end or lead < 0xE1 or lead > 0xE3:
        return 0
    second, third = data[at + 1], data[at + 2]
    if lead == 0xE1:
        return 3 if second == 0x9A and third == 0x80 else 0
    if lead == 0xE3:
        return 3 if second == 0x80 and third == 0x80 else 0
    if second == 0x80:
        space = third <= 0x8A or third == 0xA8 or third == 0xA9 or third == 0xAF
        return 3 if third >= 0x80 and space else 0
    return 3 if second == 0x81 and third == 0x9F else 0


@njit(cache=True)
def _strip(data: np.ndarray, offsets: np.ndarray, keep: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Copies each row's bytes but its whitespace to `out`; returns the rows' offsets there.
    out_offsets = np.empty(len(offsets), dtype=np.int64)
    written = 0
    for row in range(len(offsets) - 1):
        out_offsets[row] = written
        at, end = offsets[row], offsets[row + 1]
        while at < end:
            byte = data[at]
            if byte < 0x80:
                # Written always, kept by the count: no branch on whitespace to mispredict.
                out[written] = byte
                written += keep[byte]
                at += 1
                continue
            skip = _space_length(data, at, end)
            if skip:
                at += skip
            else:
                out[written] = byte
                written += 1
                at += 1
    out_offsets[len(offsets) - 1] = written
    return out_offsets


def strip_whitespace(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(data, offsets): row i of `strings` without whitespace is data[offsets[i]:offsets[i+1]],
    in UTF-8 (null rows are the caller's to skip)."""
    if not (pa.types.is_string(strings.type) or pa.types.is_large_string(strings.type)):
        raise TypeError(f"expected an Arrow string array, not {strings.type}")
    _, offsets_buffer, data_buffer = strings.buffers()
    width = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    if offsets_buffer is None:  # an empty array may have no buffers at all
        return np.empty(0, np.uint8), np.zeros(len(strings) + 1, np.int64)
    offsets = np.frombuffer(offsets_buffer, width)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    offsets = offsets.astype(np.int64)
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    )
    out = np.empty(offsets[-1] - offsets[0], dtype=np.uint8)
    return out, _strip(data, offsets, _ASCII_KEPT, out)
