"""Byte-level BPE for Python code, built in code (no hub): GPT-2's pre-tokenizer and byte alphabet.

CodeParrot retrained GPT-2's tokenizer on its data: byte-level BPE whose initial alphabet is the
256 byte symbols, so any text encodes and decodes back exactly, with `<|endoftext|>` as the one
special token. The same set-up is assembled here from `tokenizers` parts and trained on the clean
Parquet shards, streamed in batches.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from dataprep.cli import MissingInput, UsageError

if TYPE_CHECKING:  # transformers takes seconds to import; Spark's Python workers never need it
    from transformers import PreTrainedTokenizerFast

EOS = "<|endoftext|>"
# GPT-2's context; the training configs may use less.
MODEL_MAX_LENGTH = 1024
# The 256 byte symbols and <|endoftext|>: a smaller vocabulary would still hold all of them.
MIN_VOCAB_SIZE = 257
# CodeParrot's tokenizer: a 32,768-token vocabulary learnt from 200,000 files.
VOCAB_SIZE = 32_768
N_EXAMPLES = 200_000


def tokenizer_fingerprint(tokenizer_json: str) -> str:
    """A digest of what fixes a tokenizer's ids: normalizer, pre-tokenizer, model, added tokens.

    Blind to layout and to the fields a library version adds when it saves the file, so the
    same tokenizer saved by another transformers (a GPU machine's, say) has the same digest.
    """
    spec = json.loads(tokenizer_json)
    essentials = {
        "normalizer": spec.get("normalizer"),
        "pre_tokenizer": spec.get("pre_tokenizer"),
        "model": spec.get("model"),
        "added_tokens": sorted((t["id"], t["content"]) for t in spec.get("added_tokens", [])),
    }
    return hashlib.sha256(json.dumps(essentials, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=2)
def tokenizer_from_json(text: str) -> Tokenizer:
    """A tokenizer from its JSON, for encoding file contents: parsed once per Python worker.

    Inside content, special tokens are encoded as the bytes they are: a file that contains the
    text "<|endoftext|>" must not end a document there.
    """
    tokenizer = Tokenizer.from_str(text)
    tokenizer.encode_special_tokens = True
    return tokenizer


def byte_level_bpe() -> Tokenizer:
    """An untrained byte-level BPE tokenizer with GPT-2's pre-tokenization and decoding."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    return tokenizer


_EXPECTED = "expected a folder of Parquet shards with a `content` column, such as W/clean/train"


def content_dataset(data: str | Path) -> ds.Dataset:
    """The Parquet shards under `data`; UsageError if there are none, or no `content` column."""
    try:
        dataset = ds.dataset(str(data), format="parquet")  # skips _SUCCESS and other _ files
    except FileNotFoundError:
        raise MissingInput(f"{data} does not exist: {_EXPECTED}") from None
    except pa.ArrowInvalid:
        # Arrow read the first file's footer: a raw JSON Lines dump fails here.
        raise UsageError(f"{data} holds files that are not Parquet: {_EXPECTED}") from None
    if not dataset.files:
        raise MissingInput(f"no Parquet shards under {data}: {_EXPECTED}")
    if "content" not in dataset.schema.names:
        raise UsageError(f"the Parquet shards under {data} have no `content` column: {_EXPECTED}")
    return dataset


def iter_contents(
    data: str | Path, n_examples: int, batch_size: int = 1_000
) -> Iterator[list[str]]:
    """Batches of `content` from the Parquet files under `data`, `n_examples` files at most."""
    dataset = content_dataset(data)
    left = n_examples
    for batch in dataset.to_batches(columns=["content"], batch_size=batch_size):
        texts = [text for text in batch.column("content").to_pylist() if text]
        if left <= len(texts):
            yield texts[:left]
            return
        left -= len(texts)
        yield texts


def has_content(data: str | Path) -> bool:
    """Whether a file under `data` has non-empty content (reading only as far as the first)."""
    return any(texts for texts in iter_contents(data, 1))


def train_tokenizer(
    data: str | Path,
    output: str | Path,
    *,
    vocab_size: int = VOCAB_SIZE,
    n_examples: int = N_EXAMPLES,
    show_progress: bool = True,
) -> tuple[PreTrainedTokenizerFast, dict]:
    """Train on up to `n_examples` files under `data`; save where AutoTokenizer loads it.

    Returns the tokenizer and what training read: files, UTF-8 bytes, seconds, MB/s.
    """
    if vocab_size < MIN_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be at least {MIN_VOCAB_SIZE}, not {vocab_size}")
    if n_examples < 1:
        raise ValueError(f"n_examples must be at least 1, not {n_examples}")
    if not has_content(data):
        raise UsageError(f"no file under {data} has content to train on")
    tokenizer = byte_level_bpe()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=show_progress,
    )
    read = {"files": 0, "bytes": 0}

    def counted() -> Iterator[list[str]]:
        for texts in iter_contents(data, n_examples):
            read["files"] += len(texts)
            read["bytes"] += sum(len(text.encode("utf-8")) for text in texts)
            yield texts

    started = time.perf_counter()
    # The row count from the Parquet footers gives the progress bar its total.
    length = min(n_examples, content_dataset(data).count_rows())
    tokenizer.train_from_iterator(counted(), trainer=trainer, length=length)
    seconds = time.perf_counter() - started
    from transformers import PreTrainedTokenizerFast

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
    stats = {
        **read,
        "seconds": round(seconds, 2),
        "mb_per_s": round(read["bytes"] / 1e6 / seconds, 2),
    }
    return wrapped, stats


def measure_tokenizer(tokenizer: Tokenizer, data: str | Path, n_examples: int = 10_000) -> dict:
    """Characters per token, share of the vocabulary used and one-core encode speed on `data`."""
    used = np.zeros(tokenizer.get_vocab_size(), dtype=bool)
    files = chars = tokens = nbytes = 0
    seconds = 0.0
    for texts in iter_contents(data, n_examples):
        files += len(texts)
        started = time.perf_counter()
        # One text per call: encoding a single text never fans out to other cores.
        encodings = [tokenizer.encode(text, add_special_tokens=False) for text in texts]
        seconds += time.perf_counter() - started
        for text, encoding in zip(texts, encodings, strict=True):
            used[encoding.ids] = True
            chars += len(text)
            nbytes += len(text.encode("utf-8"))
            tokens += len(encoding.ids)
    if not tokens:
        raise ValueError(f"no text to measure the tokenizer on under {data}")
    return {
        "files": files,
        "chars_per_token": round(chars / tokens, 3),
        "vocab_used": round(float(used.mean()), 4),
        "encode_mb_per_s_per_core": round(nbytes / 1e6 / seconds, 2),
    }
