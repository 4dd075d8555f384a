"""The whole flow in one Spark application: read -> exact dedup -> decontamination ->
filters -> near dedup -> split -> shards.

Workdir layout:
    <workdir>/filtered/          kept rows after the filters
    <workdir>/near_deduped/      kept rows after MinHash near-dedup (input of the split)
    <workdir>/near_dup_clusters/ one row per file in a near-duplicate cluster
    <workdir>/clean/train/       final Parquet shards
    <workdir>/clean/valid/
    <workdir>/rejected/reason=<code>/   every dropped row, with `reason` as partition column
    <workdir>/funnel.json        files and bytes per stage and reason; they add up
    <workdir>/stats/             duplication statistics (dataprep.stats)
    <workdir>/tokenizer/         with --train-tokenizer: the tokenizer of the ratio filter,
    <workdir>/first_pass/        trained on the kept rows of a first pass without that filter
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dataprep.cli import UsageError, check_options, option, recorded_settings
from dataprep.decontaminate import DECONTAMINATION_REASONS, decontaminate
from dataprep.exact_dedup import EXACT_DEDUP_REASONS, exact_dedup
from dataprep.features import TOKENIZER_JSON
from dataprep.filters import (
    FILTER_REASONS,
    FilterConfig,
    codex_filters,
    filters_upstream,
    skipped_filters,
)
from dataprep.funnel import build_funnel
from dataprep.near_dedup.stage import NEAR_DEDUP_REASONS, NearDedupConfig, near_dedup
from dataprep.read import READ_REASONS, ReadConfig, read_dump, read_record
from dataprep.split import SplitConfig, write_splits
from dataprep.stage_output import (
    ConfigMismatch,
    finished_stage,
    refuse_foreign,
    refuse_overlap,
    remove_stage,
    run_stage,
    write_table,
)
from dataprep.stats import MADE_FROM, stats_source, write_stats
from dataprep.storage import Storage
from dataprep.tokenizer import MIN_VOCAB_SIZE, N_EXAMPLES, VOCAB_SIZE, train_tokenizer
from dataprep.units import parse_size


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a pipeline run depends on."""

    read: ReadConfig
    workdir: str = option(help="working folder (local path or Hadoop URI) for all outputs")
    filters: FilterConfig = field(default_factory=FilterConfig)
    near: NearDedupConfig = field(default_factory=NearDedupConfig)
    decontaminate: bool = option(
        True, help="drop files that contain a HumanEval problem (reason benchmark_contamination)"
    )
    near_dedup: bool = option(True, help="run MinHash near-dedup after the filters (as CodeParrot)")
    split: SplitConfig = field(default_factory=SplitConfig)
    stats: bool = option(True, help="write duplication statistics to <workdir>/stats at the end")
    train_tokenizer: bool = option(
        False,
        help="two-pass recipe: read, dedup and filter without the char_token_ratio filter into "
        "<workdir>/first_pass, train <workdir>/tokenizer on the kept files, then run the "
        "pipeline with that tokenizer (local workdir; excludes --tokenizer)",
    )
    tokenizer_vocab_size: int = option(
        VOCAB_SIZE,
        help="vocabulary of --train-tokenizer's tokenizer",
        minimum=MIN_VOCAB_SIZE,
    )
    tokenizer_examples: int = option(
        N_EXAMPLES, help="files --train-tokenizer trains on, at most", minimum=1
    )
    overwrite: bool = option(
        False, help="replace outputs that were made with another configuration"
    )

    def __post_init__(self) -> None:
        check_options(self)
        if any(c in self.workdir for c in "*?[]{}"):
            raise ValueError(
                f"--workdir {self.workdir} holds a glob character (*?[]{{}}): Spark's readers "
                "would take its folders for patterns"
            )
        if self.train_tokenizer and self.filters.tokenizer:
            raise ValueError(
                "--train-tokenizer trains the ratio filter's tokenizer; drop --tokenizer"
            )


