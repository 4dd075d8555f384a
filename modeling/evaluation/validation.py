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
from modeling.data.packed import PackedWindows
from modeling.data.sources import MODEL_INPUTS
from modeling.initialize import load_model
from modeling.inputs import check_tokens, model_folder, sequence_length


@torch.no_grad()
def evaluate(
    accelerator: Accelerator, model: torch.nn.Module, loader: DataLoader, max_batches: int | None
) -> dict:
    """Mean loss and perplexity over the loader's batches (at most `max_batches` per process)."""
    model.eval()
    losses = []
    for n, batch in enumerate(loader):
        if n == max_batches:
            break
        loss = model(**{k: batch[k].to(accelerator.device) for k in MODEL_INPUTS}).loss
        losses.append(
            accelerator.gather_for_metrics(loss.detach().float().repeat(len(batch["input_ids"])))
        )
    model.train()
    if not losses:
        raise UsageError("no validation batch: the held-out data is shorter than one sequence")
    loss = torch.cat(losses).mean().item()
    return {
        "valid_loss": loss,
        "perplexity": math.exp(min(loss, 50.0)),
        "sequences": sum(len(x) for x in losses),
    }


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
    accelerator = Accelerator()
    # The data before the weights: a folder too short for one sequence fails first.
    if pretokenized:
        windows = PackedWindows(data, "valid", seq_len)
        loader = accelerator.prepare(DataLoader(windows, batch_size=batch_size))
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
