"""Split stage: a deterministic train/valid split by hash of `id`, into sized Parquet shards.

Each split is hash-partitioned by `id` into as many shards as its estimated size asks for,
and sorted by `id` inside each shard, so a rerun writes the same rows into the same files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import Observation, SparkSession
from pyspark.sql import functions as F

from dataprep.cli import check_options, option
from dataprep.hashing import unit_interval
from dataprep.stage_output import mark_done, move_table, nest_counts
from dataprep.storage import STAGE_INFO, SUCCESS, Storage
from dataprep.units import parse_size

SPLITS = ("train", "valid")
# Columns that only make sense while rows flow through the stages, not in the final shards.
_WORKING_COLUMNS = ("raw", "source_file", "kept_id")


@dataclass(frozen=True)
class SplitConfig:
    """How the kept files become train/valid shards."""

    valid_fraction: float = option(
        0.0115,
        help="share of files in the valid split (codeparrot-clean: 61,373 of 5,361,373)",
        minimum=0,
        maximum=1,
    )
    shard_size: str = option(
        "128MB",
        help="target size of a Parquet shard (zstd), e.g. 64MB, 1GB; a plain number is bytes",
        size=True,
        # A bare number is bytes: "--shard-size 128" meant as MB would plan a task per 128
        # bytes (--shard-size 10 planned 82,000 of them for a 4 MB dump).
        minimum=1024,
    )

    def __post_init__(self) -> None:
        check_options(self)


def split_of(seed: int, valid_fraction: float) -> F.Column:
    """'valid' or 'train' for a row, from a seeded hash of its `id`."""
    draw = unit_interval(F.col("id"), "split", seed)
    return F.when(draw < valid_fraction, F.lit("valid")).otherwise(F.lit("train"))


def write_splits(
    spark: SparkSession,
    kept: str,
    output: str,
    config: SplitConfig,
    *,
    seed: int,
    record: dict,
) -> dict:
    """Write `<output>/train` and `<output>/valid` from the kept rows at `kept`; return counts.

    Both splits come from one read and one shuffle: every shard of either split is one
    partition, placed by id, and a partitioned write sends each to its split's folder.
    """
    storage = Storage(spark)
    rows = spark.read.parquet(kept)
    rows = rows.drop(*[c for c in _WORKING_COLUMNS if c in rows.columns])
    split = split_of(seed, config.valid_fraction)
    kept_bytes = storage.size_bytes(kept)
    n_train, n_valid = (
        max(1, math.ceil(kept_bytes * share / parse_size(config.shard_size)))
        for share in (1 - config.valid_fraction, config.valid_fraction)
    )

    def shard(n_shards: int) -> F.Column:
        # Murmur3 of id, as Spark's own hash partitioning by id.
        return F.pmod(F.hash("id"), F.lit(n_shards))

    partition = F.when(split == "valid", n_train + shard(n_valid)).otherwise(shard(n_train))
    observation = Observation("split_counts")
    counted = (
        rows.withColumn("_split", split)
        .repartitionById(n_train + n_valid, partition)
        .sortWithinPartitions("_split", "id")
        .observe(observation, *_split_metrics())
    )
    tmp = storage.scratch(output)
    counted.write.partitionBy("_split").option("compression", "zstd").parquet(tmp)
    storage.delete(f"{tmp}/{SUCCESS}")
    for name in SPLITS:
        move_table(spark, f"{tmp}/_split={name}", f"{tmp}/{name}", rows.schema)
    # Recognised as this stage's own if the run is killed before mark_done (see write_stage).
    storage.write_json(f"{tmp}/{STAGE_INFO}", {**record, "unfinished": True})
    storage.delete(output)
    storage.rename(tmp, output)
    result = {**record, "counts": nest_counts(observation.get)}
    mark_done(storage, output, result)
    return result


def _split_metrics() -> list[F.Column]:
    """Files and content bytes per split, for an Observation."""
    metrics = []
    for name in SPLITS:
        here = F.col("_split") == name
        metrics += [
            F.count_if(here).alias(f"{name}.files"),
            F.sum(F.when(here, F.octet_length("content"))).alias(f"{name}.bytes"),
        ]
    return metrics
