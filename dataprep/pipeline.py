"""The whole flow in one Spark application: read -> exact dedup -> filters -> split -> shards.

Workdir layout:
    <workdir>/filtered/          kept rows after the filters (input of later stages)
    <workdir>/clean/train/       final Parquet shards
    <workdir>/clean/valid/
    <workdir>/rejected/reason=<code>/   every dropped row, with `reason` as partition column
    <workdir>/funnel.json        files and bytes per stage and reason; they add up
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from dataprep.cli import option
from dataprep.exact_dedup import EXACT_DEDUP_REASONS, exact_dedup
from dataprep.filters import FILTER_REASONS, FilterConfig, codex_filters, skipped_filters
from dataprep.funnel import build_funnel
from dataprep.read import READ_REASONS, ReadConfig, read_dump
from dataprep.split import SplitConfig, write_splits
from dataprep.stage_output import finished_stage, run_stage
from dataprep.storage import Storage


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a pipeline run depends on."""

    read: ReadConfig
    workdir: str = option(help="working folder (local path or Hadoop URI) for all outputs")
    filters: FilterConfig = field(default_factory=FilterConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
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

    started = time.time()
    clean = f"{workdir}/clean"
    split_config = {"split": dataclasses.asdict(config.split), "seed": config.filters.seed}
    split = finished_stage(storage, clean, split_config, prepared["run_id"], config.overwrite)
    if split is None:
        split = write_splits(
            spark,
            filtered,
            clean,
            config.split,
            seed=config.filters.seed,
            record={"config": split_config, "upstream": prepared["run_id"]},
        )
    timings["split"] = round(time.time() - started, 2)

    funnel = build_funnel(prepared, split["counts"], list(skipped_filters(config.filters)))
    funnel["seconds"] = timings
    storage.write_text(f"{workdir}/funnel.json", json.dumps(funnel, indent=2) + "\n")
    return funnel
