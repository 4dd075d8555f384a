"""The whole flow in one Spark application: read -> exact dedup -> filters -> near dedup ->
split -> shards.

Workdir layout:
    <workdir>/filtered/          kept rows after the filters
    <workdir>/near_deduped/      kept rows after MinHash near-dedup (input of the split)
    <workdir>/near_dup_clusters/ one row per file in a near-duplicate cluster
    <workdir>/clean/train/       final Parquet shards
    <workdir>/clean/valid/
    <workdir>/rejected/reason=<code>/   every dropped row, with `reason` as partition column
    <workdir>/funnel.json        files and bytes per stage and reason; they add up
    <workdir>/stats/             duplication statistics (dataprep.stats)
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dataprep.cli import option
from dataprep.exact_dedup import EXACT_DEDUP_REASONS, exact_dedup
from dataprep.filters import FILTER_REASONS, FilterConfig, codex_filters, skipped_filters
from dataprep.funnel import build_funnel
from dataprep.near_dedup.stage import NEAR_DEDUP_REASONS, NearDedupConfig, near_dedup
from dataprep.read import READ_REASONS, ReadConfig, read_dump
from dataprep.split import SplitConfig, write_splits
from dataprep.stage_output import finished_stage, run_stage, write_table
from dataprep.stats import write_stats
from dataprep.storage import Storage


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a pipeline run depends on."""

    read: ReadConfig
    workdir: str = option(help="working folder (local path or Hadoop URI) for all outputs")
    filters: FilterConfig = field(default_factory=FilterConfig)
    near: NearDedupConfig = field(default_factory=NearDedupConfig)
    near_dedup: bool = option(True, help="run MinHash near-dedup after the filters (as CodeParrot)")
    split: SplitConfig = field(default_factory=SplitConfig)
    stats: bool = option(True, help="write duplication statistics to <workdir>/stats at the end")
    overwrite: bool = option(
        False, help="replace outputs that were made with another configuration"
    )


def run_pipeline(spark: SparkSession, config: PipelineConfig) -> dict:
    """Run (or resume) every stage into the workdir; return the funnel, also in funnel.json."""
    storage = Storage(spark)
    workdir = config.workdir.rstrip("/")
    timings = {}

    started = time.time()
    prepare_config = {
        "input": storage.qualify(config.read.input),
        "read": dataclasses.asdict(config.read) | {"input": None},
        "filters": dataclasses.asdict(config.filters),
    }
    filtered = f"{workdir}/filtered"
    prepared = run_stage(
        spark,
        lambda: codex_filters(exact_dedup(read_dump(spark, config.read)), config.filters),
        output=filtered,
        rejected=f"{workdir}/rejected",
        reasons=READ_REASONS + EXACT_DEDUP_REASONS + FILTER_REASONS,
        config=prepare_config,
        overwrite=config.overwrite,
        upstream=storage.fingerprint(config.read.input),
    )
    timings["read_dedup_filter"] = round(time.time() - started, 2)
    records, kept, skipped = (
        [prepared],
        filtered,
        {"filters": list(skipped_filters(config.filters))},
    )

    if config.near_dedup:
        started = time.time()
        records.append(_near_dedup_stage(spark, config, workdir, prepared["run_id"]))
        kept = f"{workdir}/near_deduped"
        timings["near_dedup"] = round(time.time() - started, 2)
    else:
        skipped["near_dedup"] = ["near_duplicate"]

    started = time.time()
    clean = f"{workdir}/clean"
    split_config = {"split": dataclasses.asdict(config.split), "seed": config.filters.seed}
    upstream = records[-1]["run_id"]
    split = finished_stage(storage, clean, split_config, upstream, config.overwrite)
    if split is None:
        split = write_splits(
            spark,
            kept,
            clean,
            config.split,
            seed=config.filters.seed,
            record={"config": split_config, "upstream": upstream},
        )
    timings["split"] = round(time.time() - started, 2)

    funnel = build_funnel(records, split["counts"], skipped)
    if config.near_dedup:
        funnel["near_dedup"] = records[-1].get("details", {})
    funnel["seconds"] = timings
    storage.write_text(f"{workdir}/funnel.json", json.dumps(funnel, indent=2) + "\n")
    if config.stats:
        # The statistics read funnel.json, so they come after it; then it records them.
        started = time.time()
        funnel["stats"] = write_stats(spark, workdir)
        timings["stats"] = round(time.time() - started, 2)
        storage.write_text(f"{workdir}/funnel.json", json.dumps(funnel, indent=2) + "\n")
    return funnel


def _near_dedup_stage(
    spark: SparkSession, config: PipelineConfig, workdir: str, upstream: str
) -> dict:
    """Near-dedup `<workdir>/filtered` into `<workdir>/near_deduped`, clusters beside it."""
    details: dict = {}

    def build() -> DataFrame:
        # The kept rows of a stage carry no `reason`: every one of them is live.
        filtered = spark.read.parquet(f"{workdir}/filtered").withColumn(
            "reason", F.lit(None).cast("string")
        )
        result = near_dedup(filtered, config.near)
        write_table(spark, result.clusters, f"{workdir}/near_dup_clusters")
        details.update(result.stats)
        return result.rows

    return run_stage(
        spark,
        build,
        output=f"{workdir}/near_deduped",
        rejected=f"{workdir}/rejected",
        reasons=NEAR_DEDUP_REASONS,
        config={"near": dataclasses.asdict(config.near)},
        overwrite=config.overwrite,
        upstream=upstream,
        details=details,
    )
