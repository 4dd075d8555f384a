"""CodeParrot's near-dedup (its `minhash_deduplication.py`), with datasketch, for comparison.

    .venv/bin/python bench/near_dup_reference.py --dump work/bench/raw-64MB --output OUT

Per file the set of tokens (files with fewer than MIN_TOKENS tokens are left alone), a
256-permutation MinHash of it, computed in a process pool. The files then go one by one
through a MinHashLSH index at threshold 0.85 (13 bands of 19 rows): each is looked up, then
inserted; if the lookup found close duplicates, the file joins the cluster of the first of
them that already has a cluster, else starts one at the first of them (a cluster is that base
plus its members; a file can be the base of one and a member of another). Each cluster is then
reduced to its "extremes": in cluster order, a file whose exact token-set Jaccard with an
extreme already chosen reaches the threshold is a copy of it, any other becomes an extreme.
Every clustered file that is an extreme of no cluster is removed.

Where CodeParrot's order was arbitrary, this one is fixed: files are indexed in input order
(CodeParrot took them as its pool finished them) and the close duplicates of a file are taken
in input order (CodeParrot took the order of a Python set), so that runs are repeatable.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from functools import partial
from itertools import chain
from multiprocessing import Pool
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasketch import LeanMinHash, MinHash, MinHashLSH
from near_dup_corpus import MAX_FILE_BYTES, SCHEMA, read_dump
from near_dup_truth import token_sets

from dataprep.features import content_key
from dataprep.near_dedup.shingles import jaccard

THRESHOLD = 0.85
NUM_PERM = 256
SEED = 1  # datasketch's default, which CodeParrot kept
_CHUNK = 100  # CodeParrot's imap chunk size

Key = tuple[str, str]


@dataclass(frozen=True)
class ReferenceResult:
    """What the reference near-dedup decided, files named by (repo_name, path)."""

    kept: set[Key]
    removed: set[Key]
    clusters: list[list[Key]]


def minhash_signature(tokens: set[bytes], num_perm: int = NUM_PERM) -> LeanMinHash:
    """The MinHash of a token set, as CodeParrot made it (it hashed `token.encode()`)."""
    minhash = MinHash(num_perm=num_perm, seed=SEED)
    minhash.update_batch(list(tokens))
    # A LeanMinHash carries the same hash values without the permutations: far less to pickle.
    return LeanMinHash(minhash)


def minhash_signatures(
    sets: list[set[bytes]], processes: int = 2, num_perm: int = NUM_PERM
) -> list[LeanMinHash]:
    """minhash_signature of each set, computed by a pool of `processes` processes, in order."""
    with Pool(processes) as pool:
        return pool.map(partial(minhash_signature, num_perm=num_perm), sets, chunksize=_CHUNK)


def duplicate_clusters(
    signatures: list[LeanMinHash], threshold: float = THRESHOLD, num_perm: int = NUM_PERM
) -> list[list[int]]:
    """CodeParrot's DuplicationIndex clusters, as lists of positions: base first, then members."""
    index = MinHashLSH(threshold=threshold, num_perm=num_perm)
    members: dict[int, list[int]] = {}
    for position, signature in enumerate(signatures):
        close = sorted(index.query(signature))
        index.insert(position, signature)
        if close:
            base = next((other for other in close if other in members), close[0])
            members.setdefault(base, []).append(position)
    return [[base, *rest] for base, rest in members.items()]


def cluster_extremes(cluster: list[int], sets: list[set[bytes]], threshold: float) -> list[int]:
    """CodeParrot's find_extremes: the files of `cluster` that are no copy of an earlier extreme."""
    extremes: list[int] = []
    for position in cluster:
        if not any(jaccard(sets[position], sets[other]) >= threshold for other in extremes):
            extremes.append(position)
    return extremes


def reference_near_dedup(
    rows: list[dict],
    threshold: float = THRESHOLD,
    num_perm: int = NUM_PERM,
    processes: int = 2,
) -> ReferenceResult:
    """Near-dedup already exact-deduplicated rows as CodeParrot did; keys must be unique."""
    keys = [(row["repo_name"], row["path"]) for row in rows]
    if len(set(keys)) < len(keys):
        raise ValueError("rows must have distinct (repo_name, path); dedup them first")
    removed, clusters = _near_duplicates(rows, threshold, num_perm, processes)
    return ReferenceResult(
        kept={key for i, key in enumerate(keys) if i not in removed},
        removed={keys[i] for i in removed},
        clusters=[[keys[i] for i in cluster] for cluster in clusters],
    )


def _near_duplicates(
    rows: list[dict], threshold: float, num_perm: int, processes: int
) -> tuple[set[int], list[list[int]]]:
    """Positions of the rows to remove, and the clusters as lists of row positions."""
    positions, sets = token_sets(rows)
    signatures = minhash_signatures(sets, processes, num_perm)
    clusters = duplicate_clusters(signatures, threshold, num_perm)
    extremes = set(chain.from_iterable(cluster_extremes(c, sets, threshold) for c in clusters))
    removed = set(chain.from_iterable(clusters)) - extremes
    return {positions[i] for i in removed}, [[positions[i] for i in c] for c in clusters]


def reference_pipeline(
    dump: Path, output: Path, processes: int = 2, threshold: float = THRESHOLD
) -> dict[str, int]:
    """Read a raw dump, exact- then near-dedup it as CodeParrot did, write the kept rows.

    Rows with an empty content, no repo_name or path, or content over MAX_FILE_BYTES are
    dropped as the pipeline drops them; of the rows with the same content_key the first read
    stays. The kept rows go to `output`/part-00000.parquet (zstd). Besides the counts, the
    wall seconds of each phase: reading with exact dedup, near dedup, writing.
    """
    started = time.perf_counter()
    rows: list[dict] = []
    seen: set[str] = set()
    counts = {"rows": 0, "bytes": 0}
    for row in read_dump(dump):
        content = row.get("content") or ""
        size = len(content.encode("utf-8"))
        counts["rows"] += 1
        counts["bytes"] += size
        if not (content and row.get("repo_name") and row.get("path")) or size > MAX_FILE_BYTES:
            continue
        key = content_key(content)
        if key not in seen:
            seen.add(key)
            rows.append(row)
    read = time.perf_counter()
    # Positions, not keys: a raw dump may hold two files at the same (repo_name, path).
    removed, _ = _near_duplicates(rows, threshold, NUM_PERM, processes)
    near = time.perf_counter()
    kept = [row for i, row in enumerate(rows) if i not in removed]
    output.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(kept, schema=SCHEMA)
    pq.write_table(table, output / "part-00000.parquet", compression="zstd")
    seconds = {
        "read_and_exact_dedup": read - started,
        "near_dedup": near - read,
        "write": time.perf_counter() - near,
    }
    return counts | {"kept": len(kept), "near_removed": len(removed), "seconds": seconds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dump", type=Path, required=True, help="folder of *.json.gz shards")
    parser.add_argument("--output", type=Path, required=True, help="folder for the Parquet output")
    parser.add_argument("--processes", type=int, default=2, help="MinHash worker processes")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = reference_pipeline(args.dump, args.output, args.processes)
    seconds = time.perf_counter() - start
    print(
        f"{counts['rows']:,} rows, {counts['bytes'] / 1e6:,.1f} MB read; kept {counts['kept']:,}, "
        f"near-duplicates removed {counts['near_removed']:,}; {seconds:.1f} s, "
        f"{counts['bytes'] / 1e6 / seconds:.2f} MB/s"
    )
