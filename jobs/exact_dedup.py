"""Exact dedup alone: read a raw dump and keep one file per whitespace-free content.

    spark-submit jobs/exact_dedup.py --input work/demo/raw --output work/dedup/deduped

Kept rows (with `hash`, `id`, `exact_copies`) go to --output as Parquet; duplicates and
unreadable rows go to <output>_rejected/reason=<code>/ with `kept_id` pointing at the kept copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import SparkSession

from dataprep.exact_dedup import EXACT_DEDUP_REASONS, exact_dedup
from dataprep.funnel import warn_if_nothing_kept
from dataprep.read import READ_REASONS, ReadConfig, read_dump, read_record
from dataprep.session import run_job
from dataprep.stage_output import StageOutput, run_stage
from dataprep.storage import Storage


@dataclass(frozen=True)
class ExactDedupJob:
    """Settings of the exact dedup job."""

    read: ReadConfig
    out: StageOutput


def main(spark: SparkSession, job: ExactDedupJob) -> None:
    """Run exact dedup and print the counts per reason."""
    record = run_stage(
        spark,
        lambda: exact_dedup(read_dump(spark, job.read)),
        output=job.out.output,
        rejected=job.out.rejected_dir(),
        reasons=READ_REASONS + EXACT_DEDUP_REASONS,
        config=read_record(spark, job.read),
        overwrite=job.out.overwrite,
        upstream=Storage(spark).fingerprint(job.read.input),
        source=job.read.input,
    )
    print(json.dumps(record["counts"], indent=2))
    warn_if_nothing_kept(record["counts"])


if __name__ == "__main__":
    run_job(main, ExactDedupJob, __doc__, "codeparrot-exact-dedup")