# What the pipeline writes in its workdir (the layout above); the input may lie beside them.
_WORKDIR_OUTPUTS = (
    "filtered", "near_deduped", "near_dup_clusters", "clean", "rejected", "funnel.json",
    "stats", "tokenizer", "first_pass",
)  # fmt: skip


def run_pipeline(spark: SparkSession, config: PipelineConfig) -> dict:
    """Run (or resume) every stage into the workdir; return the funnel, also in funnel.json."""
    storage = Storage(spark)
    workdir = config.workdir.rstrip("/")
    # Before any work: a later stage replacing its folder must not delete the input.
    refuse_overlap(storage, config.read.input, [f"{workdir}/{n}" for n in _WORKDIR_OUTPUTS])
    timings = {}

    if config.train_tokenizer:
        started = time.time()
        config = _with_trained_tokenizer(spark, config, workdir)
        timings["first_pass_and_tokenizer"] = round(time.time() - started, 2)

    started = time.time()
    filtered = f"{workdir}/filtered"
    prepared = _prepare_stage(spark, config, workdir)
    timings["read_dedup_filter"] = round(time.time() - started, 2)
    records, kept, skipped = (
        [prepared],
        filtered,
        {"filters": list(skipped_filters(config.filters))},
    )
    if not config.decontaminate:
        skipped["decontaminate"] = list(DECONTAMINATION_REASONS)

    if config.near_dedup:
        started = time.time()
        records.append(_near_dedup_stage(spark, config, workdir, prepared["run_id"]))
        kept = _near_dedup_outputs(workdir)[0]
        timings["near_dedup"] = round(time.time() - started, 2)
    else:
        skipped["near_dedup"] = ["near_duplicate"]
        near, rejected, clusters = _near_dedup_outputs(workdir)
        if remove_stage(storage, near, rejected, NEAR_DEDUP_REASONS, also_writes=(clusters,)):
            print(
                f"{workdir}: removed an earlier run's near dedup (its rows, near_duplicate "
                "rejections and clusters), which --no-near-dedup leaves out",
                file=sys.stderr,
            )

    started = time.time()
    clean = f"{workdir}/clean"
    # The shard size as bytes: 64MB and 64000000 are one configuration.
    split_settings = dataclasses.asdict(config.split)
    split_settings["shard_size"] = parse_size(config.split.shard_size)
    split_config = {"split": split_settings, "seed": config.filters.seed}
    upstream = records[-1]["run_id"]
    split = finished_stage(storage, clean, split_config, upstream, config.overwrite)
    if split is None:
        refuse_foreign(storage, clean, config.overwrite)
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
    else:
        _drop_stale_stats(storage, workdir)
    return funnel


def _drop_stale_stats(storage: Storage, workdir: str) -> None:
    """Delete earlier statistics unless they describe the tables this run left."""
    stats = f"{workdir}/stats"
    marker = f"{stats}/{MADE_FROM}"
    if not storage.exists(stats):
        return
    if storage.exists(marker) and storage.read_json(marker) == stats_source(storage, workdir):
        return
    storage.delete(stats)
    print(
        f"{workdir}: removed an earlier run's statistics, which no longer describe the workdir "
        "(--no-stats computes none)",
        file=sys.stderr,
    )


def _prepare_stage(spark: SparkSession, config: PipelineConfig, workdir: str) -> dict:
    """Read, exact-dedup and filter the dump into `<workdir>/filtered` and `<workdir>/rejected`."""
    storage = Storage(spark)

    def build() -> DataFrame:
        rows = exact_dedup(read_dump(spark, config.read))
        if config.decontaminate:
            rows = decontaminate(rows)
        return codex_filters(rows, config.filters)

    return run_stage(
        spark,
        build,
        output=f"{workdir}/filtered",
        rejected=f"{workdir}/rejected",
        reasons=READ_REASONS + EXACT_DEDUP_REASONS + DECONTAMINATION_REASONS + FILTER_REASONS,
        config={
            **read_record(spark, config.read),
            "decontaminate": config.decontaminate,
            "filters": recorded_settings(config.filters),
        },
        overwrite=config.overwrite,
        upstream=filters_upstream(storage.fingerprint(config.read.input), config.filters),
        source=config.read.input,
    )


