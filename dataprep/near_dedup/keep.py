"""Which files of a near-duplicate cluster to keep, so that no removed file is lost.

In each component of verified edges, files are taken in increasing id: a file is removed if
one of its verified neighbours is already kept (and points to the smallest such), else kept.
That makes the kept files a maximal independent set of the verified graph: every removed file
has a kept file at Jaccard >= threshold, and no two kept files share a verified edge.
CodeParrot's "extremes" did the same greedily per cluster, in memory; here each component is
decided on its own, in parallel, and the order (by id) never depends on partitioning.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import pyarrow as pa

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


# What decide_clusters reads: verified edges labelled with their component.
EDGES_SCHEMA = pa.schema([(name, pa.int64()) for name in ("component", "src", "dst")])
DECISION_SCHEMA = pa.schema(
    [(name, pa.bool_() if name == "kept" else pa.int64()) for name in DECISION_COLUMNS]
)


def decide_clusters(edges: pa.Table) -> pa.Table:
    """DECISION_SCHEMA rows for every file of the components in `edges` (EDGES_SCHEMA).

    Each component is decided on its own; a component's edges must all be in `edges`.
    """
    by_component: dict[int, list[tuple[int, int]]] = defaultdict(list)
    columns = (edges.column(name).to_pylist() for name in ("component", "src", "dst"))
    for component, src, dst in zip(*columns, strict=True):
        by_component[component].append((src, dst))
    rows: dict[str, list] = {name: [] for name in DECISION_COLUMNS}
    for component_edges in by_component.values():
        decision = greedy_keep(component_edges)
        ids = sorted(decision)
        copies = Counter(keeper for keeper in decision.values() if keeper is not None)
        for file_id in ids:
            kept = decision[file_id] is None
            rows["id"].append(file_id)
            rows["cluster_id"].append(ids[0])
            rows["cluster_size"].append(len(ids))
            rows["kept"].append(kept)
            rows["kept_id"].append(decision[file_id])
            rows["near_copies"].append(1 + copies[file_id] if kept else None)
    return pa.table(rows, schema=DECISION_SCHEMA)
