"""Codex-style filters alone, on a raw dump or on Parquet from an earlier stage.

    spark-submit jobs/filter.py --input work/dedup/deduped --output work/dedup/filtered

Kept rows gain CodeParrot's feature columns (line_mean, line_max, alpha_frac, ...); each
rejected row goes to <output>_rejected/reason=<code>/ under the first filter it fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pyspark.sql import SparkSession

from dataprep.cli import recorded_settings
from dataprep.filters import (
    FILTER_REASONS,
    FilterConfig,
    codex_filters,
    filters_upstream,
    skipped_filters,
)
from dataprep.funnel import warn_if_nothing_kept
from dataprep.read import READ_REASONS, ReadConfig, read_dump, read_record
from dataprep.session import run_job
from dataprep.stage_output import StageOutput, run_stage
from dataprep.storage import Storage


@dataclass(frozen=True)
class FilterJob:
    """Settings of the filter job."""

    read: ReadConfig
    out: StageOutput
    filters: FilterConfig = field(default_factory=FilterConfig)


def main(spark: SparkSession, job: FilterJob) -> None:
    """Run the filters and print the counts per reason."""
    record = run_stage(
        spark,
        lambda: codex_filters(read_dump(spark, job.read), job.filters),
        output=job.out.output,
        rejected=job.out.rejected_dir(),
        reasons=READ_REASONS + FILTER_REASONS,
        config={**read_record(spark, job.read), "filters": recorded_settings(job.filters)},
        overwrite=job.out.overwrite,
        upstream=filters_upstream(Storage(spark).fingerprint(job.read.input), job.filters),
        source=job.read.input,
    )
    print(json.dumps(record["counts"], indent=2))
    warn_if_nothing_kept(record["counts"])
    if skipped := skipped_filters(job.filters):
        print(f"skipped (no --tokenizer): {', '.join(skipped)}")


if __name__ == "__main__":
    run_job(main, FilterJob, __doc__, "codeparrot-filter")
