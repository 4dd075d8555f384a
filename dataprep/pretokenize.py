"""Pretokenization: clean Parquet shards -> packed token shards that training memory-maps.

Every clean shard becomes one token shard: the ids of its documents, in order, each document
followed by `<|endoftext|>` (as CodeParrot's ConstantLengthDataset joins them), stored as raw
little-endian integers (uint16 while the vocabulary fits, else uint32). One Spark task per
shard reads it in Arrow batches, encodes, and streams the ids out, so the work scales with the
number of shards and no task holds more than a batch of text.

Output layout (written under a temporary folder, moved into place when every task is done):
    <output>/<split>/part-00000.bin   packed ids of clean shard 0 of <split>, and so on
    <output>/meta.json                dtype, eos id, vocabulary, per-shard and per-split counts
    <output>/_SUCCESS
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from tokenizers import Tokenizer

from dataprep.cli import MissingInput, UsageError
from dataprep.features import tokenizer_file
from dataprep.storage import SUCCESS, Storage
from dataprep.tokenizer import EOS, tokenizer_fingerprint, tokenizer_from_json

META = "meta.json"
_BATCH_ROWS = 1_000


def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned little-endian integer holding every id of the vocabulary."""
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


def pack_documents(tokenizer: Tokenizer, texts: list[str], dtype: np.dtype) -> np.ndarray:
    """The ids of `texts`, each document followed by the end-of-text id, as one flat array."""
    eos_id = tokenizer.token_to_id(EOS)
    encodings = tokenizer.encode_batch_fast(texts, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) + 1 for e in encodings), dtype=np.int64, count=len(texts))
    packed = np.empty(int(lengths.sum()), dtype=dtype)
    end = 0
    for encoding, length in zip(encodings, lengths, strict=True):
        packed[end : end + length - 1] = encoding.ids
        packed[end + length - 1] = eos_id
        end += length
    return packed


