"""The two ways training reads data, behind one interface: batches, valid batches, resume.

`PackedSource` (the default, for speed) reads pretokenized windows; `StreamSource` packs
clean Parquet shards on the fly as CodeParrot did. Both keep where they are in a
`DataPosition`, which every checkpoint saves, and continue from it without re-reading or
re-tokenizing what came before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from accelerate import Accelerator
from tokenizers import Tokenizer
from torch.utils.data import DataLoader

from dataprep.cli import UsageError
from modeling.data.constant_length import ConstantLengthDataset, Position
from modeling.data.packed import PackedWindows, WindowOrder, process_share

MODEL_INPUTS = ("input_ids", "labels")


class DataPosition:
    """Where the run is in the data, saved with every checkpoint."""

    def __init__(self) -> None:
        self.epoch = 0
        self.batches = 0  # micro-batches consumed by each process (in this epoch, if packed)
        self.step = 0  # optimizer steps done
        self.streams: dict[int, list[int]] = {}  # on-the-fly packing: consumer -> Position

    def state_dict(self) -> dict:
        """The position as a plain dict."""
        return {k: getattr(self, k) for k in ("epoch", "batches", "step", "streams")}

    def load_state_dict(self, state: dict) -> None:
        """Restore a saved position."""
        for key, value in state.items():
            setattr(self, key, value)


def _private_generator(seed: int) -> torch.Generator:
    """A loader's own generator. Each new iterator draws a seed from its loader's generator;
    with torch's global one, dropout would see another random stream after a resume or an
    evaluation than without."""
    return torch.Generator().manual_seed(seed)


class PackedSource:
    """Windows of pretokenized shards in seeded epoch orders, sharded by Accelerate."""

    def __init__(
        self,
        data: str,
        seq_len: int,
        micro_batch: int,
        *,
        shuffle: bool,
        seed: int,
        num_workers: int,
        rank: int,
        world_size: int,
    ) -> None:
        windows = PackedWindows(data, "train", seq_len)
        self.order = WindowOrder(len(windows), shuffle=shuffle, seed=seed)
        self.train = DataLoader(
            windows,
            batch_size=micro_batch,
            sampler=self.order,
            drop_last=True,
            num_workers=num_workers,
            pin_memory=torch.cuda.is_available(),
            generator=_private_generator(seed),
        )
        self.valid = DataLoader(
            process_share(PackedWindows(data, "valid", seq_len), rank, world_size),
            batch_size=micro_batch,
            generator=_private_generator(seed),
        )

    def prepare(self, accelerator: Accelerator) -> None:
        """Shard the training loader across processes (the valid one is a process's share)."""
        self.train = accelerator.prepare(self.train)

    def batches_per_epoch(self) -> int | None:
        """Micro-batches per epoch and process."""
        return len(self.train)

    def batches(self, accelerator: Accelerator, position: DataPosition) -> Iterator[dict]:
        """Endless batches from `position` on, advancing it."""
        while True:
            loader = self.train
            if position.batches:
                loader = accelerator.skip_first_batches(self.train, position.batches)
            loader.set_epoch(position.epoch)
            # The order of (seed, epoch), set on the sampler itself: with several processes a
            # resumed loader wraps it too deep for the loader's set_epoch to reach it.
            self.order.set_epoch(position.epoch)
            for batch in loader:
                position.batches += 1
                yield batch
            position.epoch, position.batches = position.epoch + 1, 0

    def checkpointing(self, accelerator: Accelerator, position: DataPosition) -> None:
        """Nothing to gather: the epoch and the batch count say where every process is."""


class StreamSource:
    """CodeParrot's on-the-fly packing of `data/train` and `data/valid`, sharded by rank."""

    def __init__(
        self,
        data: str,
        tokenizer: Tokenizer,
        seq_len: int,
        micro_batch: int,
        *,
        shuffle: bool,
        seed: int,
        num_workers: int,
        rank: int,
        world_size: int,
    ) -> None:
        shard = {"rank": rank, "world_size": world_size}
        self.stream = ConstantLengthDataset(
            Path(data) / "train",
            tokenizer,
            seq_len,
            infinite=True,
            shuffle=shuffle,
            seed=seed,
            **shard,
        )
        # Found here, not in a DataLoader worker's traceback once the model has loaded.
        self.stream.check_readers(world_size * max(1, num_workers))
        self.train = DataLoader(
            self.stream,
            batch_size=micro_batch,
            num_workers=num_workers,
            generator=_private_generator(seed),
        )
        valid = ConstantLengthDataset(
            Path(data) / "valid", tokenizer, seq_len, shuffle=False, **shard
        )
        # Nor at the first evaluation, a thousand steps in.
        whole_valid = ConstantLengthDataset(valid.data, tokenizer, seq_len, shuffle=False)
        if next(whole_valid.sequences(0, 1), None) is None:
            raise UsageError(f"{valid.data} is shorter than one sequence of {seq_len} tokens")
        self.valid = DataLoader(valid, batch_size=micro_batch, generator=_private_generator(seed))
        self.n_workers, self.rank = max(1, num_workers), rank

    def prepare(self, accelerator: Accelerator) -> None:
        """Nothing to do: each rank already reads its own share."""

    def batches_per_epoch(self) -> int | None:
        """Unknown before reading: the stream is endless."""
        return None

    def batches(self, accelerator: Accelerator, position: DataPosition) -> Iterator[dict]:
        """Endless batches from `position` on, advancing it."""
        starts = {int(c): Position(*p) for c, p in position.streams.items()}
        self.stream.resume(starts, position.batches)
        for batch in self.train:
            position.batches += 1
            position.streams[int(batch["consumer"][-1])] = batch["position"][-1].tolist()
            position.epoch = int(batch["position"][-1][0])
            yield {k: batch[k].to(accelerator.device, non_blocking=True) for k in MODEL_INPUTS}

    def checkpointing(self, accelerator: Accelerator, position: DataPosition) -> None:
        """Collect every rank's stream positions into `position` (the main process saves it)."""
        rows = torch.full((self.n_workers, 5), -1, dtype=torch.long)
        mine = [(c, w) for c, w in position.streams.items() if c // self.n_workers == self.rank]
        for n, (consumer, where) in enumerate(sorted(mine)):
            rows[n] = torch.tensor([consumer, *where])
        everyone = accelerator.gather(rows.to(accelerator.device)).cpu()
        position.streams = {int(r[0]): r[1:].tolist() for r in everyone if r[0] >= 0}
