"""Pretokenization: packed token shards decode back to exactly the clean shards' documents."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from dataprep.cli import UsageError
from dataprep.pretokenize import open_shards, pretokenize, token_dtype
from dataprep.tokenizer import EOS

# Documents a tokenizer might mishandle: the end-of-text text inside a file, an empty file,
# CRLF, tabs, null bytes, long whitespace, non-ASCII.
AWKWARD = [
    f'MARKER = "{EOS}"\nprint(MARKER)\n',
    "",
    "def f():\r\n\treturn 1\r\n",
    "x = '\x00'" + " " * 300 + "\n",
    "café = '変数'\n",
]


@pytest.fixture(scope="module")
def clean(tmp_path_factory, real_files):
    """A clean folder: train/ in three shards (one with the awkward documents), valid/ in one."""
    root = tmp_path_factory.mktemp("clean")
    shards = {
        "train": [real_files[:40], AWKWARD + real_files[40:60], real_files[60:90]],
        "valid": [real_files[90:100]],
    }
    for split, parts in shards.items():
        (root / split).mkdir()
        for n, docs in enumerate(parts):
            table = pa.table({"id": list(range(len(docs))), "content": docs})
            pq.write_table(table, root / split / f"part-{n:05d}.zstd.parquet", row_group_size=7)
        (root / split / "_SUCCESS").write_text("")
    return root, shards


@pytest.fixture(scope="module")
def packed(spark, clean, tokenizer_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("tokens") / "tokens"
    meta = pretokenize(spark, str(clean[0]), str(tokenizer_dir), str(output))
    return output, meta


def _documents(ids: np.ndarray, eos_id: int) -> list[np.ndarray]:
    ends = np.flatnonzero(ids == eos_id)
    assert len(ends) and ends[-1] == len(ids) - 1, "every document ends with <|endoftext|>"
    return np.split(ids, ends + 1)[:-1]


def test_shards_decode_to_the_documents_in_order(packed, clean, tokenizer_dir):
    output, meta = packed
    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    for split, parts in clean[1].items():
        shards = open_shards(output, split)
        assert len(shards) == len(parts)
        for ids, docs in zip(shards, parts, strict=True):
            assert ids.dtype == np.uint16
            text = tokenizer.decode(ids.tolist(), skip_special_tokens=False)
            assert text == "".join(doc + EOS for doc in docs)
            pieces = _documents(np.asarray(ids), meta["eos_id"])
            decoded = [tokenizer.decode(p[:-1].tolist(), skip_special_tokens=False) for p in pieces]
            assert decoded == docs


def test_eos_text_inside_a_file_is_not_a_boundary(packed):
    output, meta = packed
    ids = np.asarray(open_shards(output, "train")[1])
    # 20 real files and 5 awkward ones: one end-of-text id per document, no more.
    assert int((ids == meta["eos_id"]).sum()) == 25


def test_counts_are_recorded_per_shard_and_split(packed, clean):
    output, meta = packed
    assert json.loads((output / "meta.json").read_text()) == meta
    for split, parts in clean[1].items():
        recorded = meta["splits"][split]
        shards = open_shards(output, split)
        assert [s["docs"] for s in recorded["shards"]] == [len(p) for p in parts]
        assert [s["tokens"] for s in recorded["shards"]] == [len(s) for s in shards]
        assert recorded["tokens"] == sum(len(s) for s in shards)
        assert recorded["docs"] == sum(len(p) for p in parts)
        assert recorded["chars"] == sum(len(d) for p in parts for d in p)


def test_rerun_replaces_the_output_and_leaves_no_temporary_folder(
    spark, packed, clean, tokenizer_dir
):
    output, meta = packed
    (output / "train" / "stale.bin").write_bytes(b"old")
    with pytest.raises(UsageError, match="already holds token shards: --overwrite replaces"):
        pretokenize(spark, str(clean[0]), str(tokenizer_dir), str(output))
    # A folder of anything else is never replaced: the write deletes what was there.
    with pytest.raises(UsageError, match="not token shards"):
        pretokenize(spark, str(clean[0]), str(tokenizer_dir), str(clean[0]), overwrite=True)
    assert (clean[0] / "train").exists()
    again = pretokenize(
        spark, str(clean[0]), str(tokenizer_dir), str(output), splits=["valid"], overwrite=True
    )
    assert list(again["splits"]) == ["valid"]
    assert not (output / "train").exists()
    assert not list(output.parent.glob("_tmp-*"))
    assert again["splits"]["valid"] == meta["splits"]["valid"]


def test_unfinished_output_is_refused(tmp_path):
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="_SUCCESS"):
        open_shards(tmp_path, "train")


def test_missing_inputs_fail_clearly(spark, clean, tokenizer_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"tokenizer\.json"):
        pretokenize(spark, str(clean[0]), str(tmp_path), str(tmp_path / "out"))
    with pytest.raises(FileNotFoundError, match="no split folders"):
        pretokenize(spark, str(tmp_path), str(tokenizer_dir), str(tmp_path / "out"))
    # A split folder holds shards, not splits: its files are not taken for splits.
    with pytest.raises(FileNotFoundError, match="not a split itself"):
        pretokenize(spark, str(clean[0] / "train"), str(tokenizer_dir), str(tmp_path / "out"))
    # A workdir: its stages' folders are not splits.
    workdir = tmp_path / "workdir"
    for stage in ("filtered", "near_deduped"):
        shutil.copytree(clean[0] / "valid", workdir / stage)
    with pytest.raises(FileNotFoundError, match="give the folder that holds train/ and valid/"):
        pretokenize(spark, str(workdir), str(tokenizer_dir), str(tmp_path / "out"))
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        pretokenize(spark, str(tmp_path / "nowhere"), str(tokenizer_dir), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_bad_shards_and_an_output_inside_the_data_are_refused_before_any_task(
    spark, clean, tokenizer_dir, tmp_path
):
    data = tmp_path / "clean"
    shutil.copytree(clean[0], data)
    with pytest.raises(UsageError, match="lies inside --data"):
        pretokenize(spark, str(data), str(tokenizer_dir), str(data / "tokens"))
    pq.write_table(pa.table({"text": ["x = 1"]}), data / "valid" / "part-9.parquet")
    with pytest.raises(UsageError, match=r"part-9\.parquet has no `content` column"):
        pretokenize(spark, str(data), str(tokenizer_dir), str(tmp_path / "out"))
    (data / "valid" / "part-9.parquet").write_text("not parquet")
    with pytest.raises(UsageError, match=r"part-9\.parquet is not a Parquet file"):
        pretokenize(spark, str(data), str(tokenizer_dir), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_dtype_follows_the_vocabulary():
    assert token_dtype(32_768) == np.uint16
    assert token_dtype(65_536) == np.uint16
    assert token_dtype(65_537) == np.uint32
