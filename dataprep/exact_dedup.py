"""Exact dedup stage: one row per whitespace-free content, as CodeParrot's final definition.

The key is `hash` (md5 of the content with all whitespace removed, computed by the read stage).
Of the rows sharing a key, the one with the smallest `id` is kept (ties, which only rows at the
same location with the same key can make, broken by license, copies, size, content and source
file), so the choice never depends on partitioning. Computed with Spark built-ins: one shuffle
by key.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

EXACT_DUPLICATE = "exact_duplicate"
EXACT_DEDUP_REASONS = (EXACT_DUPLICATE,)


def exact_dedup(rows: DataFrame) -> DataFrame:
    """Mark all but one row per `hash` as exact_duplicate; add `exact_copies` and `kept_id`.

    `exact_copies` counts the rows sharing the key (the kept one included); `kept_id` is the id
    of the kept row, on the duplicates only. Rows already rejected pass through untouched.
    Input deduplicated before carries its `exact_copies`: those are added up, not reset to 1.
    """
    live = F.col("reason").isNull()
    copies = F.lit(1)
    if "exact_copies" in rows.columns:
        copies = F.coalesce(F.col("exact_copies").cast("long"), copies)
    # Rows rejected earlier are grouped by themselves so they never count as copies.
    group = F.when(live, F.col("hash")).otherwise(F.concat(F.lit("!"), F.col("id").cast("string")))
    # Rows equal in all of these (one file twice in the dump) differ at most in source_file,
    # which then decides, so that partitioning never does.
    ties = ["license", "copies", "size", "content"]
    ties += ["source_file"] if "source_file" in rows.columns else []
    ordered = Window.partitionBy("_group").orderBy("id", *ties)
    whole_group = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    first = F.row_number().over(ordered) == 1
    return (
        rows.withColumn("_group", group)
        .withColumn("_first", first)
        .withColumn("_kept_id", F.first("id").over(ordered))
        .withColumn("exact_copies", F.when(live, F.sum(copies).over(whole_group)))
        .withColumn(
            "reason",
            F.when(live & ~F.col("_first"), F.lit(EXACT_DUPLICATE)).otherwise(F.col("reason")),
        )
        .withColumn("kept_id", F.when(F.col("reason") == EXACT_DUPLICATE, F.col("_kept_id")))
        .drop("_group", "_first", "_kept_id")
    )
