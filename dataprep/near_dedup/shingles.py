"""What near-dedup compares: CodeParrot's token sets, or word n-grams of those tokens."""

from __future__ import annotations

import string

import numpy as np
import pyarrow as pa

# CodeParrot split the content at every character outside [A-Za-z_0-9] and dropped the empty
# pieces: the pieces left are exactly the maximal runs of those characters. All of them are
# ASCII, and UTF-8 writes every other character with bytes >= 0x80, so mapping every other
# byte to a space and splitting at spaces gives the same runs, 3x faster than a regex.
WORD_BYTES = frozenset((string.ascii_letters + string.digits + "_").encode("ascii"))
_SEPARATE = bytes(byte if byte in WORD_BYTES else 0x20 for byte in range(256))

# CodeParrot's floor: files with fewer tokens (repeats counted) are not near-deduplicated.
MIN_TOKENS = 10


def tokens(content: str | bytes) -> list[bytes]:
    """The tokens of `re.split(r"[^A-Za-z_0-9]", content)`, empty ones dropped, in order, as
    the ASCII bytes MinHash hashes; `content` is text or its UTF-8 bytes."""
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    return content.translate(_SEPARATE).split()


def shingle_set(words: list[bytes], ngram: int = 1) -> set[bytes]:
    """The set of word n-grams of `words` (joined by one space); the words themselves for 1.

    A file with fewer than `ngram` words has one shingle: all its words.
    """
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, not {ngram}")
    if ngram == 1:
        return set(words)
    if len(words) <= ngram:
        return {b" ".join(words)} if words else set()
    return {b" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}


def jaccard(a: set, b: set) -> float:
    """Size of the intersection over size of the union; 1.0 for two empty sets."""
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def sorted_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """jaccard of two sets given as sorted arrays of distinct values, by binary search."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return 1.0 if not len(b) else 0.0
    # Each value of the smaller set is looked up in the larger one.
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    common = int(np.count_nonzero(b[at] == a))
    return common / (len(a) + len(b) - common)


def pair_jaccards(left: pa.ListArray, right: pa.ListArray) -> np.ndarray:
    """sorted_jaccard of each row's two sets, from two list columns of sorted distinct values."""
    left_values, left_offsets = left.values.to_numpy(), left.offsets.to_numpy()
    right_values, right_offsets = right.values.to_numpy(), right.offsets.to_numpy()
    return np.array(
        [
            sorted_jaccard(
                left_values[left_offsets[i] : left_offsets[i + 1]],
                right_values[right_offsets[i] : right_offsets[i + 1]],
            )
            for i in range(len(left))
        ],
        dtype=np.float64,
    )
