"""LSH candidates in Spark: files sharing a band bucket, as star edges to the bucket's minimum.

The shuffle carries (band, band hash, id) only. A bucket of n files gives n - 1 edges, each
member to the smallest id, never the n^2 pairs: one huge bucket costs linear work.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def star_edges(sketches: DataFrame) -> DataFrame:
    """Distinct (src, dst) edges, src > dst, from (id, bands) rows; dst is a bucket minimum."""
    buckets = sketches.where(F.col("bands").isNotNull()).select(
        "id", F.posexplode("bands").alias("band", "bucket")
    )
    bucket = Window.partitionBy("band", "bucket")
    return (
        buckets.withColumn("hub", F.min("id").over(bucket))
        .where(F.col("id") != F.col("hub"))
        .select(F.col("id").alias("src"), F.col("hub").alias("dst"))
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
