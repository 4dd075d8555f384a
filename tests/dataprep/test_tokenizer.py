"""The byte-level BPE tokenizer: lossless, loadable by AutoTokenizer, exactly the asked size."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from dataprep.tokenizer import EOS, iter_contents

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
