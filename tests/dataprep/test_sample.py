"""The sample dump generator: format, determinism, size, duplication profile, near-duplicates."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import dataprep.sample as sample
from dataprep.cli import UsageError
from dataprep.sample import MIN_TARGET_BYTES, copy_counts, write_sample_dump
from dataprep.units import parse_size, spark_bytes

ROOT = Path(__file__).resolve().parents[2]
TARGET = 3_000_000
FIELDS = {"repo_name", "path", "copies", "size", "content", "license"}


def _rows(shards: list[Path]) -> list[dict]:
    rows = []
    for shard in shards:
        with gzip.open(shard, "rt", encoding="ascii") as lines:
            rows.extend(json.loads(line) for line in lines)
    return rows


def _key(content: str) -> str:
    """CodeParrot's exact-dedup key, written out independently of the generator."""
    return hashlib.md5(re.sub(r"\s+", "", content).encode("utf-8")).hexdigest()


def _shares(sorted_counts: list[int], fractions: tuple[float, ...]) -> list[float]:
    """Share of all files held by the top fraction of unique files (at least one file)."""
    cumulative = np.cumsum(sorted_counts)
    n = len(sorted_counts)
    return [cumulative[max(1, round(f * n)) - 1] / cumulative[-1] for f in fractions]


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """A 3 MB dump and what write_sample_dump said about it."""
    folder = tmp_path_factory.mktemp("sample")
    summary = write_sample_dump(folder, TARGET, seed=0)
    return summary, _rows(sorted(folder.glob("*.json.gz")))


def test_every_line_is_a_row_of_six_strings(dump):
    summary, rows = dump
    assert len(rows) == summary.n_files
    for row in rows:
        assert set(row) == FIELDS
        assert all(isinstance(value, str) for value in row.values())
        assert row["size"] == str(len(row["content"].encode("utf-8")))
        assert int(row["copies"]) >= 1
        assert re.fullmatch(r"user\d+/[a-z]+-[a-z]+", row["repo_name"])
        assert row["path"].endswith(".py")
    assert len({(row["repo_name"], row["path"]) for row in rows}) == len(rows)
    assert {row["license"] for row in rows} <= set(sample._LICENSES)


def test_shards_named_and_sized(dump):
    summary, _ = dump
    assert summary.n_shards == 2
    assert [p.name for p in summary.shards] == ["file-000001.json.gz", "file-000002.json.gz"]
    assert sorted(summary.output_dir.iterdir()) == list(summary.shards)
    for shard in summary.shards:
        header = shard.read_bytes()[:10]
        # no file name (FNAME flag) and mtime 0: nothing in the bytes depends on the run
        assert header[3] & 0x08 == 0
        assert header[4:8] == b"\0\0\0\0"


def test_total_bytes_near_target(dump):
    summary, rows = dump
    total = sum(len(row["content"].encode("utf-8")) for row in rows)
    assert total == summary.total_bytes
    assert abs(total - TARGET) <= 0.05 * TARGET


def test_copies_follow_the_profile(dump):
    summary, rows = dump
    per_key = Counter(_key(row["content"]) for row in rows)
    assert len(per_key) == summary.n_unique
    counts = sorted(per_key.values(), reverse=True)
    # The dump holds exactly the planned copy counts...
    assert counts == copy_counts(summary.n_unique).tolist()
    # ...and the `copies` field says how many copies of its content the dump has.
    assert all(int(row["copies"]) == per_key[_key(row["content"])] for row in rows)
    # A few dozen unique files: the 0.1% and 1% points are the top file or two; loose bounds.
    top_file, top_tenth = _shares(counts, (0.001, 0.1))
    assert 0.1 <= top_file <= 0.5
    assert 0.5 <= top_tenth <= 0.85
    assert 0.6 <= 1 - len(counts) / len(rows) <= 0.72


@pytest.mark.parametrize("n_unique", [100_000, 1_000_000])
def test_copy_counts_concentration(n_unique):
    counts = copy_counts(n_unique)
    assert len(counts) == n_unique
    assert counts.min() == 1
    assert np.all(np.diff(counts) <= 0)
    for share, expected in zip(
        _shares(counts.tolist(), (0.001, 0.01, 0.1)), (0.15, 0.35, 0.66), strict=True
    ):
        assert abs(share - expected) <= 0.03
    duplicates = 1 - n_unique / counts.sum()
    assert 0.6 <= duplicates <= 0.7


