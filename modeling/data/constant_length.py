"""CodeParrot's ConstantLengthDataset: pack clean Parquet shards into sequences on the fly.

Documents are read from the Parquet files of a split, tokenized in batches, each followed by
<|endoftext|>, and cut into sequences of exactly `seq_len` tokens; a sequence may span
documents, and the tokens left over at the end of one pass carry into the next (infinite
mode, with an epoch counter) or are dropped (one pass).

Sharding: the unit of work is one Parquet row group. Every consumer (a DataLoader worker of a
training process) owns the units u with u % n_consumers == its index, so each document goes
to exactly one consumer and no sequence is seen twice or skipped in an epoch. Shuffling is
two-level and seeded by (seed, epoch): the order of a consumer's units, and the documents
inside each unit (a row group is the shuffle buffer).

Resuming: every sequence comes with the position right after it (epoch, unit, document,
token offset). A consumer started from such a position opens that one row group and goes on
from that document: nothing before it is read or tokenized again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer
from torch.utils.data import IterableDataset, get_worker_info

from dataprep.cli import MissingInput, UsageError
from dataprep.tokenizer import EOS, tokenizer_from_json


@dataclass(frozen=True)
class Position:
    """The next token of a consumer's stream: pass, unit, document in the unit, token."""

    epoch: int = 0
    unit: int = 0  # index among the consumer's units, in the epoch's order
    doc: int = 0  # index among the unit's documents, in the epoch's order
    token: int = 0  # offset in that document's ids (its end-of-text included)

    def as_tensor(self) -> torch.Tensor:
        """The position as four int64s, so that it can travel in a batch."""
        return torch.tensor([self.epoch, self.unit, self.doc, self.token])


def row_groups(data: str | Path) -> list[tuple[str, int]]:
    """(file, row group) of every non-empty row group of the Parquet files under `data`, in a
    stable order; UsageError for a file without a `content` column.

    Names starting with `_` or `.`, of files or of folders (a writer's `_temporary/`), are not
    data, as for Spark.
    """
    files = sorted(
        p
        for p in Path(data).rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(data).parts)
    )
    if not files:
        raise MissingInput(f"no Parquet files under {data}")
    units = []
    for file in files:
        shard = pq.ParquetFile(file)
        if "content" not in shard.schema_arrow.names:
            raise UsageError(f"{file} has no `content` column: {data} should hold clean shards")
        metadata = shard.metadata
        units += [(str(file), g) for g in range(metadata.num_row_groups)
                  if metadata.row_group(g).num_rows]  # fmt: skip
    return units


class ConstantLengthDataset(IterableDataset):
    """Sequences of `seq_len` tokens packed from the documents under `data`."""

    def __init__(
        self,
        data: str | Path,
        tokenizer: Tokenizer,
        seq_len: int = 1024,
        *,
        infinite: bool = False,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        tokenize_batch: int = 64,
    ) -> None:
        self.data = data
        self.units = row_groups(data)
        # Encoded as pretokenize encodes: "<|endoftext|>" inside a file is text, not a boundary.
        self.tokenizer = tokenizer_from_json(tokenizer.to_str())
        self.eos_id = tokenizer.token_to_id(EOS)
        if self.eos_id is None:
            raise ValueError(f"the tokenizer has no {EOS} token")
        self.seq_len, self.infinite, self.shuffle, self.seed = seq_len, infinite, shuffle, seed
        self.rank, self.world_size, self.tokenize_batch = rank, world_size, tokenize_batch
        # Where consumers start (resume()), and which worker plays which consumer.
        self.starts: dict[int, Position] = {}
        self.rotation = 0

    def check_readers(self, n_consumers: int) -> None:
        """UsageError unless every one of `n_consumers` readers has a row group to read."""
        if len(self.units) < n_consumers:
            raise UsageError(
                f"{len(self.units)} non-empty row groups of {self.data} cannot feed "
                f"{n_consumers} readers (processes x DataLoader workers): use fewer "
                "workers, write the split in more row groups, or pretokenize it"
            )

    def resume(self, starts: dict[int, Position], batches_done: int = 0) -> None:
        """Start consumers (by index) at saved positions instead of the beginning.

        A DataLoader takes batch j from worker j % n_workers, starting again at worker 0; after
        `batches_done` batches, worker w plays consumer (w + batches_done) % n_workers, so the
        batches come in the order an uninterrupted run would have seen them.
        """
        self.starts = dict(starts)
        self.rotation = batches_done

    def consumer_units(self, consumer: int, n_consumers: int, epoch: int) -> list[tuple[str, int]]:
        """The units of one consumer, in the order of `epoch`."""
        mine = self.units[consumer::n_consumers]
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch, consumer]).permutation(len(mine))
            mine = [mine[i] for i in order]
        return mine

    def _documents(self, unit: tuple[str, int], epoch: int) -> list[str]:
        texts = pq.ParquetFile(unit[0]).read_row_group(unit[1], columns=["content"])
        texts = [t or "" for t in texts.column("content").to_pylist()]
        if self.shuffle:
            key = [self.seed, epoch, *unit[0].encode()[-16:], unit[1]]
            order = np.random.default_rng(key).permutation(len(texts))
            texts = [texts[i] for i in order]
        return texts

    def _stream(
        self, consumer: int, n_consumers: int, start: Position
    ) -> Iterator[tuple[np.ndarray, Position]]:
        """(ids of a document from some offset on, where they start) from `start` on."""
        epoch, unit, doc, token = start.epoch, start.unit, start.doc, start.token
        while True:
            units = self.consumer_units(consumer, n_consumers, epoch)
            if self.infinite and not units:
                # An endless pass over nothing would never yield: the DataLoader would wait.
                self.check_readers(n_consumers)
            for u in range(unit, len(units)):
                texts = self._documents(units[u], epoch)
                for first in range(doc, len(texts), self.tokenize_batch):
                    batch = texts[first : first + self.tokenize_batch]
                    encodings = self.tokenizer.encode_batch_fast(batch, add_special_tokens=False)
                    for i, encoding in enumerate(encodings):
                        ids = np.append(np.asarray(encoding.ids, dtype=np.int64), self.eos_id)
                        yield ids[token:], Position(epoch, u, first + i, token)
                        token = 0
                doc = 0
            if not self.infinite:
                return
            epoch, unit = epoch + 1, 0

    def sequences(
        self, consumer: int, n_consumers: int, start: Position = Position()
    ) -> Iterator[tuple[np.ndarray, Position]]:
        """One consumer's sequences, each with the position of the token that follows it."""
        pending: deque[tuple[np.ndarray, Position]] = deque()
        held = 0
        for piece in self._stream(consumer, n_consumers, start):
            pending.append(piece)
            held += len(piece[0])
            while held >= self.seq_len:
                parts, need = [], self.seq_len
                while need:
                    ids, where = pending.popleft()
                    parts.append(ids[:need])
                    if len(ids) > need:
                        pending.appendleft((ids[need:], replace(where, token=where.token + need)))
                    need -= len(parts[-1])
                    last = where
                held -= self.seq_len
                after = pending[0][1] if pending else replace(last, doc=last.doc + 1, token=0)
                yield np.concatenate(parts), after

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info else (0, 1)
        consumer = self.rank * n_workers + (worker + self.rotation) % n_workers
        start = self.starts.get(consumer, Position())
        for ids, after in self.sequences(consumer, self.world_size * n_workers, start):
            tensor = torch.from_numpy(ids)
            yield {
                "input_ids": tensor,
                "labels": tensor,
                "position": after.as_tensor(),
                "consumer": torch.tensor(consumer),
            }
