"""Per-file sketches for a batch of files: token count, LSH band hashes, hashed shingle set."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import chain, count

import numpy as np
import pyarrow as pa

from dataprep.near_dedup.lsh import band_hashes
from dataprep.near_dedup.minhash import mixed_hashes, permutations, signatures, token_digests
from dataprep.near_dedup.shingles import MIN_TOKENS, shingle_set, tokens

SKETCH_FIELDS: list[tuple[str, pa.DataType]] = [
    ("n_tokens", pa.int32()),
    ("bands", pa.list_(pa.int64())),
    ("shingles", pa.list_(pa.int64())),
]


@dataclass(frozen=True)
class SketchSpec:
    """How a file is sketched: shingles, MinHash permutations and LSH banding."""

    num_perm: int = 256
    seed: int = 1
    ngram: int = 1
    min_tokens: int = MIN_TOKENS
    bands: int = 25
    rows: int = 10


def sketch_batch(contents: pa.Array, spec: SketchSpec) -> pa.StructArray:
    """SKETCH_FIELDS for each file of a string array.

    `n_tokens` counts tokens with repeats (null for null content); `bands` and `shingles`
    (the sorted distinct 64-bit shingle digests) are null for files below `min_tokens`,
    which near-dedup leaves alone.
    """
    # The UTF-8 bytes as they are: tokens are ASCII runs of them, no text decoding needed.
    utf8 = pa.large_binary() if pa.types.is_large_string(contents.type) else pa.binary()
    texts = contents.cast(utf8).to_pylist()
    counts: list[int | None] = []
    sets: list[set[bytes]] = []
    eligible = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        if text is None:
            counts.append(None)
            continue
        words = tokens(text)
        counts.append(len(words))
        # A file without tokens resembles nothing, whatever --min-tokens says (two empty
        # sets would count as identical).
        if len(words) < max(spec.min_tokens, 1):
            continue
        eligible[i] = True
        sets.append(shingle_set(words, spec.ngram))
    # Every distinct shingle of the batch numbered once, in order of first appearance: a
    # missing key takes the next number, so the lookups run in C, not a Python loop per token.
    vocabulary: defaultdict[bytes, int] = defaultdict(count().__next__)
    starts = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(shingles) for shingles in sets], out=starts[1:])
    ids = np.fromiter(
        map(vocabulary.__getitem__, chain.from_iterable(sets)), np.int64, count=int(starts[-1])
    )
    digests = token_digests(vocabulary)  # dicts keep insertion order: index i is token i
    sigs = signatures(ids, starts, mixed_hashes(digests), permutations(spec.num_perm, spec.seed))
    band_values = band_hashes(sigs, spec.bands, spec.rows).ravel()
    # Each file's shingle digests, sorted in place, so two sets intersect in one merge: a
    # sort per file runs ~20x faster than one lexsort of (file, digest) over the batch.
    shingle_values = digests.view(np.int64)[ids]
    for first, last in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        shingle_values[first:last].sort()

    missing = ~eligible
    band_offsets = _scatter_offsets(eligible, np.full(int(eligible.sum()), spec.bands))
    shingle_offsets = _scatter_offsets(eligible, np.diff(starts))
    return pa.StructArray.from_arrays(
        [
            pa.array(counts, pa.int32()),
            pa.ListArray.from_arrays(band_offsets, pa.array(band_values), mask=pa.array(missing)),
            pa.ListArray.from_arrays(
                shingle_offsets, pa.array(shingle_values), mask=pa.array(missing)
            ),
        ],
        fields=[pa.field(name, kind) for name, kind in SKETCH_FIELDS],
    )


def _scatter_offsets(present: np.ndarray, lengths: np.ndarray) -> pa.Array:
    # List offsets for all rows: rows not present get an empty (and masked) slot.
    per_row = np.zeros(len(present), dtype=np.int32)
    per_row[present] = lengths
    return pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
