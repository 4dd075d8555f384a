"""MinHash near-dedup alone, on a raw dump or on Parquet from an earlier stage.

    spark-submit jobs/near_dedup.py --input work/demo/filtered --output work/nd --no-exact-dedup
    spark-submit jobs/near_dedup.py --input work/demo/raw --output work/nd --threshold 0.8

Files are compared as CodeParrot did (token sets, Jaccard >= 0.85, 256 permutations); a file
is removed only when a kept file is a verified near-duplicate of it. Kept rows go to
--output with `near_copies`; removed ones to <output>_rejected/reason=near_duplicate/ with the
`kept_id` of the file they resemble; one row per clustered file to <output>_clusters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from dataprep.cli import option, recorded_settings
from dataprep.exact_dedup import EXACT_DEDUP_REASONS, exact_dedup
from dataprep.funnel import warn_if_nothing_kept
from dataprep.near_dedup.stage import NEAR_DEDUP_REASONS, NearDedupConfig, near_dedup
from dataprep.read import READ_REASONS, ReadConfig, read_dump, read_record
from dataprep.session import run_job
from dataprep.stage_output import StageOutput, run_stage, write_table
from dataprep.storage import Storage


@dataclass(frozen=True)
class NearDedupJob:
    """Settings of the near-dedup job."""

    read: ReadConfig
    out: StageOutput
    near: NearDedupConfig = field(default_factory=NearDedupConfig)
    exact_dedup: bool = option(
        True, help="exact-dedup first (CodeParrot's order); --no-exact-dedup for input that was"
    )
    clusters: str | None = option(
        None, help="folder for the clusters table (default: <output>_clusters)"
    )


def main(spark: SparkSession, job: NearDedupJob) -> None:
    """Run near-dedup (after exact dedup unless told otherwise) and print what it found."""
    clusters = job.clusters or f"{job.out.output.rstrip('/')}_clusters"
    details: dict = {}

    def build() -> DataFrame:
        rows = read_dump(spark, job.read)
        if job.exact_dedup:
            # Sketching and the final write both read these rows: compute them once.
            rows = exact_dedup(rows).persist(StorageLevel.MEMORY_AND_DISK)
        result = near_dedup(rows, job.near)
        write_table(spark, result.clusters, clusters, owner=job.out.output)
        details.update(result.stats)
        return result.rows

    record = run_stage(
        spark,
        build,
        output=job.out.output,
        rejected=job.out.rejected_dir(),
        reasons=READ_REASONS + EXACT_DEDUP_REASONS + NEAR_DEDUP_REASONS,
        config={
            **read_record(spark, job.read),
            "near": recorded_settings(job.near),
            "exact_dedup": job.exact_dedup,
            "clusters": Storage(spark).qualify(clusters),
        },
        overwrite=job.out.overwrite,
        upstream=Storage(spark).fingerprint(job.read.input),
        source=job.read.input,
        details=details,
        also_writes=(clusters,),
    )
    print(json.dumps({"counts": record["counts"], **record.get("details", {})}, indent=2))
    warn_if_nothing_kept(record["counts"])


if __name__ == "__main__":
    run_job(main, NearDedupJob, __doc__, "codeparrot-near-dedup")
