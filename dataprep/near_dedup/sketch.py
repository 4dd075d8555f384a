"""Per-file sketches for a batch of files: token count, LSH band hashes, hashed shingle set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numba import njit

from dataprep.near_dedup.lsh import band_hashes
from dataprep.near_dedup.minhash import permutations, signatures
from dataprep.near_dedup.sha1 import digest_prefixes
from dataprep.near_dedup.shingles import MIN_TOKENS
from dataprep.near_dedup.vocabulary import number_shingles

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
    binary = contents.cast(pa.large_binary())
    valid = binary.is_valid().to_numpy(zero_copy_only=False)
    found = number_shingles(*_bytes_and_offsets(binary), valid, spec.ngram, spec.min_tokens)
    digests = digest_prefixes(found.text, found.text_offsets)
    perms = permutations(spec.num_perm, spec.seed)
    sigs = signatures(found.ids, found.starts, digests, perms)
    band_values = band_hashes(sigs, spec.bands, spec.rows).ravel()

    missing = ~found.eligible
    band_offsets = _scatter_offsets(found.eligible, np.full(len(sigs), spec.bands))
    shingle_offsets = _scatter_offsets(found.eligible, np.diff(found.starts))
    return pa.StructArray.from_arrays(
        [
            pa.array(found.n_tokens, pa.int32(), mask=~valid),
            pa.ListArray.from_arrays(band_offsets, pa.array(band_values), mask=pa.array(missing)),
            pa.ListArray.from_arrays(
                shingle_offsets,
                pa.array(_sorted_runs(digests, found.ids, found.starts)),
                mask=pa.array(missing),
            ),
        ],
        fields=[pa.field(name, kind) for name, kind in SKETCH_FIELDS],
    )


def _bytes_and_offsets(binary: pa.LargeBinaryArray) -> tuple[np.ndarray, np.ndarray]:
    # Zero-copy views of a large_binary array's data and (sliced) offsets buffers.
    _, offsets, data = binary.buffers()
    if offsets is None:  # an empty array may come without buffers
        return np.empty(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    first = binary.offset
    offsets = np.frombuffer(offsets, dtype=np.int64)[first : first + len(binary) + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    return data, offsets


@njit(cache=True)
def _sorted_runs(digests, ids, starts):
    # Each file's shingle digests, sorted, so that two sets intersect in one merge.
    out = digests[ids]
    for file in range(len(starts) - 1):
        out[starts[file] : starts[file + 1]].sort()
    return out


def _scatter_offsets(present: np.ndarray, lengths: np.ndarray) -> pa.Array:
    # List offsets for all rows: rows not present get an empty (and masked) slot.
    per_row = np.zeros(len(present), dtype=np.int32)
    per_row[present] = lengths
    return pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
