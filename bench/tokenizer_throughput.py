"""Benchmark: tokenizer training and pretokenization on >= 1 GB of shards, and tokenizer quality.

    .venv/bin/python bench/tokenizer_throughput.py --raw work/bench/raw-1GB work/bench/raw-512MB \\
        --clean work/bench/full-1GB/clean --cores 2

Speed (on the file contents of the --raw dumps, duplicates included, written as Parquet shards
of the clean format, so the volume is the dumps' and not what the pipeline keeps):
- training throughput: UTF-8 MB read by `dataprep.tokenizer.train_tokenizer` per second;
- pretokenization: `jobs/pretokenize.py` through spark-submit in local[cores], MB/s per core.
Quality (on a pipeline's clean/train and clean/valid, the same budget for both set-ups):
chars/token and vocabulary use on valid for this project's tokenizer and for one trained the
way CodeParrot did, `PreTrainedTokenizerFast.train_new_from_iterator` over a GPT-2-shaped base,
plus one-core encode speed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq
from submit import ROOT, spark_submit
from tokenizers import Tokenizer, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from dataprep.tokenizer import (
    EOS,
    byte_level_bpe,
    iter_contents,
    measure_tokenizer,
    train_tokenizer,
)


def contents_as_shards(dumps: list[Path], output: Path, shard_bytes: int = 128_000_000) -> dict:
    """Write the `content` of every row of JSON Lines dumps as Parquet shards; return totals."""
    output.mkdir(parents=True, exist_ok=True)
    shard, size, files, total = [], 0, 0, 0
    parts = 0

    def flush() -> None:
        nonlocal shard, size, parts
        if shard:
            pq.write_table(pa.table({"content": shard}), output / f"part-{parts:05d}.parquet")
            shard, size, parts = [], 0, parts + 1

    for path in sorted(p for raw in dumps for p in raw.glob("*.json.gz")):
        table = pajson.read_json(pa.input_stream(str(path), compression="gzip"))
        for text in table.column("content").to_pylist():
            if not text:
                continue
            nbytes = len(text.encode("utf-8"))
            shard.append(text)
            size, files, total = size + nbytes, files + 1, total + nbytes
            if size >= shard_bytes:
                flush()
    flush()
    return {"files": files, "bytes": total, "shards": parts}


def gpt2_shaped_base() -> PreTrainedTokenizerFast:
    """A small byte-level BPE with GPT-2's components, standing in for the hub's `gpt2`."""
    base = byte_level_bpe()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    base.train_from_iterator(["def f(x):\n    return x\n"], trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=base, eos_token=EOS, bos_token=EOS, unk_token=EOS
    )


def codeparrot_way(train: Path, vocab_size: int, n_examples: int) -> tuple[Tokenizer, float]:
    """CodeParrot's recipe: `train_new_from_iterator` on a GPT-2 base; the tokenizer and seconds."""
    started = time.perf_counter()
    texts = (text for batch in iter_contents(train, n_examples) for text in batch)
    trained = gpt2_shaped_base().train_new_from_iterator(texts, vocab_size=vocab_size)
    return trained.backend_tokenizer, time.perf_counter() - started


def main() -> None:
    """Run every measurement and print one table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--raw", type=Path, nargs="+", required=True, help="JSON Lines dumps (>= 1 GB of content)"
    )
    parser.add_argument("--clean", type=Path, required=True, help="a pipeline's clean/ folder")
    parser.add_argument("--work", type=Path, default=ROOT / "work/bench/tokenizer")
    parser.add_argument("--vocab-size", type=int, default=32_768)
    parser.add_argument("--n-examples", type=int, default=200_000)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    bulk = args.work / "bulk"

    volume = contents_as_shards(args.raw, bulk / "train")
    print(
        f"bulk: {volume['files']:,} files, {volume['bytes'] / 1e6:,.0f} MB "
        f"in {volume['shards']} shards"
    )
    _, training = train_tokenizer(
        bulk / "train", args.work / "tokenizer-bulk", vocab_size=args.vocab_size, n_examples=10**9
    )
    print(
        f"training on bulk: {training['bytes'] / 1e6:,.0f} MB in {training['seconds']:.1f}s "
        f"= {training['mb_per_s']} MB/s"
    )

    started = time.perf_counter()
    spark_submit(
        "jobs/pretokenize.py",
        "--data", bulk,
        "--tokenizer", args.work / "tokenizer-bulk",
        "--output", args.work / "tokens-bulk",
        cores=args.cores,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    meta = json.loads((args.work / "tokens-bulk/meta.json").read_text())
    tokens = meta["splits"]["train"]["tokens"]
    pretok_rate = volume["bytes"] / 1e6 / seconds / args.cores
    print(f"pretokenize bulk: {tokens:,} tokens in {seconds:.1f}s = {pretok_rate:.2f} MB/s/core")

    ours, ours_training = train_tokenizer(
        args.clean / "train",
        args.work / "tokenizer",
        vocab_size=args.vocab_size,
        n_examples=args.n_examples,
        show_progress=False,
    )
    theirs, theirs_seconds = codeparrot_way(args.clean / "train", args.vocab_size, args.n_examples)
    rows = {
        "this project": (
            measure_tokenizer(ours.backend_tokenizer, args.clean / "valid"),
            ours_training["seconds"],
        ),
        "train_new_from_iterator": (
            measure_tokenizer(theirs, args.clean / "valid"),
            theirs_seconds,
        ),
    }
    print(
        f"\nheld out: {args.clean / 'valid'}, vocabulary {args.vocab_size:,}, trained on "
        f"{ours_training['files']:,} files ({ours_training['bytes'] / 1e6:,.0f} MB)"
    )
    print(
        f"{'set-up':<26}{'chars/token':>12}{'vocab used':>12}{'encode MB/s/core':>18}{'train s':>9}"
    )
    for name, (m, train_s) in rows.items():
        print(
            f"{name:<26}{m['chars_per_token']:>12}{m['vocab_used']:>12.1%}{m['encode_mb_per_s_per_core']:>18}{train_s:>9.1f}"
        )
    print("CodeParrot reported ~3.6 chars/token on Python at 32,768")


if __name__ == "__main__":
    main()
