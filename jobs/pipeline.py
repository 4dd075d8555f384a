"""Run the data pipeline end to end: read -> exact dedup -> Codex filters -> MinHash near dedup
-> train/valid shards.

    spark-submit jobs/pipeline.py --input work/demo/raw --workdir work/demo
    spark-submit --master spark://host:7077 jobs/pipeline.py --input s3a://bucket/dump --workdir ...

Outputs under the workdir: clean/train, clean/valid (Parquet, zstd), rejected/reason=<code>/,
filtered/ and near_deduped/ (kept rows after those stages), near_dup_clusters/ and funnel.json.
A rerun skips finished stages; a rerun with other settings is refused unless --overwrite is
given.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from dataprep.funnel import format_funnel, warn_if_nothing_kept
from dataprep.pipeline import PipelineConfig, run_pipeline
from dataprep.session import run_job
from dataprep.stats import format_headline


def main(spark: SparkSession, config: PipelineConfig) -> None:
    """Run the pipeline and print its funnel."""
    funnel = run_pipeline(spark, config)
    print(format_funnel(funnel))
    warn_if_nothing_kept(
        {"in": funnel["input"], "kept": funnel["kept"], "rejected": funnel["rejected"]}
    )
    if near := funnel.get("near_dedup"):
        rounds = near["component_rounds"]
        components = "in one task" if rounds is None else f"in {rounds} large/small-star rounds"
        print(
            f"near dedup: {near['bands']} x {near['rows']} bands, "
            f"{near['candidate_edges']:,} candidate edges, {near['verified_edges']:,} verified, "
            f"{near['clusters']:,} clusters (largest {near['largest_cluster']:,}), "
            f"components {components}"
        )
    if "stats" in funnel:
        print(format_headline(funnel["stats"], f"{config.workdir.rstrip('/')}/stats"))
    print(f"funnel: {config.workdir}/funnel.json, shards: {config.workdir}/clean/")


if __name__ == "__main__":
    run_job(main, PipelineConfig, __doc__, "codeparrot-pipeline")
