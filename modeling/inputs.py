"""Checks of the folders a modeling job is given, made before any model loads.

A wrong folder would otherwise surface deep inside transformers (as a hub lookup of a local
path) or, for token shards made with another tokenizer, not at all: the ids would index the
wrong embedding rows. Each check raises a `UsageError` naming the folder and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers import AutoConfig

from dataprep.cli import MissingInput, UsageError
from dataprep.features import TOKENIZER_JSON, tokenizer_file
from dataprep.pretokenize import load_meta
from dataprep.tokenizer import tokenizer_fingerprint

CONFIG_FILE = "config.json"


def model_folder(path: str | Path) -> Path:
    """`path` as a folder that holds a model and its tokenizer; MissingInput if it does not."""
    folder = Path(path)
    for name in (CONFIG_FILE, TOKENIZER_JSON):
        if not (folder / name).is_file():
            raise MissingInput(
                f"no model at {path} ({name} missing): make one with jobs/init_model.py"
            )
    return folder


def sequence_length(model_dir: str | Path, seq_len: int | None) -> int:
    """`seq_len`, or the model's context when it is None or 0; refused past the context or at 1."""
    n_positions = AutoConfig.from_pretrained(str(model_dir)).n_positions
    if seq_len == 1:
        raise UsageError("--seq-len 1 leaves no token to predict: give 2 or more (0: the context)")
    if seq_len and seq_len > n_positions:
        raise UsageError(
            f"--seq-len {seq_len} is longer than the context of the model at {model_dir} "
            f"({n_positions} positions)"
        )
    return seq_len or n_positions


def check_tokens(tokens_dir: str | Path, model_dir: str | Path, splits: Iterable[str]) -> None:
    """Refuse a pretokenized folder that is unfinished, lacks a split, or is another tokenizer's."""
    meta = load_meta(tokens_dir)  # MissingInput if unfinished
    missing = [split for split in splits if split not in meta["splits"]]
    if missing:
        raise UsageError(
            f"{tokens_dir} holds no {' or '.join(missing)} split "
            f"(only {', '.join(sorted(meta['splits'])) or 'none'})"
        )
    # The model's tokenizer.json is the tokens' tokenizer as jobs/init_model.py saved it, maybe
    # with another transformers: compared by what fixes the ids, not byte for byte.
    model_tokenizer = tokenizer_file(model_dir)
    fingerprint = tokenizer_fingerprint(model_tokenizer.read_text(encoding="utf-8"))
    if fingerprint != meta.get("tokenizer_fingerprint"):
        raise UsageError(
            f"the tokens in {tokens_dir} were made with another tokenizer than the model's "
            f"({model_tokenizer}): run jobs/pretokenize.py again with "
            f"--tokenizer {model_dir}, or use a model initialised from the tokens' tokenizer"
        )
