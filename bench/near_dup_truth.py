"""Ground truth for near-dedup: every pair of files whose token sets have Jaccard >= threshold.

    .venv/bin/python bench/near_dup_truth.py --corpus work/bench/near_dup/corpus.parquet

An exact all-pairs similarity join (AllPairs: Bayardo et al., WWW 2007). Tokens are ranked by
global frequency, rarest first, and each set is sorted by rank. Two sets with Jaccard >= t
share at least a = ceil(t / (1 + t) * (|x| + |y|)) tokens, so the first |x| - a + 1 tokens of
x and the first |y| - a + 1 tokens of y have one in common. Processing the sets by increasing
size, with |x| <= |y| and |x| >= t * |y| (else Jaccard < t), a >= t * |y| for the probing
set y and a >= 2t / (1 + t) * |x| for the indexed set x: the join indexes x's first
|x| - ceil(2t / (1 + t) * |x|) + 1 tokens, probes with y's first |y| - ceil(t * |y|) + 1,
and verifies each candidate exactly. No pair with Jaccard >= t is missed; the filters run at
t minus a tiny slack so that float rounding (0.56 * 25 comes out as 14.000000000000002, whose
ceiling is 15) never shortens a prefix, while the verification compares the very float that
`jaccard` returns.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter, defaultdict
from itertools import chain
from operator import itemgetter
from pathlib import Path

from near_dup_corpus import exact_dedup_rows, load_corpus

from dataprep.near_dedup.shingles import MIN_TOKENS, jaccard, shingle_set, tokens

# Far below any difference between two distinct Jaccard values of real sets, far above the
# rounding error of a product of floats.
_SLACK = 1e-9


def similar_pairs(sets: list[set], threshold: float) -> set[tuple[int, int]]:
    """All (i, j), i < j, of non-empty sets with jaccard(sets[i], sets[j]) >= threshold.

    The elements must all be of one type that sorts, such as the bytes tokens of `tokens`.
    """
    _check_threshold(threshold)
    frequency = Counter(chain.from_iterable(sets))
    # Rarest first; ties in token order, so that the ranking does not depend on set order.
    ordered = sorted(frequency.items(), key=itemgetter(1, 0))
    rank = {token: r for r, (token, _) in enumerate(ordered)}
    loose = threshold - _SLACK
    index_share = 2 * loose / (1 + loose)
    sizes = [len(s) for s in sets]
    # token rank -> indexed sets holding it in their index prefix, by increasing size; starts
    # skips the sets too small for the current set, hence for every later (larger) one.
    postings: defaultdict[int, list[int]] = defaultdict(list)
    starts: defaultdict[int, int] = defaultdict(int)
    pairs: set[tuple[int, int]] = set()
    for j in sorted((i for i, s in enumerate(sets) if s), key=lambda i: (sizes[i], i)):
        y, n = sets[j], sizes[j]
        ranks = sorted(map(rank.__getitem__, y))
        min_size = loose * n
        candidates: set[int] = set()
        for r in ranks[: n - math.ceil(loose * n) + 1]:
            listed = postings.get(r)
            if not listed:
                continue
            start = starts[r]
            while start < len(listed) and sizes[listed[start]] < min_size:
                start += 1
            starts[r] = start
            candidates.update(listed[start:])
        pairs.update(
            (i, j) if i < j else (j, i) for i in candidates if jaccard(sets[i], y) >= threshold
        )
        for r in ranks[: n - math.ceil(index_share * n) + 1]:
            postings[r].append(j)
    return pairs


def brute_force_pairs(sets: list[set], threshold: float) -> set[tuple[int, int]]:
    """The same pairs as similar_pairs, by comparing every two non-empty sets."""
    _check_threshold(threshold)
    live = [i for i, s in enumerate(sets) if s]
    return {
        (i, j)
        for a, i in enumerate(live)
        for j in live[a + 1 :]
        if jaccard(sets[i], sets[j]) >= threshold
    }


def _check_threshold(threshold: float) -> None:
    # At 0 every two sets match, sharing a token or not: prefixes cannot find those pairs.
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")


def token_sets(rows: list[dict], ngram: int = 1) -> tuple[list[int], list[set[bytes]]]:
    """Positions and shingle sets of the rows with at least MIN_TOKENS tokens."""
    positions, sets = [], []
    for position, row in enumerate(rows):
        words = tokens(row["content"])
        if len(words) >= MIN_TOKENS:
            positions.append(position)
            sets.append(shingle_set(words, ngram))
    return positions, sets


def main(corpus: Path, threshold: float, ngram: int) -> None:
    """Print the number of near-duplicate pairs of the exact-deduplicated corpus, and timings."""
    start = time.perf_counter()
    rows = exact_dedup_rows(load_corpus(corpus))
    positions, sets = token_sets(rows, ngram)
    prepared = time.perf_counter()
    pairs = similar_pairs(sets, threshold)
    joined = time.perf_counter()
    in_pairs = len({i for pair in pairs for i in pair})
    print(
        f"{len(rows):,} files after exact dedup, {len(positions):,} with >= {MIN_TOKENS} tokens; "
        f"{len(pairs):,} pairs with Jaccard >= {threshold} ({ngram}-gram shingles), "
        f"{in_pairs:,} files in a pair\n"
        f"load + dedup + shingles {prepared - start:.1f} s, join {joined - prepared:.1f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="corpus Parquet file")
    parser.add_argument("--threshold", type=float, default=0.85, help="Jaccard threshold")
    parser.add_argument("--ngram", type=int, default=1, help="shingle length in tokens")
    args = parser.parse_args()
    main(args.corpus, args.threshold, args.ngram)