@pytest.mark.parametrize("n_unique", [1, 2, 7, 150, 5000])
def test_copy_counts_small(n_unique):
    counts = copy_counts(n_unique)
    assert len(counts) == n_unique
    assert counts.min() >= 1
    assert np.all(np.diff(counts) <= 0)
    assert counts.sum() == round(sample.MEAN_COPIES * n_unique)


def test_copy_counts_rejects_nothing_to_count():
    with pytest.raises(ValueError, match="at least 1"):
        copy_counts(0)


def _small_edit(text: str, more_copied: str) -> bool:
    """Whether `text` is `more_copied` with at most two lines changed or added."""
    a, b = more_copied.splitlines(), text.splitlines()
    if abs(len(a) - len(b)) > 2:
        return False
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")
    return 0 < changed <= 2


def test_near_duplicates_are_small_edits_of_more_copied_files(dump):
    summary, rows = dump
    contents = {}
    per_key = Counter()
    for row in rows:
        key = _key(row["content"])
        contents.setdefault(key, row["content"].replace("\r\n", "\n"))
        per_key[key] += 1
    near = [
        key
        for key, count in per_key.items()
        if any(
            other_count > count
            and abs(len(contents[other]) - len(contents[key])) < 300
            and _small_edit(contents[key], contents[other])
            for other, other_count in per_key.items()
        )
    ]
    assert summary.n_near_duplicates >= 0.04 * summary.n_files
    assert len(near) >= summary.n_near_duplicates


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, dump):
    summary, _ = dump
    again = write_sample_dump(tmp_path / "again", TARGET, seed=0)
    other = write_sample_dump(tmp_path / "other", TARGET, seed=1)
    first = [p.read_bytes() for p in summary.shards]
    assert [p.read_bytes() for p in again.shards] == first
    assert [p.read_bytes() for p in other.shards] != first


def test_options(tmp_path):
    summary = write_sample_dump(tmp_path, 1_000_000, n_shards=3, near_duplicate_fraction=0)
    assert summary.n_shards == 3
    assert summary.n_near_duplicates == 0
    assert len(_rows(list(summary.shards))) == summary.n_files
    with pytest.raises(ValueError, match="near_duplicate_fraction"):
        write_sample_dump(tmp_path / "x", 1_000_000, near_duplicate_fraction=0.5)
    with pytest.raises(ValueError, match="target_bytes must be at least 1,000,000"):
        write_sample_dump(tmp_path / "x", MIN_TARGET_BYTES - 1)
    assert not (tmp_path / "x").exists()


def test_a_file_uri_is_a_local_folder_and_other_filesystems_are_refused(tmp_path):
    summary = write_sample_dump(f"file://{tmp_path}/uri", MIN_TARGET_BYTES, n_shards=2)
    assert sorted((tmp_path / "uri").iterdir()) == list(summary.shards)
    with pytest.raises(UsageError, match="s3a://bucket/raw is not on this machine's filesystem"):
        write_sample_dump("s3a://bucket/raw", MIN_TARGET_BYTES)


def test_every_shard_holds_a_file_and_no_more_shards_than_files(tmp_path):
    with pytest.raises(UsageError, match=r"--shards 1000 is more than the \d+ files") as refused:
        write_sample_dump(tmp_path / "refused", MIN_TARGET_BYTES, n_shards=1000)
    assert not (tmp_path / "refused").exists()
    n_files = int(re.search(r"at most (\d+) shards", str(refused.value)).group(1))
    # As many shards as files: the byte cuts alone would leave some empty.
    summary = write_sample_dump(tmp_path / "most", MIN_TARGET_BYTES, n_shards=n_files)
    assert summary.n_files == n_files == summary.n_shards
    assert all(len(_rows([shard])) == 1 for shard in summary.shards)


def test_shard_bounds_cut_at_equal_bytes_and_leave_no_shard_empty():
    even = np.full(12, 10)
    assert sample._shard_bounds(even, 3) == [0, 4, 8, 12]
    # The first file holds most of the bytes: every cut falls behind it.
    assert sample._shard_bounds(np.array([1000, 1, 1, 1, 1]), 3) == [0, 1, 2, 5]
    assert sample._shard_bounds(np.array([1, 1, 1, 1000]), 4) == [0, 1, 2, 3, 4]
    assert sample._shard_bounds(even, 1) == [0, 12]


