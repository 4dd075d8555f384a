"""Connected components in Spark by alternating large-star and small-star (Kiveris et al., 2014).

Edges are kept oriented (u, v) with u > v. Large-star links every neighbour above a node to
the node's smallest neighbour; small-star links a node and its smaller neighbours to the
smallest of them. Each step is one window over the edges, nothing reaches the driver but
counts, and both repeat until every component is a star around its smallest id.

A graph small enough for one Python worker can instead be labelled in one task
(`components_in_one_task`): a round costs about seven small Spark jobs whatever the graph's
size, and a few rounds of them take longer than union-find over a million edges in arrays.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from dataprep.near_dedup.candidates import EDGE_SCHEMA, partition_table
from dataprep.near_dedup.keep import numbered_ends
from dataprep.session import checkpoint

LABELS_SCHEMA = pa.schema([("id", pa.int64()), ("component", pa.int64())])


def _oriented(edges: DataFrame) -> DataFrame:
    return (
        edges.select(F.greatest("src", "dst").alias("u"), F.least("src", "dst").alias("v"))
        .where(F.col("u") != F.col("v"))
        .distinct()
    )


def _large_star(edges: DataFrame) -> DataFrame:
    both = edges.union(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    smallest = F.least(F.col("u"), F.min("v").over(Window.partitionBy("u")))
    # Repeated edges (one per edge at most) are left to small-star's distinct: a shuffle less.
    return (
        both.withColumn("m", smallest)
        .where(F.col("v") > F.col("u"))
        .select(F.col("v").alias("u"), F.col("m").alias("v"))
    )


def _small_star(edges: DataFrame) -> DataFrame:
    with_min = edges.withColumn("m", F.min("v").over(Window.partitionBy("u")))
    node = with_min.select("u", F.col("m").alias("v"))
    smaller = with_min.where(F.col("v") != F.col("m")).select(
        F.col("v").alias("u"), F.col("m").alias("v")
    )
    return node.union(smaller).distinct()


def _is_star_forest(edges: DataFrame) -> bool:
    # Stars around their minimum: every node has at most one parent, and no parent has one.
    # One aggregation (one job) over the nodes answers both.
    roles = edges.select(
        F.col("u").alias("node"), F.lit(1).alias("parents"), F.lit(False).alias("is_parent")
    ).union(edges.select(F.col("v").alias("node"), F.lit(0), F.lit(True)))
    per_node = roles.groupBy("node").agg(
        F.sum("parents").alias("parents"), F.max("is_parent").alias("is_parent")
    )
    bad = (F.col("parents") > 1) | ((F.col("parents") == 1) & F.col("is_parent"))
    return per_node.where(bad).isEmpty()


def connected_components(edges: DataFrame, max_rounds: int = 64) -> tuple[DataFrame, int]:
    """(id, component) for every node of the (src, dst) edges, and the rounds it took.

    `component` is the smallest id in the node's component. Each round's edges are
    checkpointed, so the plan does not grow with the rounds.
    """
    current = checkpoint(_oriented(edges))
    rounds = 0
    while not _is_star_forest(current):
        if rounds == max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        current = checkpoint(_small_star(_large_star(current)))
        rounds += 1
    roots = current.select(F.col("v").alias("id"), F.col("v").alias("component")).distinct()
    children = current.select(F.col("u").alias("id"), F.col("v").alias("component"))
    return children.union(roots), rounds


def component_labels(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, component): every node of the edges, and the smallest id in its component."""
    nodes, first, second = numbered_ends(src, dst)
    # Nodes are numbered in increasing id, so the smallest number is the smallest id. Each
    # pass hooks the larger root of every edge whose ends have different roots to the
    # smaller, then points every node at its root; roots only ever decrease.
    parent = np.arange(len(nodes))
    while True:
        first_root, second_root = parent[first], parent[second]
        low, high = np.minimum(first_root, second_root), np.maximum(first_root, second_root)
        apart = low != high
        if not apart.any():
            return nodes, nodes[parent]
        np.minimum.at(parent, high[apart], low[apart])
        while True:
            grandparent = parent[parent]
            if np.array_equal(grandparent, parent):
                break
            parent = grandparent


def components_in_one_task(edges: DataFrame) -> DataFrame:
    """(id, component) for every node of the (src, dst) edges, found in one Python task."""
    return (
        edges.select("src", "dst")
        .repartition(1)
        .mapInArrow(_label_partition, from_arrow_schema(LABELS_SCHEMA))
    )


def _label_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    edges = partition_table(batches, EDGE_SCHEMA)
    if not edges.num_rows:
        return
    nodes, component = component_labels(
        edges.column("src").to_numpy(), edges.column("dst").to_numpy()
    )
    yield pa.RecordBatch.from_arrays([pa.array(nodes), pa.array(component)], schema=LABELS_SCHEMA)
