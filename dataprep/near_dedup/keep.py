"""Which files of a near-duplicate cluster to keep, so that no removed file is lost.

In each component of verified edges, files are taken in increasing id: a file is removed if
one of its verified neighbours is already kept (and points to the smallest such), else kept.
That makes the kept files a maximal independent set of the verified graph: every removed file
has a kept file at Jaccard >= threshold, and no two kept files share a verified edge.
CodeParrot's "extremes" did the same greedily per cluster, in memory; here each component is
decided on its own, in parallel, and the order (by id) never depends on partitioning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

DECISION_COLUMNS = ("id", "cluster_id", "cluster_size", "kept", "kept_id", "near_copies")


def greedy_keep(edges: Iterable[tuple[int, int]]) -> dict[int, int | None]:
    """For every node of the edges: None if kept, else the id of the kept node it resembles."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    decision: dict[int, int | None] = {}
    for node in sorted(neighbours):
        # Smaller neighbours are decided already: the nodes go in increasing order.
        kept_before = [n for n in neighbours[node] if n < node and decision[n] is None]
        decision[node] = min(kept_before) if kept_before else None
    return decision


def decide_cluster(edges: pd.DataFrame) -> pd.DataFrame:
    """DECISION_COLUMNS for one component, from its (src, dst) verified edges."""
    decision = greedy_keep(zip(edges["src"].tolist(), edges["dst"].tolist(), strict=True))
    ids = sorted(decision)
    keepers = pd.Series([decision[i] for i in ids], dtype="Int64")
    copies = keepers.value_counts()
    kept = keepers.isna()
    return pd.DataFrame(
        {
            "id": ids,
            "cluster_id": ids[0],
            "cluster_size": len(ids),
            "kept": kept,
            "kept_id": keepers,
            "near_copies": pd.Series(
                [1 + int(copies.get(i, 0)) if k else None for i, k in zip(ids, kept, strict=True)],
                dtype="Int64",
            ),
        }
    )
