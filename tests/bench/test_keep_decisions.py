"""The keep-decisions benchmark's graph: all its files, in one labelled component, all decided."""

from __future__ import annotations

from keep_decisions import giant_component

from dataprep.near_dedup.keep import decide_clusters


def test_the_benchmark_graph_decides_all_its_files_as_one_cluster() -> None:
    edges = giant_component(files=300, degree=4)
    assert edges.num_rows == 299 + 300 * 3
    decided = decide_clusters(edges).to_pylist()
    assert len(decided) == 300
    assert {row["cluster_size"] for row in decided} == {300}
    assert {row["cluster_id"] for row in decided} == {min(row["id"] for row in decided)}
