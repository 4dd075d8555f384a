"""The compiled parts of the sketch against their plain definitions: SHA-1, shingle numbering."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pyarrow as pa
import pytest

from dataprep.near_dedup.minhash import token_digests
from dataprep.near_dedup.sha1 import digest_prefixes
from dataprep.near_dedup.shingles import shingle_set, tokens
from dataprep.near_dedup.sketch import SketchSpec, sketch_batch
from dataprep.near_dedup.vocabulary import number_shingles


def hashlib_prefix(data: bytes) -> int:
    return int.from_bytes(hashlib.sha1(data).digest()[:8], "little", signed=True)


def test_sha1_prefixes_equal_hashlib_across_block_boundaries() -> None:
    draw = random.Random(7)
    # Padding takes 9 bytes: lengths 55/56 and 119/120 end up in one or two more blocks.
    lengths = [*range(130), 183, 184, 1_000, 70_000]
    strings = [bytes(draw.randrange(256) for _ in range(n)) for n in lengths]
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in strings], out=offsets[1:])
    got = digest_prefixes(np.frombuffer(b"".join(strings), dtype=np.uint8), offsets)
    assert got.tolist() == [hashlib_prefix(s) for s in strings]
    assert token_digests([b"def", b"x"]).tolist() == [hashlib_prefix(b"def"), hashlib_prefix(b"x")]


def numbered(texts: list[str | None], ngram: int, min_tokens: int) -> tuple:
    binary = pa.array(texts, pa.large_string()).cast(pa.large_binary())
    _, offsets, data = binary.buffers()
    found = number_shingles(
        np.frombuffer(data, dtype=np.uint8),
        np.frombuffer(offsets, dtype=np.int64),
        binary.is_valid().to_numpy(zero_copy_only=False),
        ngram,
        min_tokens,
    )
    shingle_bytes = [
        bytes(found.text[found.text_offsets[s] : found.text_offsets[s + 1]])
        for s in range(len(found.text_offsets) - 1)
    ]
    return found, shingle_bytes


@pytest.mark.parametrize("ngram", [1, 2, 5])
def test_numbered_shingles_are_each_files_shingle_set(ngram: int, real_files: list[str]) -> None:
    # Short files (fewer words than ngram, even none) and nulls among real ones; 300 real files
    # make the vocabulary outgrow its first table and arenas several times.
    texts = [*real_files, None, "", "é ½", "a", "a b", "x " * 12, "naïve café 変数 = x²"]
    found, shingle_bytes = numbered(texts, ngram, min_tokens=1)
    assert len(set(shingle_bytes)) == len(shingle_bytes)  # one number per distinct shingle
    eligible = 0
    for i, text in enumerate(texts):
        words = tokens(text) if text is not None else []
        assert found.n_tokens[i] == len(words)
        assert found.eligible[i] == bool(words)
        if words:
            run = found.ids[found.starts[eligible] : found.starts[eligible + 1]]
            got = [shingle_bytes[s] for s in run]
            assert len(got) == len(set(got))
            assert set(got) == shingle_set(words, ngram)
            eligible += 1
    assert len(found.starts) == eligible + 1


def test_files_below_min_tokens_hold_no_shingles(real_files: list[str]) -> None:
    texts = ["a b c", real_files[0], "d e f g", real_files[1]]
    found, shingle_bytes = numbered(texts, 1, min_tokens=10)
    assert found.eligible.tolist() == [False, True, False, True]
    assert found.n_tokens.tolist() == [len(tokens(t)) for t in texts]
    ids = found.ids[found.starts[0] : found.starts[1]]
    assert {shingle_bytes[s] for s in ids} == set(tokens(real_files[0]))


@pytest.mark.parametrize("ngram", [2, 3])
def test_ngram_sketches_hash_the_joined_ngrams(ngram: int, real_files: list[str]) -> None:
    texts = real_files[:30]
    batch = sketch_batch(pa.array(texts), SketchSpec(ngram=ngram))
    for text, shingles in zip(texts, batch.field("shingles").to_pylist(), strict=True):
        expected = sorted(hashlib_prefix(s) for s in shingle_set(tokens(text), ngram))
        assert shingles == expected


def test_sketch_of_a_slice_equals_sketch_of_its_copy(real_files: list[str]) -> None:
    texts = [None, *real_files[:20], "x y"]
    whole = pa.array(texts, pa.string())
    spec = SketchSpec(num_perm=64, bands=8, rows=8)
    part = sketch_batch(whole.slice(5, 10), spec)
    assert part.equals(sketch_batch(pa.array(texts[5:15], pa.string()), spec))
