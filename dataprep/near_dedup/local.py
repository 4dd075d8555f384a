"""The same near-dedup in one process, for small data: same sketches, edges, checks, decisions.

Useful in a notebook or a test, where starting Spark costs more than the work; a test keeps
it equal to the Spark stage.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from dataprep.near_dedup.keep import EDGES_SCHEMA, decide_clusters
from dataprep.near_dedup.shingles import sorted_jaccard
from dataprep.near_dedup.sketch import sketch_batch
from dataprep.near_dedup.stage import NearDedupConfig


def near_dedup_local(
    ids: Sequence[int], contents: Sequence[str | None], config: NearDedupConfig
) -> pd.DataFrame:
    """DECISION_COLUMNS for the files in near-duplicate clusters (the Spark stage's clusters)."""
    spec = config.sketch_spec()
    sketch = sketch_batch(pa.array(contents, pa.string()), spec)
    bands = sketch.field("bands").to_pylist()
    shingles = sketch.field("shingles").to_pylist()
    members: dict[tuple[int, int], list[int]] = {}
    for file_id, file_bands in zip(ids, bands, strict=True):
        for band, bucket in enumerate(file_bands or ()):
            members.setdefault((band, bucket), []).append(file_id)
    candidates = set()
    for bucket in members.values():
        hubs = heapq.nsmallest(config.hubs, bucket)
        candidates.update((member, hub) for member in bucket for hub in hubs if member > hub)
    sets = {i: np.asarray(s) for i, s in zip(ids, shingles, strict=True) if s is not None}
    verified = [
        (a, b)
        for a, b in sorted(candidates)
        if sorted_jaccard(sets[a], sets[b]) >= config.threshold
    ]
    component = _components(verified)
    edges = pa.Table.from_pylist(
        [{"component": component[a], "src": a, "dst": b} for a, b in verified],
        schema=EDGES_SCHEMA,
    )
    decided = decide_clusters(edges).to_pandas(types_mapper=_nullable)
    return decided.sort_values("id", ignore_index=True)


def _nullable(arrow_type: pa.DataType) -> object:
    # Integer columns with nulls (kept_id, near_copies) stay integers, as in the Spark stage.
    return pd.Int64Dtype() if arrow_type == pa.int64() else None


def _components(edges: list[tuple[int, int]]) -> dict[int, int]:
    # Union-find with the smaller root winning: each node maps to its component's minimum.
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: root(node) for node in parent}
