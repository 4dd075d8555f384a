"""Writing a stage: routing by reason, counts, atomic replace, ownership of rejected rows."""

from __future__ import annotations

import pytest

from dataprep.stage_output import ConfigMismatch, StageOutput, run_stage

SCHEMA = "id long, content string, raw binary, reason string"


def _rows(spark, reasons):
    return spark.createDataFrame([(i, f"x{i}", None, r) for i, r in enumerate(reasons)], SCHEMA)


def _run(spark, rows, output, rejected, config=None):
    return run_stage(
        spark,
        lambda: rows,
        output=str(output),
        rejected=str(rejected),
        reasons=("a", "b"),
        config=config or {"k": 1},
        overwrite=False,
    )


def test_routes_counts_and_marks(spark, tmp_path):
    record = _run(
        spark, _rows(spark, [None, "a", "a", "b", None]), tmp_path / "out", tmp_path / "rej"
    )
    assert record["counts"]["in"] == {"files": 5, "bytes": 10}
    assert record["counts"]["kept"]["files"] == 2
    assert record["counts"]["rejected"] == {
        "a": {"files": 2, "bytes": 4},
        "b": {"files": 1, "bytes": 2},
    }
    assert (tmp_path / "out/_SUCCESS").exists()
    assert sorted(r.id for r in spark.read.parquet(str(tmp_path / "out")).collect()) == [0, 4]
    rejected = spark.read.parquet(str(tmp_path / "rej"))
    assert sorted((r.reason, r.id) for r in rejected.collect()) == [("a", 1), ("a", 2), ("b", 3)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("_tmp")]


def test_nothing_kept_still_leaves_a_readable_table(spark, tmp_path):
    _run(spark, _rows(spark, ["a", "b"]), tmp_path / "out", tmp_path / "rej")
    assert spark.read.parquet(str(tmp_path / "out")).count() == 0


def test_shared_rejected_folder_is_refused(spark, tmp_path):
    _run(spark, _rows(spark, [None, "a"]), tmp_path / "one", tmp_path / "rej")
    with pytest.raises(ConfigMismatch, match="own --rejected"):
        _run(spark, _rows(spark, [None, "a"]), tmp_path / "two", tmp_path / "rej")
    assert spark.read.parquet(str(tmp_path / "rej")).count() == 1


def test_default_rejected_folder_is_per_output():
    assert StageOutput(output="w/deduped/").rejected_dir() == "w/deduped_rejected"
