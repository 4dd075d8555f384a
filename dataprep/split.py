"""Split stage: a deterministic train/valid split by hash of `id`, into sized Parquet shards.

Each split is hash-partitioned by `id` into as many shards as its estimated size asks for,
and sorted by `id` inside each shard, so a rerun writes the same rows into the same files.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from dataprep.cli import option
from dataprep.hashing import unit_interval
from dataprep.stage_output import mark_done
from dataprep.storage import Storage
from dataprep.units import parse_size

SPLITS = ("train", "valid")
# Columns that only make sense while rows flow through the stages, not in the final shards.
_WORKING_COLUMNS = ("raw", "source_file", "kept_id")


@dataclass(frozen=True)
class SplitConfig:
    """How the kept files become train/valid shards."""

    valid_fraction: float = option(
        0.0115, help="share of files in the valid split (codeparrot-clean: 61,373 of 5,361,373)"
    )
    shard_size: str = option("128MB", help="target size of a Parquet shard (zstd), e.g. 64MB, 1GB")


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
    """Write `<output>/train` and `<output>/valid` from the kept rows at `kept`; return counts."""
    storage = Storage(spark)
    rows = spark.read.parquet(kept)
    rows = rows.drop(*[c for c in _WORKING_COLUMNS if c in rows.columns])
    rows = rows.withColumn("_split", split_of(seed, config.valid_fraction))
    shard_bytes = parse_size(config.shard_size)
    kept_bytes = storage.size_bytes(kept)
    tmp = f"{storage.parent(output)}/_tmp-{uuid.uuid4().hex}"
    counts = {}
    for name in SPLITS:
        share = config.valid_fraction if name == "valid" else 1 - config.valid_fraction
        n_shards = max(1, math.ceil(kept_bytes * share / shard_bytes))
        counts[name] = _write_split(rows.where(F.col("_split") == name), f"{tmp}/{name}", n_shards)
    storage.delete(output)
    storage.rename(tmp, output)
    result = {**record, "counts": counts}
    mark_done(storage, output, result)
    return result


def _write_split(rows: DataFrame, path: str, n_shards: int) -> dict:
    observation = Observation("split_counts")
    shards = rows.drop("_split").repartition(n_shards, "id").sortWithinPartitions("id")
    counted = shards.observe(
        observation,
        F.count(F.lit(1)).alias("files"),
        F.sum(F.octet_length("content")).alias("bytes"),
    )
    counted.write.option("compression", "zstd").parquet(path)
    return {key: int(value or 0) for key, value in observation.get.items()}