def test_refuses_to_overwrite_unless_asked(tmp_path):
    write_sample_dump(tmp_path, MIN_TARGET_BYTES)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(UsageError, match="pass --overwrite"):
        write_sample_dump(tmp_path, MIN_TARGET_BYTES, seed=1)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    (tmp_path / "file-000099.json.gz").write_bytes(b"old")
    summary = write_sample_dump(tmp_path, MIN_TARGET_BYTES, seed=1, overwrite=True)
    assert sorted(tmp_path.iterdir()) == list(summary.shards)


def test_interrupted_run_leaves_no_shard(tmp_path, monkeypatch):
    write_sample_dump(tmp_path / "old", MIN_TARGET_BYTES)
    old = {p.name: p.read_bytes() for p in (tmp_path / "old").iterdir()}
    real_rows = sample._rows

    def failing_rows(*args):
        for n, row in enumerate(real_rows(*args)):
            if n == 3:
                raise RuntimeError("interrupted")
            yield row

    monkeypatch.setattr(sample, "_rows", failing_rows)
    with pytest.raises(RuntimeError, match="interrupted"):
        write_sample_dump(tmp_path / "new", MIN_TARGET_BYTES)
    assert not list((tmp_path / "new").glob("*.json.gz"))
    # With overwrite, the old shards stay until the new ones are complete.
    with pytest.raises(RuntimeError, match="interrupted"):
        write_sample_dump(tmp_path / "old", MIN_TARGET_BYTES, seed=1, overwrite=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "old").glob("*.json.gz")} == old
    monkeypatch.undo()
    # A later run clears the partial files.
    summary = write_sample_dump(tmp_path / "new", MIN_TARGET_BYTES)
    assert sorted((tmp_path / "new").iterdir()) == list(summary.shards)


def test_whitespace_free_key_matches_codeparrot():
    """The generator drops whitespace with str.split(); CodeParrot used re.sub(r"\\s+", "")."""
    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert "".join(text.split()) == re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64MB", 64_000_000),
        ("1.5GB", 1_500_000_000),
        ("500kB", 500_000),
        ("2MiB", 2 * 1024**2),
        ("1GiB", 1024**3),
        ("3KiB", 3 * 1024),
        ("1234", 1234),
        (" 10 mb ", 10_000_000),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10485760b", 10 * 1024**2),
        ("10MB", 10 * 1024**2),
        ("10m", 10 * 1024**2),
        ("-1", -1),
        ("1g", 1024**3),
        ("7", 7),
    ],
)
def test_spark_bytes(text, expected):
    # Spark's own byte strings count in 1024s, whatever the spelling.
    assert spark_bytes(text) == expected
    with pytest.raises(ValueError):
        spark_bytes("1.5g")


@pytest.mark.parametrize("text", ["", "MB", "abc", "12XB", "-5MB", "1.2.3MB", "5 M B"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_job_help_and_run(tmp_path):
    job = str(ROOT / "jobs/make_sample.py")
    shown = subprocess.run(
        [sys.executable, job, "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    for flag in ("--output", "--size", "--seed", "--shards", "--near-duplicates", "--overwrite"):
        assert flag in shown
    ran = subprocess.run(
        [sys.executable, job, "--output", str(tmp_path), "--size", "1MB", "--seed", "2"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "unique" in ran.stdout
    assert len(list(tmp_path.glob("file-*.json.gz"))) == 2
    for args, message in [
        (["--output", str(tmp_path), "--size", "1MB"], "pass --overwrite to replace them"),
        (
            ["--output", str(tmp_path / "x"), "--size", "10"],
            "--size must be at least 1,000,000 bytes, not 10",
        ),
        (["--output", str(tmp_path / "x"), "--size", "1 MP"], "--size: not a size: '1 MP'"),
        (["--output", str(tmp_path / "x"), "--shards", "0"], "--shards must be at least 1, not 0"),
        (
            ["--output", str(tmp_path / "x"), "--near-duplicates", "0.5"],
            "--near-duplicates must be at most 0.2, not 0.5",
        ),
        (
            ["--output", str(tmp_path / "x"), "--size", "1MB", "--shards", "1000"],
            "--shards 1000 is more than the",
        ),
    ]:
        refused = subprocess.run(
            [sys.executable, job, *args], capture_output=True, text=True, cwd=ROOT
        )
        assert refused.returncode == 2
        last = refused.stderr.splitlines()[-1]
        assert last.startswith("make_sample.py: error: ") and message in last
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "x").exists()
