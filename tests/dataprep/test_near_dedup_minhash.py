"""Signatures bit-identical to datasketch, tokens as CodeParrot split them, banding choices."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from dataprep.near_dedup.lsh import (
    band_hashes,
    collision_probability,
    high_recall_bands,
    optimal_bands,
)
from dataprep.near_dedup.minhash import signature, token_digests
from dataprep.near_dedup.shingles import shingle_set, tokens
from dataprep.near_dedup.sketch import SketchSpec, sketch_batch


def codeparrot_tokens(content: str) -> list[bytes]:
    return [t.encode() for t in re.split(r"[^A-Za-z_0-9]", content) if len(t.strip()) > 0]


@pytest.mark.parametrize(
    "content",
    ["", "a", "x=1", "def f(x):\n\treturn x_1 + 2", "naïve café 変数 = ½ + x²", "__init__\r\nß"],
)
def test_tokens_match_codeparrot_split(content: str) -> None:
    assert tokens(content) == codeparrot_tokens(content)


def test_tokens_match_codeparrot_split_on_real_files(real_files: list[str]) -> None:
    for text in real_files:
        assert tokens(text) == codeparrot_tokens(text)
        assert tokens(text.encode()) == tokens(text)  # the UTF-8 bytes split alike


def test_signatures_equal_datasketch_on_real_files(real_files: list[str]) -> None:
    texts = real_files
    batch = sketch_batch(pa.array(texts), SketchSpec(num_perm=128, bands=16, rows=8))
    for text in texts:
        token_set = set(tokens(text))
        reference = MinHash(num_perm=128, seed=1)
        reference.update_batch(list(token_set))
        assert np.array_equal(signature(token_set, num_perm=128), reference.hashvalues)
    assert batch.field("bands").null_count == 0


@pytest.mark.parametrize("seed", [1, 42])
def test_signature_follows_seed_and_empty_set(seed: int, real_files: list[str]) -> None:
    words = set(tokens(real_files[0]))
    reference = MinHash(num_perm=64, seed=seed)
    reference.update_batch(list(words))
    assert np.array_equal(signature(words, num_perm=64, seed=seed), reference.hashvalues)
    assert np.array_equal(signature(set(), num_perm=64, seed=seed), MinHash(64, seed).hashvalues)


def test_batch_sketches_equal_single_file_ones(real_files: list[str]) -> None:
    texts = real_files[:40]
    spec = SketchSpec(num_perm=256, bands=25, rows=10)
    batch = sketch_batch(pa.array(texts), spec)
    bands_of, shingles_of = batch.field("bands").to_pylist(), batch.field("shingles").to_pylist()
    for text, bands, shingles in zip(texts, bands_of, shingles_of, strict=True):
        words = set(tokens(text))
        assert bands == band_hashes(signature(words)[None, :], 25, 10)[0].tolist()
        assert shingles == sorted(token_digests(words).view(np.int64).tolist())
    # Spark may hand over large strings: the same sketches.
    assert sketch_batch(pa.array(texts, pa.large_string()), spec).equals(batch)


def test_sketch_skips_short_and_null_files_and_sorts_shingles() -> None:
    texts = [None, "a b c", " ".join(f"w{i}" for i in range(10)), "x " * 12]
    batch = sketch_batch(pa.array(texts, pa.string()), SketchSpec(min_tokens=10))
    assert batch.field("n_tokens").to_pylist() == [None, 3, 10, 12]
    assert batch.field("bands").is_null().to_pylist() == [True, True, False, False]
    shingles = batch.field("shingles").to_pylist()
    assert len(shingles[2]) == 10 and shingles[2] == sorted(shingles[2])
    assert len(shingles[3]) == 1  # "x" twelve times is one distinct token


@pytest.mark.parametrize("texts", [[], [None], ["a b"], [None, "x y z"]])
def test_sketch_of_a_batch_without_a_file_to_compare(texts: list[str | None]) -> None:
    batch = sketch_batch(pa.array(texts, pa.string()), SketchSpec())
    assert len(batch) == len(texts)
    assert batch.field("bands").null_count == batch.field("shingles").null_count == len(texts)


def test_word_ngrams() -> None:
    words = [b"a", b"b", b"c", b"a", b"b"]
    assert shingle_set(words, 1) == {b"a", b"b", b"c"}
    assert shingle_set(words, 2) == {b"a b", b"b c", b"c a"}
    assert shingle_set(words[:2], 3) == {b"a b"}
    with pytest.raises(ValueError):
        shingle_set(words, 0)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.9])
@pytest.mark.parametrize("num_perm", [64, 256])
def test_optimal_bands_are_datasketchs(threshold: float, num_perm: int) -> None:
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_high_recall_bands() -> None:
    bands, rows = high_recall_bands(0.85, 256)
    assert (bands, rows) == (25, 10)
    assert collision_probability(0.85, bands, rows) >= 0.995
    # One row longer would miss more than 0.5% of the pairs at the threshold.
    assert collision_probability(0.85, 256 // (rows + 1), rows + 1) < 0.995
    assert collision_probability(0.85, 13, 19) == pytest.approx(0.455, abs=0.01)


def test_band_hashes_separate_bands() -> None:
    sigs = np.array([[1, 2, 3, 4], [1, 2, 3, 5], [9, 2, 3, 4]], dtype=np.uint32)
    hashes = band_hashes(sigs, 2, 2)
    assert hashes[0, 0] == hashes[1, 0] != hashes[2, 0]
    assert hashes[0, 1] == hashes[2, 1] != hashes[1, 1]
    with pytest.raises(ValueError):
        band_hashes(sigs, 3, 2)
