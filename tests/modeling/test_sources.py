"""The training data sources as Accelerate shards them: a resumed process sees the batches an
uninterrupted one would have."""

from __future__ import annotations

import itertools
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from accelerate.data_loader import prepare_data_loader, skip_first_batches
from tokenizers import Tokenizer

from dataprep.cli import UsageError
from modeling.data.constant_length import row_groups
from modeling.data.sources import DataPosition, PackedSource, StreamSource


class _Process:
    """What the sources use of an Accelerator, as process `index` of two."""

    def __init__(self, index: int) -> None:
        self.index = index

    def prepare(self, loader):
        return prepare_data_loader(loader, num_processes=2, process_index=self.index)

    def skip_first_batches(self, loader, n):
        return skip_first_batches(loader, n)


def _first_tokens(source, process, position, n):
    batches = itertools.islice(source.batches(process, position), n)
    return [batch["input_ids"][:, 0].tolist() for batch in batches]


def test_a_process_resumed_in_a_later_epoch_keeps_that_epochs_order(tokens_dir):
    for index in range(2):
        process = _Process(index)
        source = PackedSource(
            tokens_dir, 16, 2, shuffle=True, seed=1, num_workers=0, rank=index, world_size=2
        )
        source.prepare(process)
        per_epoch = source.batches_per_epoch()
        whole = _first_tokens(source, process, DataPosition(), 3 * per_epoch)
        for epoch, done in ((1, 2), (1, per_epoch - 1), (2, 1)):
            position = DataPosition()
            position.epoch, position.batches = epoch, done
            resumed = _first_tokens(source, process, position, 3)
            start = epoch * per_epoch + done
            assert resumed == whole[start : start + 3], (index, epoch, done)


def test_on_the_fly_packing_refuses_what_would_fail_later_before_training(
    clean_dir, tokenizer_dir, tmp_path
):
    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    common = {"shuffle": False, "seed": 0, "rank": 0, "world_size": 1}
    StreamSource(str(clean_dir), tokenizer, 64, 4, num_workers=2, **common)
    # More readers than row groups: found here, not in a DataLoader worker's traceback.
    readers = len(row_groups(clean_dir / "train")) + 1
    with pytest.raises(UsageError, match=f"cannot feed {readers} readers"):
        StreamSource(str(clean_dir), tokenizer, 64, 4, num_workers=readers, **common)
    # A valid split too short for one sequence: found here, not at the first evaluation.
    data = tmp_path / "clean"
    shutil.copytree(clean_dir / "train", data / "train")
    (data / "valid").mkdir()
    pq.write_table(pa.table({"content": ["x = 1\n"]}), data / "valid" / "part-00000.parquet")
    with pytest.raises(UsageError, match="valid is shorter than one sequence of 64 tokens"):
        StreamSource(str(data), tokenizer, 64, 4, num_workers=0, **common)
