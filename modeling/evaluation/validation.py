"""Validation loss and perplexity of a model on held-out code, packed as in training."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import AutoTokenizer

from dataprep.cli import UsageError
from dataprep.pretokenize import META
from modeling.data.constant_length import ConstantLengthDataset
from modeling.data.packed import PackedWindows, process_share
from modeling.data.sources import MODEL_INPUTS
from modeling.initialize import load_model
from modeling.inputs import check_tokens, model_folder, sequence_length
from modeling.processes import joined_processes


@torch.no_grad()
def evaluate(
    accelerator: Accelerator, model: torch.nn.Module, loader: DataLoader, max_batches: int | None
) -> dict:
    """Mean loss and perplexity over the loader's batches (at most `max_batches` per process).

    Each process evaluates its own share, however many batches that is, and the sums meet in
    one reduction at the end: a collective per batch would hang or fail when the shares differ.
    """
    model.eval()
    total, sequences = 0.0, 0
    for n, batch in enumerate(loader):
        if n == max_batches:
            break
        loss = model(**{k: batch[k].to(accelerator.device) for k in MODEL_INPUTS}).loss
        total += loss.item() * len(batch["input_ids"])  # every sequence has the same length
        sequences += len(batch["input_ids"])
    model.train()
    device = accelerator.device if accelerator.num_processes > 1 else "cpu"
    sums = accelerator.reduce(
        torch.tensor([total, sequences], dtype=torch.float64, device=device), reduction="sum"
    )
    total, sequences = sums[0].item(), int(sums[1].item())
    if not sequences:
        raise UsageError("no validation batch: the held-out data is shorter than one sequence")
    loss = total / sequences
    return {"valid_loss": loss, "perplexity": math.exp(min(loss, 50.0)), "sequences": sequences}


def validation_loss(
    model_dir: str,
    data: str,
    *,
    seq_len: int | None = None,
    batch_size: int = 8,
    max_batches: int | None = None,
) -> dict:
    """Loss and perplexity on `data`: Parquet shards (W/clean/valid) or a pretokenized folder.

    `seq_len` None or 0 means the model's context.
    """
    seq_len = sequence_length(model_folder(model_dir), seq_len)
    pretokenized = (Path(data) / META).exists()
    if pretokenized:
        check_tokens(data, model_dir, ["valid"])
    joined_processes()
    accelerator = Accelerator()
    # The data before the weights: a folder too short for one sequence fails first.
    if pretokenized:
        windows = PackedWindows(data, "valid", seq_len)
        share = process_share(windows, accelerator.process_index, accelerator.num_processes)
        loader = DataLoader(share, batch_size=batch_size)
    else:
        if (Path(data) / "train").is_dir():
            # Parquet is read recursively: W/clean would measure the training files too.
            raise UsageError(
                f"{data} holds a train/ split: give the held-out shards ({data}/valid) "
                "or a pretokenized folder"
            )
        tokenizer = AutoTokenizer.from_pretrained(model_dir).backend_tokenizer
        sequences = ConstantLengthDataset(
            data,
            tokenizer,
            seq_len,
            shuffle=False,
            rank=accelerator.process_index,
            world_size=accelerator.num_processes,
        )
        loader = DataLoader(sequences, batch_size=batch_size)
    model = accelerator.prepare(load_model(model_dir))
    return evaluate(accelerator, model, loader, max_batches)