# Beside a tokenizer the pipeline trained: the first pass and settings it was trained with.
_TRAINED_ON = "_trained_on.json"


def _with_trained_tokenizer(
    spark: SparkSession, config: PipelineConfig, workdir: str
) -> PipelineConfig:
    """The two-pass recipe's first pass: `config` with a tokenizer trained on pre-filtered files.

    The ratio filter needs a tokenizer of the data it filters; the kept files of a pass with
    every other filter are that data, so the tokenizer is trained on them; a rerun reuses it
    when the first pass was reused and the tokenizer settings are the same, else trains again.
    """
    qualified = Storage(spark).qualify(workdir)
    if not qualified.startswith("file:"):
        raise UsageError(
            f"--train-tokenizer needs a local workdir, not {qualified}: train with "
            "jobs/train_tokenizer.py on a first pass and give the pipeline --tokenizer"
        )
    local = Path(qualified.removeprefix("file:"))
    tokenizer = local / "tokenizer"
    settings = {"vocab_size": config.tokenizer_vocab_size, "n_examples": config.tokenizer_examples}
    provenance = tokenizer / _TRAINED_ON
    before = json.loads(provenance.read_text()) if provenance.exists() else None
    # Checked before the first pass runs, as a stage checks its settings before its work.
    if (tokenizer / TOKENIZER_JSON).exists() and not config.overwrite:
        if before is None:
            raise UsageError(
                f"{tokenizer} holds a tokenizer that --train-tokenizer did not train there: "
                "--overwrite to train one in its place, or choose another --workdir"
            )
        if before["settings"] != settings:
            raise ConfigMismatch(
                f"{tokenizer} was trained with other settings ({before['settings']} then, "
                f"{settings} now). Rerun with --overwrite to replace it, or choose another "
                "--workdir."
            )
    first_pass = _prepare_stage(spark, config, f"{workdir}/first_pass")
    # Trained again when the first pass ran again (its input changed), as a stage would be.
    trained_on = {"first_pass": first_pass["run_id"], "settings": settings}
    if before != trained_on:
        shutil.rmtree(tokenizer, ignore_errors=True)
        train_tokenizer(
            local / "first_pass" / "filtered",
            tokenizer,
            vocab_size=config.tokenizer_vocab_size,
            n_examples=config.tokenizer_examples,
        )
        provenance.write_text(json.dumps(trained_on) + "\n")
    return dataclasses.replace(
        config,
        train_tokenizer=False,
        filters=dataclasses.replace(config.filters, tokenizer=str(tokenizer)),
    )


def _near_dedup_outputs(workdir: str) -> tuple[str, str, str]:
    """Where the near-dedup stage writes: its kept rows, the rejected rows, its clusters."""
    return f"{workdir}/near_deduped", f"{workdir}/rejected", f"{workdir}/near_dup_clusters"


def _near_dedup_stage(
    spark: SparkSession, config: PipelineConfig, workdir: str, upstream: str
) -> dict:
    """Near-dedup `<workdir>/filtered` into `<workdir>/near_deduped`, clusters beside it."""
    output, rejected, clusters = _near_dedup_outputs(workdir)
    details: dict = {}

    def build() -> DataFrame:
        # The kept rows of a stage carry no `reason`: every one of them is live.
        filtered = spark.read.parquet(f"{workdir}/filtered").withColumn(
            "reason", F.lit(None).cast("string")
        )
        result = near_dedup(filtered, config.near)
        write_table(spark, result.clusters, clusters, owner=output)
        details.update(result.stats)
        return result.rows

    return run_stage(
        spark,
        build,
        output=output,
        rejected=rejected,
        reasons=NEAR_DEDUP_REASONS,
        config={"near": recorded_settings(config.near)},
        overwrite=config.overwrite,
        upstream=upstream,
        details=details,
        also_writes=(clusters,),
    )
