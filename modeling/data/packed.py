"""Fixed-length windows over pretokenized shards (jobs/pretokenize.py), memory-mapped.

The token shards of a split are one stream (each document already ends with <|endoftext|>);
window i is tokens [i * L, (i + 1) * L) of it, crossing shard boundaries where it must, and
the tail shorter than L is left out. Windows are read straight from the memory maps: nothing
is tokenized and only the rows a batch needs are paged in.

`WindowOrder` is the sampler: every window once per epoch, shuffled by a seeded permutation
of (seed, epoch) or in order. Being a map-style dataset with a plain sampler, it is sharded
across processes by Accelerate, and a resumed run skips batches by index without reading them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, Subset

from dataprep.cli import UsageError
from dataprep.pretokenize import open_shards


class PackedWindows(Dataset):
    """Windows of `seq_len` tokens over the token shards of one split."""

    def __init__(self, tokens_dir: str | Path, split: str, seq_len: int) -> None:
        self.tokens_dir, self.split, self.seq_len = tokens_dir, split, seq_len
        self.shards = open_shards(tokens_dir, split)
        sizes = np.array([len(s) for s in self.shards], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(sizes)])
        self.n_tokens = int(self.starts[-1])
        if self.n_tokens < seq_len:
            raise UsageError(
                f"split {split!r} of {tokens_dir} holds {self.n_tokens:,} tokens, "
                f"fewer than one window of {seq_len}"
            )

    def __len__(self) -> int:
        return self.n_tokens // self.seq_len

    def __getstate__(self) -> dict:
        # A memory map pickles as a copy of its data. DataLoader workers that do not fork
        # (spawn on macOS, forkserver by default from Python 3.14) receive the dataset
        # pickled, so they reopen the files instead.
        return {k: v for k, v in self.__dict__.items() if k != "shards"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.shards = open_shards(self.tokens_dir, self.split)

    def tokens(self, start: int, stop: int) -> np.ndarray:
        """Tokens [start, stop) of the split's stream, as int64."""
        out = np.empty(stop - start, dtype=np.int64)
        shard = int(np.searchsorted(self.starts, start, side="right")) - 1
        filled = 0
        while filled < len(out):
            offset = start + filled - int(self.starts[shard])
            piece = self.shards[shard][offset : offset + len(out) - filled]
            out[filled : filled + len(piece)] = piece
            filled += len(piece)
            shard += 1
        return out

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        ids = torch.from_numpy(self.tokens(index * self.seq_len, (index + 1) * self.seq_len))
        # The model shifts the labels itself, as in CodeParrot's training script.
        return {"input_ids": ids, "labels": ids}


class WindowOrder(Sampler[int]):
    """Every index in [0, n) once per epoch: a permutation seeded by (seed, epoch), or in order."""

    def __init__(self, n: int, *, shuffle: bool = True, seed: int = 0) -> None:
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration follows."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        return iter(order.tolist())


def process_share(windows: PackedWindows, rank: int, world_size: int) -> Subset:
    """The windows one process evaluates: every `world_size`-th from `rank`, none twice.

    For evaluation, which sums over processes: Accelerate's even shards would repeat windows
    to give every process as many batches.
    """
    return Subset(windows, range(rank, len(windows), world_size))
