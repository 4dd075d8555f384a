"""The read stage: formats, bad input with reasons, stable ids, the exact-dedup key."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import raw_row, write_jsonl_gz
from pyspark.sql import functions as F

from dataprep.cli import UsageError
from dataprep.json_lines import CorruptFile, decompressed_blocks
from dataprep.read import ReadConfig, content_hash, read_dump


def test_content_hash_matches_codeparrot_definition(spark):
    every_space = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    texts = ["def f():\n\treturn 1\n", f"a{every_space}b", "é ß 一\u2028x", " ", "\x00\u200b"]
    rows = spark.createDataFrame([(t,) for t in texts], "content string")
    got = [r[0] for r in rows.select(content_hash(F.col("content"))).collect()]
    want = [hashlib.md5(re.sub(r"\s+", "", t).encode("utf-8")).hexdigest() for t in texts]
    assert got == want


def gzip_is_complete(data: bytes) -> bool:
    """Whether decompressed_blocks reads `data` to its end without finding damage."""
    try:
        for _ in decompressed_blocks(data):
            pass
    except CorruptFile:
        return False
    return True


def test_gzip_is_complete():
    whole = gzip.compress(b"x" * 100_000) + gzip.compress(b"second member")
    assert gzip_is_complete(whole)
    assert gzip_is_complete(b"")
    assert not gzip_is_complete(whole[:-20])
    assert not gzip_is_complete(whole[: len(whole) // 3])
    assert not gzip_is_complete(whole[:30] + b"\0" * 30)


def _reasons(spark, path, **kwargs) -> list[tuple[str, str | None]]:
    """(path, or source file where there is no path; reason) of every row read."""
    rows = read_dump(spark, ReadConfig(input=str(path), **kwargs))
    key = F.coalesce("path", F.col("source_file"))
    return [(r[0], r[1]) for r in rows.select(key, "reason").collect()]


def test_broken_input_gets_reasons_not_crashes(spark, tmp_path):
    dump = tmp_path / "dump"
    good = raw_row("u/r", "ok.py", "x = 1\n")
    write_jsonl_gz(
        dump / "a.json.gz",
        [
            good,
            {"repo_name": "u/r", "path": "null.py", "content": None},
            {"repo_name": "u/r", "path": "empty.py", "content": ""},
            {"repo_name": "", "path": "norepo.py", "content": "y = 2"},
            {"repo_name": "u/r", "content": "no path"},
            raw_row("u/r", "big.py", "z" * 5000),
            b'{"repo_name": "u/r", "path": "latin1.py", "content": "caf\xe9 = 1"}',
            json.dumps(
                {"repo_name": "u/r", "path": "surrogate.py", "content": "a\udc80b"}
            ).encode(),
            json.dumps(
                {"repo_name": "u/r", "path": "emoji.py", "content": "s = '\U0001f600'"}
            ).encode(),
            json.dumps(raw_row("u/r", "literal.py", "s = '\\udc80\\ud800'")).encode(),
            b'{"repo_name": "u/r", "path": "cut.py", "conte',
            b"[1, 2, 3]",
            b"   ",
            json.dumps(raw_row("u/r", "num.py", "n = 1", copies=3)).encode(),  # type: ignore[arg-type]
        ],
    )
    (dump / "empty.json.gz").write_bytes(b"")
    whole = gzip.compress(
        b"\n".join(
            json.dumps(raw_row("t/t", f"t{i}.py", "v = 1\n" * 40)).encode() for i in range(40)
        )
    )
    (dump / "cut.json.gz").write_bytes(whole[: len(whole) // 2])
    # bzip2 blocks hold 900 kB of text: of three, the first two are read whole.
    lines = (raw_row("b/b", f"b{i}.py", "w = 1\n" * 40) for i in range(8000))
    cut_bz2 = bz2.compress(b"\n".join(json.dumps(row).encode() for row in lines))
    (dump / "b.jsonl.bz2").write_bytes(cut_bz2[:-100])
    # Lines Arrow's reader took for records of nulls, or crashed on; \r inside a record.
    (dump / "c.jsonl").write_bytes(
        b'null\n{}\n{"repo_name": "u/r",\r"path": "cr.py",\r"content": "x = 1"}\n'
    )

    read = _reasons(spark, dump, max_file_bytes=4096)
    reasons = dict(read)
    assert reasons["ok.py"] is None
    assert reasons["emoji.py"] is None  # a valid surrogate pair is fine
    assert reasons["literal.py"] is None  # the text \udc80 in source code is fine
    assert reasons["num.py"] is None  # numbers where strings are expected are read as text
    assert reasons["null.py"] == "empty_content"
    assert reasons["empty.py"] == "empty_content"
    assert reasons["norepo.py"] == "missing_repo_or_path"
    assert reasons["big.py"] == "too_large"
    assert reasons["latin1.py"] == "invalid_utf8"
    assert reasons["surrogate.py"] == "invalid_utf8"
    by_reason: dict[str | None, list[str]] = {}
    for key, reason in read:
        by_reason.setdefault(reason, []).append(key)
    # The cut line, the JSON array, and the line the damaged shard ends in.
    assert reasons["cr.py"] is None
    assert sorted(by_reason["malformed_json"]) == [
        f"file:{dump}/a.json.gz",
        f"file:{dump}/a.json.gz",
        f"file:{dump}/b.jsonl.bz2",
        f"file:{dump}/c.jsonl",
        f"file:{dump}/cut.json.gz",
    ]
    assert sorted(by_reason["corrupt_file"]) == [
        f"file:{dump}/b.jsonl.bz2",
        f"file:{dump}/cut.json.gz",
    ]
    # empty repo_name, absent path, {}
    assert len(by_reason["missing_repo_or_path"]) == 3
    # Lines before the damage are used.
    assert any(k.startswith("t") for k in by_reason[None])
    assert any(k.startswith("b") for k in by_reason[None])
    # No line lost, the blank one skipped: 13 lines of a.json.gz (4 of them good), 3 of
    # c.jsonl (1 good), the lines of each damaged shard (good ones and the cut-off one) and
    # its corrupt_file row.
    assert len(read) == 13 + 3 + (len(by_reason[None]) - 5) + 2 * (1 + 1)
    # Rows of which little was read still get ids of their own.
    ids = read_dump(spark, ReadConfig(input=str(dump))).where(F.col("reason").isNotNull())
    assert ids.select("id").distinct().count() == ids.count()


def test_rejected_text_is_valid_and_raw_kept(spark, tmp_path):
    dump = tmp_path / "dump"
    line = b'{"repo_name": "u/r", "path": "latin1.py", "content": "caf\xe9 = 1"}'
    write_jsonl_gz(dump / "a.json.gz", [line])
    row = read_dump(spark, ReadConfig(input=str(dump))).collect()[0]
    assert row["reason"] == "invalid_utf8"
    assert bytes(row["raw"]) == line
    assert row["content"] == "caf\ufffd = 1"


def test_ids_stable_across_partitionings(spark, tmp_path):
    rows = [raw_row(f"u/r{i % 7}", f"f{i}.py", f"v{i} = {i}\n") for i in range(400)]
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def ids(max_bytes: str) -> list[int]:
        spark.conf.set("spark.sql.files.maxPartitionBytes", max_bytes)
        try:
            df = read_dump(spark, ReadConfig(input=str(path)))
            assert df.rdd.getNumPartitions() >= (1 if max_bytes == "128m" else 3)
            return sorted(r["id"] for r in df.select("id").collect())
        finally:
            spark.conf.unset("spark.sql.files.maxPartitionBytes")

    first = ids("128m")
    assert first == ids("4k")
    assert len(set(first)) == len(first)


def test_parquet_input_keeps_extra_columns(spark, tmp_path):
    rows = [raw_row("u/r", f"f{i}.py", f"a{i} = 1") | {"stars": str(i % 2)} for i in range(5)]
    spark.createDataFrame(rows).write.partitionBy("stars").parquet(str(tmp_path / "pq"))
    (tmp_path / "pq" / "README.md").write_text("# not a shard\n")
    df = read_dump(spark, ReadConfig(input=str(tmp_path / "pq")))
    assert "stars" in df.columns  # a partition folder (stars=1) stays a column
    assert df.where(F.col("reason").isNull()).count() == 5


def test_parquet_rows_that_carry_a_reason_are_refused(spark, tmp_path):
    rows = [raw_row("u/r", "a.py", "a = 1") | {"reason": "near_duplicate"}]
    spark.createDataFrame(rows).write.partitionBy("reason").parquet(str(tmp_path / "rejected"))
    with pytest.raises(UsageError, match="has a `reason` column"):
        read_dump(spark, ReadConfig(input=str(tmp_path / "rejected")))


def test_parquet_with_invalid_utf8_anywhere_is_rejected_and_repaired(spark, tmp_path):
    def row(repo: bytes, path: bytes) -> dict:
        return {"repo_name": repo, "path": path, "copies": b"1", "size": b"5",
                "content": b"x = 1", "license": b"mit"}  # fmt: skip

    rows = [row(b"u/r", b"ok.py"), row(b"u/\xff", b"a.py"), row(b"u/r", b"\xfe.py")]
    rows.append(row(b"u/r", b"c.py") | {"content": b"caf\xe9 = 1"})
    (tmp_path / "pq").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "pq" / "a.parquet")
    read = read_dump(spark, ReadConfig(input=str(tmp_path / "pq"))).orderBy("path").collect()
    assert [(r.path, r.reason) for r in read] == [
        ("a.py", "invalid_utf8"), ("c.py", "invalid_utf8"), ("ok.py", None),
        ("\ufffd.py", "invalid_utf8"),
    ]  # fmt: skip
    assert read[0].repo_name == "u/\ufffd" and read[1].content == "caf\ufffd = 1"


def test_a_compressed_shard_spark_cannot_read_whole_is_refused_before_any_work(spark, tmp_path):
    dump = tmp_path / "dump"
    write_jsonl_gz(dump / "small.json.gz", [raw_row("u/r", "a.py", "a = 1")])
    with open(dump / "huge.json.gz", "wb") as sparse:  # takes no disk
        sparse.truncate(2**31)
    with pytest.raises(UsageError, match=r"1 file\(s\) \(.*huge.json.gz\) over 2 GiB"):
        read_dump(spark, ReadConfig(input=str(dump)))
    (dump / "huge.json.gz").unlink()
    with open(dump / "large.json.gz", "wb") as sparse:
        sparse.truncate(2**31 - 1)  # the most Spark reads as one file
    read_dump(spark, ReadConfig(input=str(dump)))  # planned, not refused


def test_missing_input_is_a_clear_error(spark, tmp_path):
    with pytest.raises(FileNotFoundError, match="no input files"):
        read_dump(spark, ReadConfig(input=str(tmp_path / "nowhere")))


def _paths(spark, source, **kwargs) -> list[str]:
    rows = read_dump(spark, ReadConfig(input=str(source), **kwargs))
    return sorted(str(r.path) for r in rows.select("path").collect())


def test_files_are_chosen_by_name(spark, tmp_path, capsys):
    dump = tmp_path / "dump"
    write_jsonl_gz(dump / "a.json.gz", [raw_row("u/r", "a.py", "a = 1")])
    (dump / "nested").mkdir()
    with bz2.open(dump / "nested" / "b.jsonl.bz2", "wb") as f:
        f.write(json.dumps(raw_row("u/r", "b.py", "b = 1")).encode() + b"\n")
    (dump / "c.ndjson").write_text(json.dumps(raw_row("u/r", "c.py", "c = 1")) + "\n")
    for name in ("README.md", "manifest.txt", "notes.gz"):
        (dump / name).write_text(json.dumps(raw_row("u/r", name, "x = 1")) + "\n")

    assert _paths(spark, dump) == ["a.py", "b.py", "c.py"]
    err = capsys.readouterr().err
    assert "skipped 3 file(s)" in err and "README.md" in err and "notes.gz" in err
    # An explicit format reads every file (notes.gz is plain text despite its name);
    # a file named directly is read whatever its name.
    assert len(_paths(spark, dump, input_format="json")) == 6
    assert _paths(spark, dump / "manifest.txt") == ["manifest.txt"]


def test_inputs_without_one_kind_of_data_file_are_refused(spark, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# nothing to read\n")
    with pytest.raises(FileNotFoundError, match=r"only 1 file.*--input-format json"):
        read_dump(spark, ReadConfig(input=str(tmp_path / "docs")))
    write_jsonl_gz(tmp_path / "both" / "a.json.gz", [raw_row("u/r", "a.py", "a = 1")])
    spark.createDataFrame([raw_row("u/r", "b.py", "b = 1")]).write.parquet(
        str(tmp_path / "both" / "pq")
    )
    with pytest.raises(UsageError, match="both JSON Lines and Parquet"):
        read_dump(spark, ReadConfig(input=str(tmp_path / "both")))
    assert _paths(spark, tmp_path / "both" / "*.json.gz") == ["a.py"]


def test_plain_and_gzip_shards_read_alike(spark, tmp_path, real_files):
    lines = [
        json.dumps(raw_row("u/r", f"f{i}.py", text)).encode()
        for i, text in enumerate(real_files[:30])
    ]
    lines.insert(7, b'{"repo_name": "u/r", "path": "cut.py", "conte')
    write_jsonl_gz(tmp_path / "gz" / "a.json.gz", lines)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    def read(folder: str) -> list[tuple]:
        rows = read_dump(spark, ReadConfig(input=str(tmp_path / folder))).drop("source_file")
        return sorted((tuple(row) for row in rows.collect()), key=lambda row: row[-1])  # by id

    got = read("gz")
    assert got == read("plain")
    assert len(got) == 31


@pytest.mark.parametrize("per_shard_scans", [512, 2])
def test_a_partition_per_gzip_shard(spark, tmp_path, monkeypatch, per_shard_scans):
    # Scanned one by one (few shards) or shuffled into place (many): a task per shard.
    for shard in range(5):
        rows = [raw_row("u/r", f"s{shard}_{i}.py", f"x = {shard}\ny = {i}\n") for i in range(40)]
        write_jsonl_gz(tmp_path / f"s{shard}.json.gz", [json.dumps(r).encode() for r in rows])
    monkeypatch.setattr("dataprep.read.PER_SHARD_SCANS", per_shard_scans)
    df = read_dump(spark, ReadConfig(input=str(tmp_path)))
    assert df.rdd.getNumPartitions() == 5
    per_partition = df.rdd.mapPartitions(lambda it: [sorted({r["source_file"] for r in it})])
    assert sorted(len(sources) for sources in per_partition.collect()) == [1] * 5
    assert df.where(F.col("reason").isNull()).count() == 200
