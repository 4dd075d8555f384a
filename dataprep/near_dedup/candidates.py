"""LSH candidates in Spark: files sharing a band bucket, as star edges to the bucket's hubs.

The shuffle carries (bucket, id) only, the bucket a hash of (band, band hash). A bucket's
hubs are its `hubs` smallest ids; each member is linked to each hub, never to every other
member: a bucket of n files gives fewer than n x hubs edges, so one huge bucket costs linear
work. One hub (the minimum) is the classic star; more hubs catch the pairs whose shared
buckets all hold smaller files that resemble neither of them enough, as a family of small
look-alike modules does (measured in bench/README.md, Near dedup: quality).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import partial

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from dataprep.near_dedup.shingles import indexed_jaccards

EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])
_BUCKET_SCHEMA = pa.schema([("bucket", pa.int64()), ("id", pa.int64())])
VERIFIED_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64()), ("jaccard", pa.float64())])
# A verification partition's rows: sets (id, shingles; no dst) and edges (src as id, dst).
_VERIFY_ROWS_SCHEMA = pa.schema(
    [("id", pa.int64()), ("dst", pa.int64()), ("shingles", pa.list_(pa.int64()))]
)


def partition_table(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """A partition's Arrow batches as one table of `schema`.

    Spark may mark a column non-null in some batches only, which Arrow would refuse to join.
    """
    cast = [pa.RecordBatch.from_arrays(batch.columns, schema=schema) for batch in batches]
    return pa.Table.from_batches(cast, schema)


def star_edges(sketches: DataFrame, hubs: int = 1) -> DataFrame:
    """Distinct (src, dst) edges, src > dst, from (id, bands) rows; dst is a bucket hub."""
    if hubs < 1:
        raise ValueError(f"hubs must be at least 1, not {hubs}")
    # One 64-bit key per (band, band hash), so that the shuffle groups rows by a single
    # column. Two buckets sharing a key cost verifications, never a wrong edge.
    buckets = (
        sketches.where(F.col("bands").isNotNull())
        .select("id", F.posexplode("bands").alias("band", "hash"))
        .select(F.xxhash64("band", "hash").alias("bucket"), "id")
    )
    # Each bucket whole in one Python call, which sorts its partition once: a window over
    # buckets took 16 `nth_value`s per row and exploded them (bench/README.md: ~30% slower).
    return (
        buckets.repartition("bucket")
        .mapInArrow(partial(_bucket_partition_edges, hubs=hubs), from_arrow_schema(EDGE_SCHEMA))
        .distinct()
    )


def bucket_star_edges(
    buckets: np.ndarray, ids: np.ndarray, hubs: int
) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst): each (bucket, id) row linked to its bucket's `hubs` smallest ids below it.

    Buckets need not be sorted or whole-partition; a bucket of n rows gives fewer than
    n x hubs edges, repeats included (the same pair may share several buckets).
    """
    order = np.lexsort((ids, buckets))
    buckets, ids = buckets[order], ids[order]
    first = np.ones(len(ids), dtype=bool)
    np.not_equal(buckets[1:], buckets[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    start = np.repeat(starts, np.diff(starts, append=len(ids)))
    rank = np.arange(len(ids)) - start  # position in its bucket, by id
    member = rank > 0  # a bucket's smallest id links to nothing below it
    member_ids, start, rank = ids[member], start[member], rank[member]
    src, dst = [], []
    for hub in range(min(hubs, int(rank.max(initial=0)))):
        if hub:
            after = rank > hub
            member_ids, start, rank = member_ids[after], start[after], rank[after]
        hub_ids = ids[start + hub]
        below = member_ids > hub_ids  # one file twice in a bucket is not an edge
        src.append(member_ids[below])
        dst.append(hub_ids[below])
    if not src:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(src), np.concatenate(dst)


def _bucket_partition_edges(
    batches: Iterator[pa.RecordBatch], hubs: int
) -> Iterator[pa.RecordBatch]:
    rows = partition_table(batches, _BUCKET_SCHEMA)
    if not rows.num_rows:
        return
    src, dst = bucket_star_edges(
        rows.column("bucket").to_numpy(), rows.column("id").to_numpy(), hubs
    )
    yield pa.RecordBatch.from_arrays([pa.array(src), pa.array(dst)], schema=EDGE_SCHEMA)


# A verification partition's sets and edges are held by one Python worker at once.
_VERIFY_PARTITION_BYTES = 128 << 20


def verification_partitions(spark: SparkSession, set_values: int, edges: int) -> int:
    """Partitions for verified_edges: about 128 MB of sets and edges each, a multiple of the
    session's parallelism so that every core has its share."""
    cores = spark.sparkContext.defaultParallelism
    size = set_values * 8 + edges * 16
    return cores * max(1, math.ceil(size / (_VERIFY_PARTITION_BYTES * cores)))


def verified_edges(
    edges: DataFrame, sketches: DataFrame, threshold: float, partitions: int | None = None
) -> DataFrame:
    """The candidate edges whose two files' shingle sets have exact Jaccard >= threshold.

    Sets are the sorted distinct 64-bit shingle digests; `jaccard` is added as a column. Each
    edge goes to the partition of its `src` (`partitions` of them, default the session's
    parallelism), and each set once to every partition with an edge that needs it, where one
    Python call verifies them all: a set does not travel once per edge, as two joins would
    send it (the 4 GB dump's 1,030,793 candidates need 286,536 sets in 4 partitions, where
    two joins sent 1,358,688 after a size filter; bench/README.md). Edges whose sizes alone
    rule them out (Jaccard is at most the smaller size over the larger) are dropped before
    any merge.
    """
    spark = edges.sparkSession
    partitions = partitions or spark.sparkContext.defaultParallelism
    # Spark's hash partitioning of a column is pmod(hash(column), partitions): `part` is the
    # partition that repartition(partitions, "key") sends a row keyed by this src to.
    keyed = edges.select("src", "dst", F.pmod(F.hash("src"), F.lit(partitions)).alias("part"))
    # Each (partition, file) once, keyed by one of that partition's srcs, so that it lands
    # there.
    needed = (
        keyed.select("part", F.col("src").alias("id"), F.col("src").alias("key"))
        .unionByName(keyed.select("part", F.col("dst").alias("id"), F.col("src").alias("key")))
        .groupBy("part", "id")
        .agg(F.min("key").alias("key"))
    )
    sets = needed.join(sketches.select("id", "shingles"), "id").select(
        "key", "id", F.lit(None).cast("long").alias("dst"), "shingles"
    )
    edge_rows = keyed.select(
        F.col("src").alias("key"),
        F.col("src").alias("id"),
        "dst",
        F.lit(None).cast("array<long>").alias("shingles"),
    )

    return (
        sets.unionByName(edge_rows)
        .repartition(partitions, "key")
        .select("id", "dst", "shingles")
        .mapInArrow(
            partial(_verify_partition, threshold=threshold), from_arrow_schema(VERIFIED_SCHEMA)
        )
    )


def _verify_partition(
    batches: Iterator[pa.RecordBatch], threshold: float
) -> Iterator[pa.RecordBatch]:
    rows = partition_table(batches, _VERIFY_ROWS_SCHEMA)
    if not rows.num_rows:
        return
    ids = rows.column("id").to_numpy()
    is_edge = rows.column("dst").is_valid().to_numpy(zero_copy_only=False)
    set_rows = np.flatnonzero(~is_edge)
    set_rows = set_rows[np.argsort(ids[set_rows], kind="stable")]
    set_ids = ids[set_rows]

    def row_of(wanted: np.ndarray) -> np.ndarray:
        found = np.searchsorted(set_ids, wanted)
        present = found < len(set_ids)
        present[present] = set_ids[found[present]] == wanted[present]
        if not present.all():
            raise RuntimeError(
                f"near dedup verification: the set of file {wanted[~present][0]} did not "
                "reach its partition"
            )
        return set_rows[found]

    src = ids[is_edge]
    dst = rows.column("dst").filter(pa.array(is_edge)).to_numpy()
    shingles = rows.column("shingles").combine_chunks()
    similarity = indexed_jaccards(shingles, row_of(src), row_of(dst), threshold)
    kept = similarity >= threshold  # NaN (ruled out by size) is not
    yield pa.RecordBatch.from_arrays(
        [pa.array(src[kept]), pa.array(dst[kept]), pa.array(similarity[kept])],
        schema=VERIFIED_SCHEMA,
    )
