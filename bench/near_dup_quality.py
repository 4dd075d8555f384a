"""How well a near-dedup method did, measured against the exact all-pairs ground truth.

    .venv/bin/python bench/near_dup_quality.py

Builds (or reuses) the corpus of `near_dup_corpus`, exact-deduplicates it, finds every pair of
files whose token sets have Jaccard >= threshold (`near_dup_truth`), runs each method and
prints, side by side:

- lost_rate: of the files a method removed, the share with no kept file among their truth
  neighbours, i.e. removed with nothing near enough left in their place (0 when none removed);
- residual_pair_rate: the share of truth pairs whose two files were both kept;
- removed, largest_cluster, clustered_share (files in clusters of two or more), pairs.

Files with fewer than MIN_TOKENS tokens are not near-deduplicated and not counted.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from near_dup_corpus import build_corpus, exact_dedup_rows, load_corpus
from near_dup_reference import reference_near_dedup
from near_dup_truth import similar_pairs, token_sets
from submit import ROOT, spark_submit

from dataprep.units import parse_size


def quality(
    keys: list[Hashable],
    kept: Collection[Hashable],
    truth_pairs: set[tuple[int, int]],
    clusters: list[list[Hashable]],
) -> dict[str, int | float]:
    """Quality figures of a method's `kept` keys and `clusters`; pairs index into `keys`."""
    kept = set(kept)
    is_kept = [key in kept for key in keys]
    neighbours: defaultdict[int, list[int]] = defaultdict(list)
    for i, j in truth_pairs:
        neighbours[i].append(j)
        neighbours[j].append(i)
    removed = [i for i, keep in enumerate(is_kept) if not keep]
    lost = sum(1 for i in removed if not any(is_kept[j] for j in neighbours[i]))
    residual = sum(1 for i, j in truth_pairs if is_kept[i] and is_kept[j])
    clustered = {key for cluster in clusters if len(cluster) >= 2 for key in cluster}
    return {
        "files": len(keys),
        "pairs": len(truth_pairs),
        "removed": len(removed),
        "lost_rate": lost / len(removed) if removed else 0.0,
        "residual_pair_rate": residual / len(truth_pairs) if truth_pairs else 0.0,
        "largest_cluster": max(map(len, clusters), default=0),
        "clustered_share": len(clustered.intersection(keys)) / len(keys) if keys else 0.0,
    }


def format_report(rows: dict[str, dict]) -> str:
    """A table with one column per method and one line per figure."""
    methods = list(rows)
    figures = list(dict.fromkeys(name for row in rows.values() for name in row))
    table = [["", *methods]]
    table += [[name, *(_cell(rows[method].get(name)) for method in methods)] for name in figures]
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def spark_near_dedup(
    rows: list[dict], workdir: Path, banding: str, hubs: int, threshold: float
) -> tuple[set[Hashable], list[list[Hashable]]]:
    """Run jobs/near_dedup.py through spark-submit on the (exact-deduped) rows; kept + clusters."""
    source = workdir / "deduped.parquet"
    columns = ("repo_name", "path", "copies", "size", "content", "license")
    table = pa.table({c: [row[c] for row in rows] for c in columns})
    pq.write_table(table, source, row_group_size=1_000)
    output = workdir / f"spark-{banding}-{hubs}"
    spark_submit(
        "jobs/near_dedup.py", "--input", source, "--output", output, "--no-exact-dedup",
        "--banding", banding, "--hubs", hubs, "--threshold", threshold, "--overwrite",
        quiet=True,
    )  # fmt: skip
    kept = pq.read_table(output, columns=["repo_name", "path"]).to_pylist()
    removed = pq.read_table(f"{output}_rejected", columns=["repo_name", "path", "id"]).to_pylist()
    ids = pq.read_table(output, columns=["repo_name", "path", "id"]).to_pylist() + removed
    key_of = {row["id"]: (row["repo_name"], row["path"]) for row in ids}
    members: dict[int, list[Hashable]] = defaultdict(list)
    for row in pq.read_table(f"{output}_clusters", columns=["id", "cluster_id"]).to_pylist():
        members[row["cluster_id"]].append(key_of[row["id"]])
    return {(row["repo_name"], row["path"]) for row in kept}, list(members.values())


def main() -> None:
    """Build or load the corpus, compute the truth, run every method, print the report."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "work/bench/near_dup", help="benchmark folder"
    )
    parser.add_argument("--sample-bytes", default="32MB", help="content bytes of the sample dump")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample dump")
    parser.add_argument("--threshold", type=float, default=0.85, help="Jaccard threshold")
    parser.add_argument("--processes", type=int, default=2, help="reference MinHash processes")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpus")
    args = parser.parse_args()

    corpus = args.workdir / "corpus.parquet"
    if args.rebuild or not corpus.exists():
        build_corpus(corpus, parse_size(args.sample_bytes), args.seed)
    rows = exact_dedup_rows(load_corpus(corpus))
    positions, sets = token_sets(rows)
    keys = [(rows[i]["repo_name"], rows[i]["path"]) for i in positions]
    start = time.perf_counter()
    truth = similar_pairs(sets, args.threshold)
    seconds = time.perf_counter() - start
    print(f"truth: {len(truth):,} pairs among {len(keys):,} files, {seconds:.1f} s")

    def reference() -> tuple[Collection[Hashable], list[list[Hashable]]]:
        result = reference_near_dedup(rows, args.threshold, processes=args.processes)
        return result.kept, result.clusters

    # Hook: each method maps its name to a function that near-dedups the corpus (`corpus`, or
    # `rows`: exact dedup included or not, only the keys above are scored) and returns the
    # kept keys and the clusters, keys being (repo_name, path) tuples.
    methods: dict[str, Callable[[], tuple[Collection[Hashable], list[list[Hashable]]]]] = {
        "datasketch (CodeParrot)": reference,
        **{
            f"spark {banding}, {hubs} hub{'s' * (hubs > 1)}": (
                lambda b=banding, h=hubs: spark_near_dedup(rows, args.workdir, b, h, args.threshold)
            )
            for banding, hubs in (("high_recall", 1), ("high_recall", 16), ("optimal", 16))
        },
    }
    report = {}
    for name, method in methods.items():
        start = time.perf_counter()
        kept, clusters = method()
        seconds = time.perf_counter() - start
        report[name] = quality(keys, kept, truth, clusters) | {"seconds": seconds}
    print(format_report(report))


if __name__ == "__main__":
    main()
