"""How jobs report what the filesystem refused: one line and a status, not a Py4J stack."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JJavaError

from dataprep.session import filesystem_errors
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
