"""LSH candidates in Spark: files sharing a band bucket, as star edges to the bucket's hubs.

The shuffle carries (bucket, id) only, the bucket a hash of (band, band hash). A bucket's
hubs are its `hubs` smallest ids; each member is linked to each hub, never to every other
member: a bucket of n files gives fewer than n x hubs edges, so one huge bucket costs linear
work. One hub (the minimum) is the classic star; more hubs catch the pairs whose shared
buckets all hold smaller files that resemble neither of them enough, as a family of small
look-alike modules does (measured in bench/README.md, Near dedup: quality).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from dataprep.near_dedup.shingles import pair_jaccards

VERIFIED_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64()), ("jaccard", pa.float64())])


def star_edges(sketches: DataFrame, hubs: int = 1) -> DataFrame:
    """Distinct (src, dst) edges, src > dst, from (id, bands) rows; dst is a bucket hub."""
    if hubs < 1:
        raise ValueError(f"hubs must be at least 1, not {hubs}")
    # One 64-bit key per (band, band hash): Spark sorts a shuffle's rows by a prefix of their
    # first key, which a band number (25 values) leaves almost all tied; a key that is
    # already a hash sorts on its prefix alone (bench/README.md: this step ~30% faster). Two
    # buckets sharing a key cost verifications, never a wrong edge.
    buckets = (
        sketches.where(F.col("bands").isNotNull())
        .select("id", F.posexplode("bands").alias("band", "hash"))
        .select("id", F.xxhash64("band", "hash").alias("bucket"))
    )
    whole_bucket = (
        Window.partitionBy("bucket")
        .orderBy("id")
        .rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    )
    hub_ids = F.array(*[F.nth_value("id", n).over(whole_bucket) for n in range(1, hubs + 1)])
    return (
        buckets.withColumn("hubs", hub_ids)
        .select(F.col("id").alias("src"), F.explode("hubs").alias("dst"))
        .where(F.col("dst").isNotNull() & (F.col("src") > F.col("dst")))
        .distinct()
    )


def verified_edges(edges: DataFrame, sketches: DataFrame, threshold: float) -> DataFrame:
    """The candidate edges whose two files' shingle sets have exact Jaccard >= threshold.

    Sets are the sorted distinct 64-bit shingle digests; `jaccard` is added as a column.
    Edges whose two sets differ too much in size are dropped before the sets meet: Jaccard is
    at most the smaller size over the larger (verification 1.5-1.9x faster at 4 GB, where that
    drops about a third of the candidates; bench/README.md).
    """
    sizes = sketches.select("id", F.size("shingles").alias("size"))
    small = F.least("_size_a", "_size_b")
    # The margin keeps pairs whose size ratio rounds to the threshold, for the exact check.
    large_enough = small >= F.greatest("_size_a", "_size_b") * F.lit(threshold * (1 - 1e-9))
    plausible = (
        edges.join(sizes.toDF("src", "_size_a"), "src")
        .join(sizes.toDF("dst", "_size_b"), "dst")
        .where(large_enough)
        .select("src", "dst")
    )
    sets = sketches.select("id", "shingles")
    left = sets.toDF("src", "_a")
    right = sets.toDF("dst", "_b")
    pairs = plausible.join(left, "src").join(right, "dst").select("src", "dst", "_a", "_b")

    def verify(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Sorted sets meet in a binary search per value of the smaller one, in numpy: Spark's
        # array_intersect builds a hash set per pair (bench/README.md).
        for batch in batches:
            similarity = pair_jaccards(batch.column("_a"), batch.column("_b"))
            columns = [batch.column("src"), batch.column("dst"), pa.array(similarity)]
            verified = pa.RecordBatch.from_arrays(columns, schema=VERIFIED_SCHEMA)
            yield verified.filter(pa.array(similarity >= threshold))

    return pairs.mapInArrow(verify, from_arrow_schema(VERIFIED_SCHEMA))
