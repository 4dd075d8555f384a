"""The byte-level BPE tokenizer: lossless, loadable by AutoTokenizer, exactly the asked size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from dataprep.cli import MissingInput, UsageError
from dataprep.tokenizer import (
    EOS,
    MIN_VOCAB_SIZE,
    iter_contents,
    tokenizer_fingerprint,
    train_tokenizer,
)

ROOT = Path(__file__).resolve().parents[2]

VOCAB = 600  # the size conftest's tokenizer_dir is trained to


@pytest.fixture(scope="module")
def shards(tmp_path_factory, real_files):
    """Two Parquet shards of real Python files, as the clean split writes them."""
    root = tmp_path_factory.mktemp("clean")
    half = len(real_files) // 2
    for n, part in enumerate((real_files[:half], real_files[half:])):
        pq.write_table(
            pa.table({"content": part, "id": list(range(len(part)))}), root / f"p{n}.parquet"
        )
    (root / "_SUCCESS").write_text("")
    return root


@pytest.fixture(scope="module")
def trained(tokenizer_dir):
    return AutoTokenizer.from_pretrained(str(tokenizer_dir))


def test_autotokenizer_loads_it_with_the_special_tokens(trained):
    assert trained.is_fast
    assert trained.bos_token == trained.eos_token == trained.unk_token == EOS
    assert len(trained) == VOCAB
    assert trained.model_max_length == 1024


def test_lossless_on_real_files(trained, real_files):
    for text in real_files:
        assert trained.decode(trained(text)["input_ids"]) == text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8"), max_size=20),
            st.sampled_from(["\t", "\r\n", "\n", " " * 9, "\x00", EOS, "é", "変", "def x():"]),
        ),
        max_size=30,
    ).map("".join)
)
def test_lossless_on_any_text(trained, text):
    assert trained.decode(trained(text)["input_ids"]) == text


def test_learns_code_tokens(trained):
    # Merges were learnt from Python: a common keyword is one token, not its bytes.
    assert len(trained(" return")["input_ids"]) == 1


def test_examples_are_capped(shards):
    seen = sum(len(batch) for batch in iter_contents(shards, 7, batch_size=3))
    assert seen == 7


def test_smallest_vocabulary_is_the_bytes_and_the_special_token(shards, tmp_path):
    tokenizer, _ = train_tokenizer(
        shards, tmp_path / "min", vocab_size=MIN_VOCAB_SIZE, n_examples=5, show_progress=False
    )
    assert len(tokenizer) == MIN_VOCAB_SIZE == 257
    # One less could not be honoured: the trainer would still give 257 tokens.
    with pytest.raises(ValueError, match="vocab_size must be at least 257"):
        train_tokenizer(shards, tmp_path / "less", vocab_size=256, show_progress=False)
    with pytest.raises(ValueError, match="n_examples must be at least 1"):
        train_tokenizer(shards, tmp_path / "none", n_examples=0, show_progress=False)
    assert not (tmp_path / "less").exists() and not (tmp_path / "none").exists()


def test_data_that_is_not_parquet_shards_with_content_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "json").mkdir()
    (tmp_path / "json/file-000001.json").write_text('{"content": "x = 1"}\n')
    (tmp_path / "other").mkdir()
    pq.write_table(pa.table({"text": ["x = 1"]}), tmp_path / "other/part-0.parquet")
    cases = [
        ("missing", MissingInput, "does not exist"),
        ("empty", MissingInput, "no Parquet shards under"),
        ("json", UsageError, "not Parquet"),
        ("other", UsageError, "no `content` column"),
    ]
    for folder, error, message in cases:
        with pytest.raises(error, match=message) as raised:
            train_tokenizer(tmp_path / folder, tmp_path / "out", show_progress=False)
        assert "Parquet shards with a `content` column" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_job_reports_bad_options_and_data_in_one_line(shards, tmp_path):
    job = [sys.executable, str(ROOT / "jobs/train_tokenizer.py"), "--output", str(tmp_path / "out")]
    for args, message in [
        (
            ["--data", str(shards), "--vocab-size", "10"],
            "--vocab-size must be at least 257, not 10",
        ),
        (["--data", str(shards), "--n-examples", "0"], "--n-examples must be at least 1, not 0"),
        (["--data", str(tmp_path)], f"no Parquet shards under {tmp_path}"),
        (["--data", str(shards), "--valid", str(tmp_path / "nowhere")], "does not exist"),
    ]:
        done = subprocess.run(job + args, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 2
        assert done.stderr.splitlines()[-1].startswith("train_tokenizer.py: error: ")
        assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_job_refuses_data_without_content_or_holding_other_rows(shards, tmp_path):
    job = [sys.executable, str(ROOT / "jobs/train_tokenizer.py"), "--vocab-size", "300"]
    blank = tmp_path / "W/clean/train"
    blank.mkdir(parents=True)
    pq.write_table(pa.table({"content": ["", None]}), blank / "p0.parquet")
    (tmp_path / "W/clean/valid").mkdir()
    pq.write_table(pa.table({"content": ["x = 1\n"]}), tmp_path / "W/clean/valid/p0.parquet")
    (tmp_path / "W/rejected/reason=too_large").mkdir(parents=True)
    pq.write_table(
        pa.table({"content": ["y = 2\n"]}), tmp_path / "W/rejected/reason=too_large/p.parquet"
    )
    for data, valid, message in [
        (blank, None, "has content to train on"),  # it trained 0 files and said nothing
        (tmp_path / "W", None, "which is not training data"),  # rejected rows would be in
        (shards, blank, "holds no files to measure the tokenizer on"),  # after training, a crash
    ]:
        extra = ["--valid", str(valid)] if valid else []
        output = tmp_path / "out"
        done = subprocess.run(
            [*job, "--data", str(data), "--output", str(output), *extra],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert message in done.stderr.splitlines()[-1] and "Traceback" not in done.stderr
        assert not output.exists()


def test_fingerprint_follows_the_ids_not_the_file_layout(tokenizer_dir):
    text = (tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8")
    spec = json.loads(text)
    # Another library version may lay the file out anew and add settings that fix no id.
    resaved = json.dumps(spec | {"truncation": {"max_length": 7}, "version": "9.9"}, indent=4)
    assert tokenizer_fingerprint(resaved) == tokenizer_fingerprint(text)
    merges = spec["model"]["merges"]
    swapped = spec | {"model": spec["model"] | {"merges": [merges[1], merges[0], *merges[2:]]}}
    assert tokenizer_fingerprint(json.dumps(swapped)) != tokenizer_fingerprint(text)
    spec["added_tokens"][0]["id"] += 1
    assert tokenizer_fingerprint(json.dumps(spec)) != tokenizer_fingerprint(text)
