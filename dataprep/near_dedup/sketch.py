"""Per-file sketches for a batch of files: token count, LSH band hashes, hashed shingle set."""

from __future__ import annotations

from dataclasses import dataclass

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
    texts = contents.to_pylist()
    counts: list[int | None] = []
    vocabulary: dict[str, int] = {}
    token_ids: list[int] = []
    offsets = [0]
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
        token_ids.extend(
            vocabulary.setdefault(s, len(vocabulary)) for s in shingle_set(words, spec.ngram)
        )
        offsets.append(len(token_ids))
    digests = token_digests(vocabulary)  # dicts keep insertion order: index i is token i
    ids = np.asarray(token_ids, dtype=np.int64)
    starts = np.asarray(offsets, dtype=np.int64)
    sigs = signatures(ids, starts, mixed_hashes(digests), permutations(spec.num_perm, spec.seed))
    band_values = band_hashes(sigs, spec.bands, spec.rows).ravel()
    # Each file's shingle digests, sorted, so two sets intersect in one merge.
    file_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    shingle_values = digests.view(np.int64)[ids]
    shingle_values = shingle_values[np.lexsort((shingle_values, file_of))]

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
