"""LSH candidates in Spark: files sharing a band bucket, as star edges to the bucket's hubs.

The shuffle carries (band, band hash, id) only. A bucket's hubs are its `hubs` smallest ids;
each member is linked to each hub, never to every other member: a bucket of n files gives
fewer than n x hubs edges, so one huge bucket costs linear work. One hub (the minimum) is the
classic star; more hubs catch the pairs whose shared buckets all hold smaller files that
resemble neither of them enough, as a family of small look-alike modules does (measured in
README, Near-dedup benchmarks).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def star_edges(sketches: DataFrame, hubs: int = 1) -> DataFrame:
    """Distinct (src, dst) edges, src > dst, from (id, bands) rows; dst is a bucket hub."""
    if hubs < 1:
        raise ValueError(f"hubs must be at least 1, not {hubs}")
    buckets = sketches.where(F.col("bands").isNotNull()).select(
        "id", F.posexplode("bands").alias("band", "bucket")
    )
    whole_bucket = (
        Window.partitionBy("band", "bucket")
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
    """
    sets = sketches.select("id", "shingles")
    left = sets.select(F.col("id").alias("src"), F.col("shingles").alias("_a"))
    right = sets.select(F.col("id").alias("dst"), F.col("shingles").alias("_b"))
    common = F.size(F.array_intersect("_a", "_b"))
    jaccard = common / (F.size("_a") + F.size("_b") - common)
    return (
        edges.join(left, "src")
        .join(right, "dst")
        .select("src", "dst", jaccard.alias("jaccard"))
        .where(F.col("jaccard") >= threshold)
    )
