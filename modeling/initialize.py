"""A freshly initialised model directory: config from a preset, weights, and the tokenizer."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, GPT2LMHeadModel

from dataprep.cli import UsageError
from dataprep.features import tokenizer_file
from modeling.config import model_config


def init_model(
    tokenizer_dir: str | Path,
    preset: str,
    output: str | Path,
    *,
    pad_vocab_to: int = 64,
    seed: int = 0,
) -> GPT2LMHeadModel:
    """Initialise `preset` for the tokenizer in `tokenizer_dir`; save both to `output`."""
    # The folder of the tokenizer.json: MissingInput here, not a hub lookup in transformers.
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_file(str(tokenizer_dir)).parent))
    if tokenizer.eos_token_id is None:
        raise UsageError(f"the tokenizer in {tokenizer_dir} has no end-of-text token")
    config = model_config(preset, len(tokenizer), tokenizer.eos_token_id, pad_vocab_to=pad_vocab_to)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    model.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))
    return model
