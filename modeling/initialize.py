"""Model folders: a fresh one from a preset (config, weights, tokenizer), and loading one."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel, PreTrainedModel

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


def load_model(model_dir: str | Path, **kwargs) -> PreTrainedModel:
    """The causal LM in `model_dir` (`from_pretrained` keywords pass through), loss named."""
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), **kwargs)
    if getattr(model, "loss_type", None) is None:
        # transformers picks the loss by class name, and "GPT2LMHeadModel" names none of its
        # table: every run warned of an unrecognized `loss_type=None` and fell back to this.
        model.loss_type = "ForCausalLM"
    return model
