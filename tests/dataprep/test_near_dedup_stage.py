"""The near-dedup stage end to end: lossless, deterministic, equal to the local path."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import load_job, raw_row, write_jsonl_gz
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dataprep.cli import UsageError
from dataprep.near_dedup.local import near_dedup_local
from dataprep.near_dedup.shingles import jaccard, tokens
from dataprep.near_dedup.stage import NEAR_DUPLICATE, NearDedupConfig, near_dedup
from dataprep.read import ReadConfig
from dataprep.stage_output import ConfigMismatch, StageOutput
from dataprep.storage import STAGE_INFO


def _rows(spark: SparkSession, corpus: list[tuple[int, str]], partitions: int) -> DataFrame:
    rows = [(i, text, None, None) for i, text in corpus]
    # Rows rejected before this stage must pass untouched, even one sharing a live row's id.
    first_id, first_text = corpus[0]
    rows += [(first_id, first_text, "exact_duplicate", 5), (1, "short", "too_large", None)]
    schema = "id long, content string, reason string, kept_id long"
    return spark.createDataFrame(rows, schema).repartition(partitions)


def _decisions(frame: DataFrame) -> list[tuple]:
    rows = frame.select("id", "reason", "kept_id", "near_copies").collect()
    # Nulls first: an id is on a live row (reason null) and on the rejected one sharing it.
    return sorted((tuple(r) for r in rows), key=lambda row: [(v is not None, v) for v in row])


@pytest.fixture(scope="module")
def result(spark: SparkSession, corpus: list[tuple[int, str]]):
    return near_dedup(_rows(spark, corpus, 3), NearDedupConfig())


def test_removed_files_have_a_verified_kept_neighbour(result, corpus) -> None:
    texts = dict(corpus)
    rows = result.rows.where(F.col("reason").isNull() | (F.col("reason") == NEAR_DUPLICATE))
    decided = {r.id: (r.reason, r.kept_id) for r in rows.collect()}
    removed = {i: k for i, (reason, k) in decided.items() if reason == NEAR_DUPLICATE}
    assert len(removed) >= 20
    for file_id, kept_id in removed.items():
        assert decided[kept_id][0] is None
        similarity = jaccard(set(tokens(texts[file_id])), set(tokens(texts[kept_id])))
        assert similarity >= 0.85


def test_rejected_rows_pass_untouched_and_counts_add_up(result, corpus) -> None:
    rows = result.rows
    assert rows.count() == len(corpus) + 2
    earlier = {
        (r.reason, r.kept_id)
        for r in rows.where("reason in ('exact_duplicate', 'too_large')").collect()
    }
    assert earlier == {("exact_duplicate", 5), ("too_large", None)}
    stats = result.stats
    assert (
        stats["files"] == len(corpus)
        and stats["removed"] == rows.where(F.col("reason") == NEAR_DUPLICATE).count()
    )
    assert stats["largest_cluster"] >= 2
    kept = rows.where(F.col("reason").isNull())
    # Every file is either kept or stands for itself plus the files removed for it.
    assert kept.agg(F.sum("near_copies")).first()[0] == len(corpus)


def test_clusters_table(result) -> None:
    clusters = result.clusters.toPandas()
    sizes = clusters.groupby("cluster_id")["id"].count()
    assert (clusters["cluster_size"] == clusters["cluster_id"].map(sizes)).all()
    assert (clusters.groupby("cluster_id")["id"].min() == sizes.index).all()
    assert (clusters.groupby("cluster_id")["kept"].sum() >= 1).all()
    # The figures observed while the decisions were computed match the table.
    stats = result.stats
    assert stats["clusters"] == len(sizes) and stats["clustered_files"] == len(clusters)
    assert stats["largest_cluster"] == sizes.max()
    assert stats["removed"] == (~clusters["kept"]).sum()
    # Each cluster is connected by verified edges, all of them among the candidates.
    assert len(clusters) - len(sizes) <= stats["verified_edges"] <= stats["candidate_edges"]


def _physical_plan(frame: DataFrame) -> str:
    return frame._jdf.queryExecution().executedPlan().toString()


def test_deterministic_across_partitionings_joins_and_components(spark, corpus, result) -> None:
    # The decisions of a small corpus are broadcast to the rows; with broadcasts off the
    # rows are shuffled to them instead. Its components are found in one task; forced to
    # large-star/small-star rounds, they are the same. Every decision is the same.
    assert "BroadcastHashJoin" in _physical_plan(result.rows)
    assert result.stats["component_rounds"] is None
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    try:
        again = near_dedup(_rows(spark, corpus, 7), NearDedupConfig(one_task_edges=0))
        assert again.stats["component_rounds"] >= 1
        plan = _physical_plan(again.rows)
        assert "BroadcastHashJoin" not in plan and "SortMergeJoin" in plan
    finally:
        spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
    assert _decisions(again.rows) == _decisions(result.rows)


def test_local_path_gives_the_same_decisions(result, corpus) -> None:
    ids, texts = zip(*corpus, strict=True)
    local = near_dedup_local(list(ids), list(texts), NearDedupConfig())
    spark_side = result.clusters.toPandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(local, spark_side, check_dtype=False)


def test_config_errors() -> None:
    with pytest.raises(ValueError, match="go together"):
        NearDedupConfig(bands=4).sketch_spec()
    with pytest.raises(ValueError, match="banding"):
        NearDedupConfig(banding="fast").sketch_spec()
    with pytest.raises(ValueError, match="need more"):
        NearDedupConfig(bands=30, rows=10).sketch_spec()
    assert NearDedupConfig(banding="optimal").sketch_spec().bands == 13
    with pytest.raises(ValueError, match=r"--threshold 0\.01 is too low .* --banding optimal"):
        NearDedupConfig(threshold=0.01)
    assert NearDedupConfig(threshold=0.01, banding="optimal").sketch_spec().bands > 0


def test_files_without_tokens_resemble_nothing() -> None:
    # Two empty token sets would have Jaccard 1: with --min-tokens 0 they were merged.
    texts = ["# \u4f60\u597d\uff0c\u4e16\u754c\u3002", "/* ++ -- */", "x = 1", "x = 1"]
    decided = near_dedup_local([1, 2, 3, 4], texts, NearDedupConfig(min_tokens=0))
    removed = decided.loc[~decided["kept"], "id"].tolist()
    assert removed == [4]  # the one true near duplicate


def test_the_jobs_clusters_folder_is_an_output_of_its_own(spark, tmp_path, corpus) -> None:
    job = load_job("near_dedup.py")
    dump = tmp_path / "dump"
    write_jsonl_gz(dump / "a.json.gz", [raw_row("u/r", f"f{i}.py", t) for i, t in corpus[:40]])

    def run(
        clusters: Path,
        output: str = "near",
        overwrite: bool = False,
        near: NearDedupConfig | None = None,
    ) -> None:
        settings = job.NearDedupJob(
            read=ReadConfig(input=str(dump)),
            out=StageOutput(output=str(tmp_path / output), overwrite=overwrite),
            near=near or NearDedupConfig(),
            clusters=str(clusters),
        )
        job.main(spark, settings)

    run(tmp_path / "c1")
    # Another --clusters is another configuration: refused, then written with --overwrite.
    with pytest.raises(ConfigMismatch, match="clusters: "):
        run(tmp_path / "c2")
    run(tmp_path / "c2", overwrite=True)
    assert spark.read.parquet(str(tmp_path / "c2")).count() > 0
    # How components are found is not part of the configuration: the stage is reused.
    written = json.loads((tmp_path / "near" / STAGE_INFO).read_text())["run_id"]
    run(tmp_path / "c2", near=NearDedupConfig(one_task_edges=0))
    assert json.loads((tmp_path / "near" / STAGE_INFO).read_text())["run_id"] == written
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a user's notes")
    with pytest.raises(UsageError, match="already holds files that no stage wrote"):
        run(mine, output="other")
    assert (mine / "notes.txt").exists()