def arrow_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and path for a Hadoop-style URI (file:, hdfs://, s3a://, gs://)."""
    if uri.startswith("file:"):
        return pafs.LocalFileSystem(), "/" + uri[len("file:") :].lstrip("/")
    if uri.startswith("s3a://"):
        uri = "s3://" + uri[len("s3a://") :]
    return pafs.FileSystem.from_uri(uri)


def tokenize_shard(source: str, target: str, tokenizer_json: str) -> dict:
    """Encode the clean shard `source` into the token shard `target`; return its counts."""
    tokenizer = tokenizer_from_json(tokenizer_json)
    dtype = token_dtype(tokenizer.get_vocab_size())
    in_fs, in_path = arrow_filesystem(source)
    out_fs, out_path = arrow_filesystem(target)
    # A retried or speculative task writes its own file, then moves it over the target:
    # the content is the same whichever attempt wins.
    attempt = f"{out_path}.{uuid.uuid4().hex}.tmp"
    docs = tokens = chars = 0
    with in_fs.open_input_file(in_path) as raw, out_fs.open_output_stream(attempt) as out:
        for batch in pq.ParquetFile(raw).iter_batches(batch_size=_BATCH_ROWS, columns=["content"]):
            texts = [text or "" for text in batch.column("content").to_pylist()]
            packed = pack_documents(tokenizer, texts, dtype)
            out.write(packed.tobytes())
            docs += len(texts)
            tokens += len(packed)
            chars += sum(len(text) for text in texts)
    out_fs.move(attempt, out_path)
    return {"docs": docs, "tokens": tokens, "chars": chars}


def _check_shard(source: str) -> None:
    """Raise UsageError unless `source` is a Parquet file with a `content` column (its footer
    is read here, so that a bad file stops the job before any task fails on it)."""
    fs, path = arrow_filesystem(source)
    try:
        with fs.open_input_file(path) as raw:
            names = pq.ParquetFile(raw).schema_arrow.names
    except pa.ArrowInvalid:
        raise UsageError(f"{source} is not a Parquet file: a split holds clean shards") from None
    if "content" not in names:
        raise UsageError(f"{source} has no `content` column: a split holds clean shards")


def _split_sources(storage: Storage, data: str, splits: Iterable[str] | None) -> dict[str, list]:
    """The Parquet files of each split folder under `data`.

    By default every folder with Parquet files is a split, and `train` must be one of them.
    """
    if splits is not None:
        sources = {name: storage.glob_files(f"{data}/{name}") for name in splits}
        for name, files in sources.items():
            if not files:
                raise MissingInput(f"no Parquet shards under {data}/{name}")
        return sources
    if not storage.exists(data):
        raise MissingInput(f"{data} does not exist")
    names = [name for name in storage.list_folders(data) if not name.startswith(("_", "."))]
    sources = {name: files for name in names if (files := storage.glob_files(f"{data}/{name}"))}
    if "train" not in sources:
        # A workdir, or a folder of stages, would be read as splits named after its folders.
        raise MissingInput(
            f"no split folders with Parquet shards under {data}: give the folder that holds "
            "train/ and valid/ (a pipeline's <workdir>/clean), not a split itself"
        )
    return sources


def pretokenize(
    spark: SparkSession,
    data: str,
    tokenizer_dir: str,
    output: str,
    splits: Iterable[str] | None = None,
    overwrite: bool = False,
) -> dict:
    """Pack every split under `data` (train/, valid/ of Parquet shards) into `output`.

    An `output` that already holds token shards is replaced only if `overwrite`; one that
    holds anything else never is (the write replaces the whole folder).
    """
    storage = Storage(spark)
    data, output = storage.qualify(data.rstrip("/")), storage.qualify(output.rstrip("/"))
    if storage.glob_files(output):
        if not storage.exists(f"{output}/{META}"):
            raise UsageError(
                f"{output} holds files that are not token shards (no {META}): choose another "
                "--output"
            )
        if not overwrite:
            raise UsageError(
                f"{output} already holds token shards: --overwrite replaces them, or choose "
                "another --output"
            )
    tokenizer_json = tokenizer_file(tokenizer_dir).read_text(encoding="utf-8")
    tokenizer = tokenizer_from_json(tokenizer_json)
    if tokenizer.token_to_id(EOS) is None:
        raise UsageError(f"the tokenizer in {tokenizer_dir} has no {EOS} token")

    split_sources = _split_sources(storage, data, splits)
    if output == data or output.startswith(f"{data}/"):
        # A rerun would read the token shards as a split of the data.
        raise UsageError(f"--output {output} lies inside --data {data}: choose a folder beside it")
    for source in (source for sources in split_sources.values() for source in sources):
        _check_shard(source)
    tmp = storage.scratch(output)
    tasks = []
    for name, sources in split_sources.items():
        storage.mkdirs(f"{tmp}/{name}")
        tasks += [(name, f"part-{i:05d}.bin", source) for i, source in enumerate(sources)]
    shared = spark.sparkContext.broadcast(tokenizer_json)
    results = (
        spark.sparkContext.parallelize(tasks, len(tasks))
        .map(lambda t: tokenize_shard(t[2], f"{tmp}/{t[0]}/{t[1]}", shared.value))
        .collect()  # one small dict of counts per shard
    )
    shared.destroy()

    meta = {
        "dtype": token_dtype(tokenizer.get_vocab_size()).str,
        "eos_id": tokenizer.token_to_id(EOS),
        "vocab_size": tokenizer.get_vocab_size(),
        "tokenizer_fingerprint": tokenizer_fingerprint(tokenizer_json),
        "source": data,
        "splits": {},
    }
    for (name, file, source), counts in zip(tasks, results, strict=True):
        split = meta["splits"].setdefault(name, {"docs": 0, "tokens": 0, "chars": 0, "shards": []})
        split["shards"].append({"file": file, "source": source, **counts})
        for key in ("docs", "tokens", "chars"):
            split[key] += counts[key]
    storage.write_text(f"{tmp}/{META}", json.dumps(meta, indent=2) + "\n")
    storage.delete(output)
    storage.rename(tmp, output)
    storage.write_text(f"{output}/{SUCCESS}", "")
    return meta


def load_meta(output: str | Path) -> dict:
    """The meta.json of a finished pretokenized folder (local path); refuses an unfinished one."""
    root = Path(output)
    if not (root / SUCCESS).exists():
        raise MissingInput(f"{root} is not a finished pretokenized folder (no {SUCCESS})")
    return json.loads((root / META).read_text(encoding="utf-8"))


def open_shards(output: str | Path, split: str) -> list[np.memmap]:
    """The token shards of `split`, memory-mapped read-only, in order."""
    meta = load_meta(output)
    if split not in meta["splits"]:
        raise KeyError(f"no split {split!r} in {output}; found {sorted(meta['splits'])}")
    dtype = np.dtype(meta["dtype"])
    return [
        np.memmap(Path(output) / split / shard["file"], dtype=dtype, mode="r")
        for shard in meta["splits"][split]["shards"]
        if shard["tokens"]
    ]
