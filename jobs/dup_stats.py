"""Duplication statistics of a pipeline workdir: how concentrated the exact duplicates are.

    spark-submit jobs/dup_stats.py --workdir work/demo

Reads <workdir>/filtered, <workdir>/rejected, <workdir>/near_dup_clusters and funnel.json
(as jobs/pipeline.py leaves them) and writes <workdir>/stats/: Parquet tables (concentration,
copies_histogram, cluster_sizes, funnel, top_files, top_repos), summary.json and PNG plots.
In Python, `dataprep.stats.load_stats(workdir)` reads them back with pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from dataprep.cli import option
from dataprep.session import run_job
from dataprep.stats import format_headline, write_stats


@dataclass(frozen=True)
class DupStatsJob:
    """Settings of the duplication statistics job."""

    workdir: str = option(help="pipeline working folder (local path or Hadoop URI)")


def main(spark: SparkSession, job: DupStatsJob) -> None:
    """Write <workdir>/stats and print the headline numbers beside CodeParrot's."""
    summary = write_stats(spark, job.workdir)
    print(format_headline(summary, f"{job.workdir.rstrip('/')}/stats"))


if __name__ == "__main__":
    run_job(main, DupStatsJob, __doc__, "codeparrot-dup-stats")
