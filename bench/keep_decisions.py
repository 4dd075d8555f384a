"""Benchmark: near dedup's keep decisions for one giant component, in one Python worker.

    .venv/bin/python bench/keep_decisions.py --files 1000000 --degree 20

All edges of a component meet in one partition and one Python call
(`dataprep.near_dedup.keep.decide_clusters`), so the largest component of a dump bounds that
task's time and memory. This builds one connected component of `--files` random ids, each
linked to `--degree` random others (ids scattered over the 64-bit range, as `id` is a hash),
and prints the decision time and the process's peak memory above what the edges take.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pyarrow as pa

from dataprep.near_dedup.keep import EDGES_SCHEMA, decide_clusters


def giant_component(files: int, degree: int, seed: int = 0) -> pa.Table:
    """EDGES_SCHEMA edges: a path through all files (so they form one component), plus
    `degree - 1` random links per file."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.iinfo(np.int64).max, size=files, replace=False) - (1 << 62)
    src = np.concatenate([ids[1:], np.repeat(ids, degree - 1)])
    dst = np.concatenate([ids[:-1], rng.choice(ids, size=files * (degree - 1))])
    component = np.full(len(src), ids.min())
    return pa.table([component, src, dst], schema=EDGES_SCHEMA)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def main() -> None:
    """Decide one giant component and print time, peak memory and what was kept."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1_000_000, help="files in the component")
    parser.add_argument("--degree", type=int, default=20, help="edges per file")
    args = parser.parse_args()
    edges = giant_component(args.files, args.degree)
    before = _peak_rss_gb()
    started = time.perf_counter()
    decided = decide_clusters(edges)
    seconds = time.perf_counter() - started
    kept = int(np.count_nonzero(decided.column("kept").to_numpy()))
    print(
        f"{args.files:,} files, {edges.num_rows:,} edges in one component: {seconds:.1f} s, "
        f"peak memory {_peak_rss_gb() - before:.2f} GB above the edges' "
        f"({before:.2f} GB before); kept {kept:,}"
    )


if __name__ == "__main__":
    main()
