"""On-the-fly packing: a partition of the documents across consumers, exact resume, epochs."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from tokenizers import Tokenizer
from torch.utils.data import DataLoader

from dataprep.cli import UsageError
from dataprep.pretokenize import pack_documents
from dataprep.tokenizer import tokenizer_from_json
from modeling.data.constant_length import ConstantLengthDataset, row_groups

SEQ = 128


@pytest.fixture(scope="module")
def clean(tmp_path_factory, real_files):
    """Three Parquet files of real code in row groups of 10 documents."""
    root = tmp_path_factory.mktemp("clean")
    for n in range(3):
        docs = real_files[n * 40 : (n + 1) * 40]
        pq.write_table(pa.table({"content": docs}), root / f"part-{n}.parquet", row_group_size=10)
    return root


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir):
    return Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))


def _ids(tokenizer, texts):
    return [np.append(tokenizer.encode(t, add_special_tokens=False).ids, 0) for t in texts]


def test_consumers_partition_the_documents(clean, tokenizer):
    data = ConstantLengthDataset(clean, tokenizer, SEQ, seed=3)
    assert len(data.units) == 12
    streams = []
    for consumer in range(3):
        units = data.consumer_units(consumer, 3, epoch=0)
        docs = [d for unit in units for d in data._documents(unit, 0)]
        expected = np.concatenate(_ids(tokenizer, docs))
        got = np.concatenate([ids for ids, _ in data.sequences(consumer, 3)])
        # Exactly the consumer's documents, in order, cut to whole sequences.
        np.testing.assert_array_equal(got, expected[: len(expected) // SEQ * SEQ])
        streams.append(set(units))
    assert set().union(*streams) == set(row_groups(clean))
    assert sum(len(s) for s in streams) == 12  # no unit twice


def test_bad_shards_and_too_many_readers_say_so(tmp_path, tokenizer, real_files):
    pq.write_table(pa.table({"text": ["x = 1"]}), tmp_path / "part-0.parquet")
    with pytest.raises(UsageError, match="has no `content` column"):
        ConstantLengthDataset(tmp_path, tokenizer, SEQ)
    # One row group with documents, one without: the empty one is no unit.
    pq.write_table(pa.table({"content": real_files[:5]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"content": pa.array([], pa.string())}), tmp_path / "part-1.parquet")
    data = ConstantLengthDataset(tmp_path, tokenizer, SEQ, infinite=True)
    assert data.units == [(str(tmp_path / "part-0.parquet"), 0)]
    next(data.sequences(0, 1))
    # A second reader would wait forever for a document: it says why instead.
    with pytest.raises(UsageError, match="cannot feed 2 readers"):
        next(data.sequences(1, 2))
    # A writer's unfinished files and hidden ones are not data.
    for folder in ("_temporary/0", ".hidden"):
        (tmp_path / folder).mkdir(parents=True)
        pq.write_table(pa.table({"content": real_files[5:8]}), tmp_path / folder / "part-9.parquet")
    assert row_groups(tmp_path) == [(str(tmp_path / "part-0.parquet"), 0)]


def test_workers_and_ranks_split_the_work(clean, tokenizer):
    """Two ranks with two DataLoader workers each: four consumers, every sequence once."""
    alone = ConstantLengthDataset(clean, tokenizer, SEQ, shuffle=False)
    expected = [ids for c in range(4) for ids, _ in alone.sequences(c, 4)]
    seen = []
    for rank in range(2):
        data = ConstantLengthDataset(clean, tokenizer, SEQ, shuffle=False, rank=rank, world_size=2)
        for batch in DataLoader(data, batch_size=2, num_workers=2):
            seen += list(batch["input_ids"].numpy())
    assert sorted(map(bytes, seen)) == sorted(map(bytes, expected))


def test_resumes_exactly_from_a_saved_position(clean, tokenizer):
    # Rank 0 of two, one worker: consumer 0 of 2.
    data = ConstantLengthDataset(clean, tokenizer, SEQ, infinite=True, seed=1, world_size=2)
    first = list(itertools.islice(data.sequences(0, 2), 60))
    for k in (0, 7, 25, 41):
        again = list(itertools.islice(data.sequences(0, 2, start=first[k][1]), 60 - k - 1))
        for (a, pa_), (b, pb) in zip(again, first[k + 1 :], strict=True):
            np.testing.assert_array_equal(a, b)
            assert pa_ == pb
    data.resume({0: first[9][1]})
    # In this process, and in a worker started by forkserver (Python 3.14's default), which
    # gets the resumed dataset pickled.
    for loader in (
        DataLoader(data, batch_size=1),
        DataLoader(data, batch_size=1, num_workers=1, multiprocessing_context="forkserver"),
    ):
        batch = next(iter(loader))
        np.testing.assert_array_equal(batch["input_ids"][0].numpy(), first[10][0])
        assert torch.equal(batch["position"][0], first[10][1].as_tensor())


def test_infinite_mode_counts_epochs_and_reshuffles(clean, tokenizer):
    one_pass = ConstantLengthDataset(clean, tokenizer, SEQ, seed=1)
    n = sum(1 for _ in one_pass.sequences(0, 1))
    endless = ConstantLengthDataset(clean, tokenizer, SEQ, infinite=True, seed=1)
    sequences = list(itertools.islice(endless.sequences(0, 1), 2 * n + 2))
    epochs = [after.epoch for _, after in sequences]
    assert epochs[0] == 0 and epochs[-1] == 2 and epochs == sorted(epochs)
    assert endless.consumer_units(0, 1, 0) != endless.consumer_units(0, 1, 1)
    assert 1 in epochs


def test_documents_are_encoded_as_pretokenize_encodes_them(tmp_path, tokenizer):
    # A file that contains the end-of-text marker as text must not end a document there.
    docs = ["marker = '<|endoftext|>'\nprint(marker)\n" * 20, "def f():\n    return 1\n" * 30]
    pq.write_table(pa.table({"content": docs}), tmp_path / "part-0.parquet")
    data = ConstantLengthDataset(tmp_path, tokenizer, SEQ, shuffle=False)
    packed = np.concatenate([ids for ids, _ in data.sequences(0, 1)])
    pretokenized = pack_documents(tokenizer_from_json(tokenizer.to_str()), docs, np.int64)
    np.testing.assert_array_equal(packed, pretokenized[: len(packed)])
    assert np.count_nonzero(pretokenized == data.eos_id) == len(docs)
