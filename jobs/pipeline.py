"""Run the data pipeline end to end: read -> exact dedup -> Codex filters -> train/valid shards.

    spark-submit jobs/pipeline.py --input work/demo/raw --workdir work/demo
    spark-submit --master spark://host:7077 jobs/pipeline.py --input s3a://bucket/dump --workdir ...

Outputs under the workdir: clean/train, clean/valid (Parquet, zstd), rejected/reason=<code>/,
filtered/ (kept rows before the split) and funnel.json. A rerun skips finished stages; a rerun
with other settings is refused unless --overwrite is given.
"""

from __future__ import annotations

import time

from pyspark.sql import SparkSession

from dataprep.cli import parse_config
from dataprep.funnel import format_funnel
from dataprep.pipeline import PipelineConfig, run_pipeline
from dataprep.session import spark_session


def main(spark: SparkSession, config: PipelineConfig) -> None:
    """Run the pipeline and print its funnel."""
    started = time.time()
    funnel = run_pipeline(spark, config)
    print(format_funnel(funnel))
    print(f"done in {time.time() - started:.1f}s; funnel: {config.workdir}/funnel.json")


if __name__ == "__main__":
    config = parse_config(PipelineConfig, __doc__)
    spark = spark_session("codeparrot-pipeline")
    try:
        main(spark, config)
    finally:
        spark.stop()
