"""How jobs report what the filesystem refused (one line and a status, not a Py4J stack) and
clean up after themselves."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JJavaError

from dataprep.session import checkpoint, filesystem_errors, remove_checkpoints
from dataprep.storage import Storage


def test_a_path_under_a_file_is_one_line(spark, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    with pytest.raises(SystemExit) as exit_, filesystem_errors("job"):
        spark.range(1).write.parquet(str(tmp_path / "afile" / "out"))
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("job: error: ParentNotDirectoryException: ") and "afile" in err
    assert "\n" not in err


def test_a_filesystem_without_its_connector_names_what_to_add(spark, capsys):
    with pytest.raises(SystemExit), filesystem_errors("job"):
        Storage(spark).qualify("s3a://bucket/raw")
    err = capsys.readouterr().err
    assert "S3AFileSystem not found" in err and "--packages" in err


def test_other_java_errors_keep_their_stack(spark):
    with pytest.raises(Py4JJavaError, match="ClassNotFoundException"), filesystem_errors("job"):
        spark.sparkContext._jvm.java.lang.Class.forName("no.such.Thing")


def _python_refusal(spark, path):
    raise OSError(f"permission denied: {path}\n(a long stack)")


def _java_refusal(spark, path):
    spark.sparkContext._jvm.java.lang.Class.forName("no.such.FileSystem")


@pytest.mark.parametrize(
    ("refuse", "reason"),
    [
        (_python_refusal, "permission denied: file:/ckpt/app-uuid"),
        # A Java error is named by its class and message, not Py4J's "An error occurred...".
        (_java_refusal, "java.lang.ClassNotFoundException: no.such.FileSystem"),
    ],
)
def test_checkpoints_that_cannot_be_removed_are_a_warning(
    spark, monkeypatch, capsys, refuse, reason
):
    monkeypatch.setattr(spark.sparkContext, "getCheckpointDir", lambda: "file:/ckpt/app-uuid")
    monkeypatch.setattr(Storage, "delete", lambda storage, path: refuse(spark, path))
    remove_checkpoints(spark, "job")  # does not raise: the job's own outcome stands
    err = capsys.readouterr().err.strip()
    assert err == f"job: warning: could not remove checkpoints in file:/ckpt/app-uuid: {reason}"


def test_checkpoints_are_removed_when_the_session_has_a_folder(spark, monkeypatch, tmp_path):
    folder = tmp_path / "app-uuid"
    (folder / "rdd-1").mkdir(parents=True)
    monkeypatch.setattr(spark.sparkContext, "getCheckpointDir", lambda: folder.as_uri())
    remove_checkpoints(spark, "job")
    assert not folder.exists() and tmp_path.exists()


@pytest.fixture
def checkpoint_folder(spark, tmp_path):
    """The shared session with spark.checkpoint.dir set for one test, unset afterwards."""
    context = spark.sparkContext
    context.setCheckpointDir(str(tmp_path))
    yield tmp_path
    getattr(context._jsc.sc(), "checkpointDir_$eq")(context._jvm.scala.Option.empty())


def _lose_blocks(frame):
    # What a lost executor takes with it: the blocks it stored of the checkpointed rows.
    rdd = frame._jdf.queryExecution().analyzed().rdd()
    frame.sparkSession.sparkContext._jsc.sc().unpersistRDD(rdd.id(), True)


def test_local_checkpoints_are_lost_with_their_blocks(spark):
    saved = checkpoint(spark.range(100).selectExpr("id * 2 AS twice"))
    _lose_blocks(saved)
    with pytest.raises(Py4JJavaError, match=r"Checkpoint block .* not found"):
        saved.count()


def test_checkpoints_in_a_folder_outlive_their_blocks(spark, checkpoint_folder):
    saved = checkpoint(spark.range(100).selectExpr("id * 2 AS twice"))
    _lose_blocks(saved)
    assert sorted(row.twice for row in saved.collect()) == list(range(0, 200, 2))
    assert any(checkpoint_folder.rglob("part-*"))
