"""Pretokenize the clean shards for training: packed ids, one token shard per clean shard.

    spark-submit jobs/pretokenize.py --data work/demo/clean --tokenizer work/demo/tokenizer \\
        --output work/demo/tokens

Every split folder under --data (train/, valid/) becomes <output>/<split>/part-NNNNN.bin:
the ids of the shard's documents in order, each followed by <|endoftext|>, as raw
little-endian uint16 (uint32 past 65,536 tokens). <output>/meta.json records the dtype, the
end-of-text id and the documents, tokens and characters of every shard and split; training
memory-maps the shards (dataprep.pretokenize.open_shards) instead of tokenizing on the fly.
The tokenizer folder is read on the driver and shipped to the executors.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from dataprep.cli import option
from dataprep.pretokenize import pretokenize
from dataprep.session import run_job


@dataclass(frozen=True)
class PretokenizeJob:
    """Settings of the pretokenization job."""

    data: str = option(help="folder of split folders of Parquet shards (W/clean)")
    tokenizer: str = option(help="tokenizer folder holding tokenizer.json (W/tokenizer)")
    output: str = option(help="folder for the token shards and meta.json (W/tokens)")
    overwrite: bool = option(False, help="replace the token shards already in --output")


def main(spark: SparkSession, job: PretokenizeJob) -> None:
    """Pack every split and print its documents, tokens and characters per token."""
    meta = pretokenize(spark, job.data, job.tokenizer, job.output, overwrite=job.overwrite)
    for name, split in meta["splits"].items():
        print(
            f"{name}: {split['docs']:,} files -> {split['tokens']:,} tokens "
            f"({split['chars'] / max(1, split['tokens'] - split['docs']):.2f} chars/token) "
            f"in {len(split['shards'])} shards"
        )
    print(f"tokens: {job.output} ({meta['dtype']}, eos id {meta['eos_id']})")


if __name__ == "__main__":
    run_job(main, PretokenizeJob, __doc__, "codeparrot-pretokenize")
