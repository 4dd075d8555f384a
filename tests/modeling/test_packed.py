"""Windows over the token shards: every token of the stream once per epoch, in seeded orders."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from torch.utils.data import DataLoader

from dataprep.cli import UsageError
from dataprep.pretokenize import open_shards
from modeling.data.packed import PackedWindows, WindowOrder


def test_windows_tile_the_stream_across_shards(tokens_dir):
    stream = np.concatenate([np.asarray(s) for s in open_shards(tokens_dir, "train")])
    windows = PackedWindows(tokens_dir, "train", 100)
    assert len(windows) == len(stream) // 100
    # Some windows straddle two shards: they must read on into the next one.
    joined = np.concatenate([windows[i]["input_ids"].numpy() for i in range(len(windows))])
    np.testing.assert_array_equal(joined, stream[: len(windows) * 100])
    item = windows[3]
    assert item["labels"] is item["input_ids"]
    with pytest.raises(IndexError):
        windows[len(windows)]


def test_workers_that_do_not_fork_reopen_the_shards(tokens_dir):
    """Workers started by forkserver (Python 3.14's default) get the dataset pickled: by its
    files, not a copy of every token."""
    windows = PackedWindows(tokens_dir, "train", 100)
    copy = pickle.loads(pickle.dumps(windows))
    assert all(shard.filename for shard in copy.shards)  # a memory map of the file again
    token_bytes = sum(shard.nbytes for shard in windows.shards)
    assert len(pickle.dumps(windows)) < token_bytes / 10
    expected = [b["input_ids"] for b in DataLoader(windows, batch_size=4)]
    workers = DataLoader(windows, batch_size=4, num_workers=1, multiprocessing_context="forkserver")
    got = [b["input_ids"] for b in workers]
    assert len(got) == len(expected)
    assert all(g.equal(e) for g, e in zip(got, expected, strict=True))


def test_too_short_a_split_is_refused(tokens_dir):
    with pytest.raises(UsageError, match="fewer than one window"):
        PackedWindows(tokens_dir, "valid", 10**9)


def test_each_epoch_is_a_seeded_permutation():
    order = WindowOrder(50, seed=4)
    first = list(order)
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert list(order) == first
    order.set_epoch(1)
    second = list(order)
    assert sorted(second) == list(range(50)) and second != first
    assert list(WindowOrder(50, seed=5)) != first
    assert list(WindowOrder(50, shuffle=False)) == list(range(50))
