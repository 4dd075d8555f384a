"""Writing a stage: routing by reason, counts, atomic replace, ownership of rejected rows."""

from __future__ import annotations

import pytest

from dataprep.cli import UsageError
from dataprep.stage_output import (
    ConfigMismatch,
    StageOutput,
    config_changes,
    remove_stage,
    run_stage,
    write_table,
)
from dataprep.storage import Storage

SCHEMA = "id long, content string, raw binary, reason string"


def _rows(spark, reasons):
    return spark.createDataFrame([(i, f"x{i}", None, r) for i, r in enumerate(reasons)], SCHEMA)


def _run(spark, rows, output, rejected, config=None, source=None, build=None, **options):
    return run_stage(
        spark,
        build or (lambda: rows),
        output=str(output),
        rejected=str(rejected),
        reasons=("a", "b"),
        config=config or {"k": 1},
        overwrite=options.pop("overwrite", False),
        source=source,
        **options,
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


def test_outputs_overlapping_the_input_are_refused(spark, tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    (source / "keep.json").write_text("{}")
    rows = _rows(spark, [None])
    for output, rejected in (
        (source, tmp_path / "rej"),  # the input replaced by its own output
        (source / "out", tmp_path / "rej"),  # an output a rerun would read as input
        (tmp_path / "out", tmp_path),  # rejected rows around the input
    ):
        with pytest.raises(UsageError, match="overlaps the input"):
            _run(spark, rows, output, rejected, source=f"{source}/")
    # A glob's folder, replaced by an output, would go with the files the glob reads.
    with pytest.raises(UsageError, match="overlaps the input"):
        _run(spark, rows, source, tmp_path / "rej", source=f"{source}/*.json")
    assert [p.name for p in source.iterdir()] == ["keep.json"]
    # Beside the input, or under a glob of it, is fine.
    _run(spark, rows, tmp_path / "out", tmp_path / "rej", source=str(source))
    _run(spark, rows, source / "out2", tmp_path / "rej2", source=f"{source}/*.json")


def test_outputs_overlapping_each_other_are_refused(spark, tmp_path):
    rows = _rows(spark, [None, "a"])
    with pytest.raises(UsageError, match="overlap: each output of a stage needs a folder"):
        _run(spark, rows, tmp_path / "out", tmp_path / "out")  # kept and rejected rows mixed
    with pytest.raises(UsageError, match="overlap"):
        _run(
            spark, rows, tmp_path / "out", tmp_path / "rej", also_writes=(str(tmp_path / "out/c"),)
        )
    assert not (tmp_path / "out").exists()


def test_an_output_holding_other_files_is_left_alone_without_overwrite(spark, tmp_path):
    output = tmp_path / "mine"
    (output / "sub").mkdir(parents=True)
    (output / "sub" / "notes.txt").write_text("a user's notes")
    rows = _rows(spark, [None, "a"])
    with pytest.raises(UsageError, match="already holds files that no stage wrote"):
        _run(spark, rows, output, tmp_path / "rej")
    assert (output / "sub" / "notes.txt").read_text() == "a user's notes"
    _run(spark, rows, output, tmp_path / "rej", overwrite=True)
    assert not (output / "sub").exists()
    assert spark.read.parquet(str(output)).count() == 1
    # An empty folder made beforehand, and the stage's own earlier output, are fine.
    (tmp_path / "empty").mkdir()
    _run(spark, rows, tmp_path / "empty", tmp_path / "rej2")
    _run(spark, rows, output, tmp_path / "rej", config={"k": 2}, overwrite=True)


def test_a_finished_stage_is_reused_and_says_so(spark, tmp_path, capsys):
    first = _run(spark, _rows(spark, [None, "a"]), tmp_path / "out", tmp_path / "rej")
    again = _run(spark, _rows(spark, [None]), tmp_path / "out", tmp_path / "rej")
    assert again["run_id"] == first["run_id"]
    assert "done before with these settings and input; reused" in capsys.readouterr().err


def test_rejected_rows_asked_for_elsewhere_rerun_the_stage(spark, tmp_path):
    rows = _rows(spark, [None, "a", "b"])
    first = _run(spark, rows, tmp_path / "out", tmp_path / "rej")
    again = _run(spark, rows, tmp_path / "out", tmp_path / "moved")
    assert again["run_id"] != first["run_id"]
    assert sorted(r.id for r in spark.read.parquet(str(tmp_path / "moved")).collect()) == [1, 2]
    assert not (tmp_path / "rej" / "reason=a").exists()  # the earlier copy is not left behind


def test_config_changes_name_the_settings_that_differ():
    then = {"input": "a", "read": {"max": 1, "fmt": "json"}, "seed": 0}
    now = {"input": "a", "read": {"max": 2, "fmt": "json"}, "seed": 0, "new": True}
    assert config_changes(then, now) == {"new": (None, True), "read.max": (1, 2)}
    assert config_changes(then, then) == {}


def test_folders_a_stage_writes_besides_are_guarded_as_its_output(spark, tmp_path):
    rows = _rows(spark, [None, "a"])
    extra = tmp_path / "clusters"

    def build():
        spark.range(3).write.mode("overwrite").parquet(str(extra))
        return rows

    def run(output, rejected="rej", **options):
        return _run(
            spark, rows, tmp_path / output, tmp_path / rejected, build=build,
            also_writes=(str(extra),), **options,
        )  # fmt: skip

    extra.mkdir()
    (extra / "notes.txt").write_text("a user's notes")
    with pytest.raises(UsageError, match="already holds files that no stage wrote"):
        run("out")
    assert (extra / "notes.txt").exists()
    run("out", overwrite=True)
    run("out", config={"k": 2}, overwrite=True)  # its own folder, written again
    run("out", config={"k": 2}, upstream="changed input")  # ... as its input changed
    # Another stage's rejected rows are found before the build writes anything.
    (extra / "_SUCCESS").unlink()
    before = sorted(p.name for p in extra.iterdir())
    with pytest.raises(ConfigMismatch, match="own --rejected"):
        run("other", overwrite=True)
    assert sorted(p.name for p in extra.iterdir()) == before


def test_a_removed_stage_takes_its_rejected_rows_and_folders(spark, tmp_path):
    storage = Storage(spark)
    rows = _rows(spark, [None, "a", "b"])
    _run(spark, rows, tmp_path / "first", tmp_path / "rej", config={"first": 1})
    extra = tmp_path / "extra"
    extra.mkdir()
    assert remove_stage(storage, str(tmp_path / "first"), str(tmp_path / "rej"), ("a", "b"),
                        also_writes=(str(extra),))  # fmt: skip
    assert not (tmp_path / "first").exists() and not extra.exists()
    assert not (tmp_path / "rej" / "reason=a").exists()
    # A folder that no stage wrote is not a stage: nothing is removed.
    (tmp_path / "mine").mkdir()
    assert not remove_stage(storage, str(tmp_path / "mine"), str(tmp_path / "rej"), ("a",))
    assert (tmp_path / "mine").exists()


def test_a_run_killed_while_replacing_its_output_is_redone_by_the_next(
    spark, tmp_path, monkeypatch
):
    rows = _rows(spark, [None, "a", None])
    _run(spark, rows, tmp_path / "out", tmp_path / "rej")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    # Killed after its scratch folder was written, and again after the new rows moved in.
    for step in ("move_table", "mark_done"):
        with monkeypatch.context() as patch:
            patch.setattr(f"dataprep.stage_output.{step}", killed)
            with pytest.raises(KeyboardInterrupt):
                _run(
                    spark, rows, tmp_path / "out", tmp_path / "rej", config={"k": 2}, overwrite=True
                )
    # Neither is taken for files no stage wrote, and nothing the killed runs left stays.
    _run(spark, rows, tmp_path / "out", tmp_path / "rej", config={"k": 2})
    assert spark.read.parquet(str(tmp_path / "out")).count() == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("_tmp")]


def test_a_run_killed_after_writing_a_folder_besides_is_redone_without_overwrite(spark, tmp_path):
    rows = _rows(spark, [None, "a"])
    extra = tmp_path / "clusters"

    def build(output, killed=False):
        def write_then_die():
            write_table(spark, spark.range(3), str(extra), owner=str(tmp_path / output))
            if killed:
                raise KeyboardInterrupt("killed before the rows were written")
            return rows

        return write_then_die

    def run(output, **options):
        return _run(
            spark, rows, tmp_path / output, tmp_path / "rej", also_writes=(str(extra),),
            build=build(output, **options),
        )  # fmt: skip

    with pytest.raises(KeyboardInterrupt):
        run("out", killed=True)
    assert not (tmp_path / "out").exists() and extra.exists()
    run("out")  # its own folder: no --overwrite needed
    assert spark.read.parquet(str(extra)).count() == 3
    # A folder written for another output is still not this stage's to replace.
    with pytest.raises(UsageError, match="already holds files that no stage wrote"):
        _run(spark, rows, tmp_path / "other", tmp_path / "rej2", also_writes=(str(extra),))
