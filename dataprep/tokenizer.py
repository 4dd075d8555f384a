"""Byte-level BPE for Python code, built in code (no hub): GPT-2's pre-tokenizer and byte alphabet.

CodeParrot retrained GPT-2's tokenizer on its data: byte-level BPE whose initial alphabet is the
256 byte symbols, so any text encodes and decodes back exactly, with `<|endoftext|>` as the one
special token. The same set-up is assembled here from `tokenizers` parts and trained on the clean
Parquet shards, streamed in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.dataset as ds
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
# GPT-2's context; the training configs may use less.
MODEL_MAX_LENGTH = 1024


def byte_level_bpe() -> Tokenizer:
    """An untrained byte-level BPE tokenizer with GPT-2's pre-tokenization and decoding."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    return tokenizer


def iter_contents(
    data: str | Path, n_examples: int, batch_size: int = 1_000
) -> Iterator[list[str]]:
    """Batches of `content` from the Parquet files under `data`, `n_examples` files at most."""
    dataset = ds.dataset(str(data), format="parquet")  # skips _SUCCESS and other _ files
    left = n_examples
    for batch in dataset.to_batches(columns=["content"], batch_size=batch_size):
        texts = [text for text in batch.column("content").to_pylist() if text]
        if left <= len(texts):
            yield texts[:left]
            return
        left -= len(texts)
        yield texts


def train_tokenizer(
    data: str | Path,
    output: str | Path,
    *,
    vocab_size: int = 32_768,
    n_examples: int = 200_000,
    show_progress: bool = True,
) -> PreTrainedTokenizerFast:
    """Train on up to `n_examples` files under `data`; save where AutoTokenizer loads it."""
    tokenizer = byte_level_bpe()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=show_progress,
    )
    tokenizer.train_from_iterator(iter_contents(data, n_examples), trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        model_max_length=MODEL_MAX_LENGTH,
        # Decoding must give back the exact text: no space clean-up around punctuation.
        clean_up_tokenization_spaces=False,
    )
    wrapped.save_pretrained(str(output))
    return wrapped
