"""MinHash signatures bit-identical to datasketch's default (`MinHash(num_perm, seed)`, 2.x).

datasketch 2.x hashes each token with the first 4 bytes of its SHA-1 (little-endian), mixes
that with MurmurHash3's 32-bit finalizer, and takes per permutation the minimum of
`a * h + b mod 2**32`, with odd `a` and any `b` drawn from `numpy.random.RandomState(seed)`.
Here the same arithmetic runs in compiled code over a whole batch of files: each distinct
token of the batch is hashed once, and each file's minimum runs over all permutations at once
(a loop the compiler vectorizes, 8 permutations per instruction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numba import njit

from dataprep.near_dedup.sha1 import digest_prefixes


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 parameters datasketch draws for `num_perm` permutations and `seed`."""
    draws = np.random.RandomState(seed)
    a = draws.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = draws.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def token_digests(tokens: Iterable[bytes]) -> np.ndarray:
    """The first 8 bytes of each token's SHA-1, little-endian, as int64.

    The low 32 bits are datasketch's token hash; all 64 serve as the token's identity when
    exact Jaccard is computed on hashed sets (a collision among 2**64 is negligible).
    """
    tokens = list(tokens)
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum([len(token) for token in tokens], out=offsets[1:])
    return digest_prefixes(np.frombuffer(b"".join(tokens), dtype=np.uint8), offsets)


@njit(cache=True)
def _signatures(ids, starts, digests, a, b):
    out = np.empty((len(starts) - 1, len(a)), dtype=np.uint32)
    mixed = np.empty(len(digests), dtype=np.uint32)
    for token in range(len(digests)):
        # MurmurHash3's fmix32 of the digest's low 32 bits.
        x = np.uint32(digests[token] & 0xFFFFFFFF)
        x ^= x >> np.uint32(16)
        x = np.uint32(x * np.uint32(0x85EBCA6B))
        x ^= x >> np.uint32(13)
        x = np.uint32(x * np.uint32(0xC2B2AE35))
        x ^= x >> np.uint32(16)
        mixed[token] = x
    for file in range(len(starts) - 1):
        row = out[file]
        row[:] = np.uint32(0xFFFFFFFF)
        for at in range(starts[file], starts[file + 1]):
            h = mixed[ids[at]]
            for p in range(len(a)):
                row[p] = min(row[p], np.uint32(a[p] * h + b[p]))
    return out


def signatures(
    ids: np.ndarray,
    starts: np.ndarray,
    digests: np.ndarray,
    perms: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """MinHash signatures (files x num_perm, uint32) of files given as runs of token numbers.

    File i holds the distinct tokens `ids[starts[i]:starts[i + 1]]`, indices into `digests`
    (see token_digests). A file without tokens gets the all-max signature, as an empty
    datasketch MinHash has.
    """
    a, b = perms
    return _signatures(ids, starts, digests, a, b)


def signature(
    tokens: Sequence[bytes] | set[bytes], num_perm: int = 256, seed: int = 1
) -> np.ndarray:
    """The MinHash signature (uint32) of one token set: datasketch's `hashvalues`."""
    distinct = sorted(set(tokens))
    starts = np.array([0, len(distinct)], dtype=np.int64)
    ids = np.arange(len(distinct), dtype=np.int32)
    return signatures(ids, starts, token_digests(distinct), permutations(num_perm, seed))[0]
