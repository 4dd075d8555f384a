"""Windows over the token shards: every token of the stream once per epoch, in seeded orders."""

from __future__ import annotations

import numpy as np
import pytest

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
