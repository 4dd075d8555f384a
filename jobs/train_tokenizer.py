"""Train CodeParrot's tokenizer: byte-level BPE on the clean shards (no Spark needed).

    python jobs/train_tokenizer.py --data work/demo/clean/train --output work/demo/tokenizer

The output folder loads with `transformers.AutoTokenizer.from_pretrained(...)`; its
tokenizer.json also serves the pipeline's char_token_ratio filter (`--tokenizer`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dataprep.cli import option, parse_config
from dataprep.tokenizer import train_tokenizer


@dataclass(frozen=True)
class TrainTokenizerJob:
    """Settings of the tokenizer training."""

    data: str = option(help="folder of Parquet shards with a `content` column (W/clean/train)")
    output: str = option(help="folder to save the tokenizer in (W/tokenizer)")
    vocab_size: int = option(32_768, help="vocabulary size, special token included")
    n_examples: int = option(200_000, help="files to train on, at most (CodeParrot: 200,000)")


def main(job: TrainTokenizerJob) -> None:
    """Train, save and print the vocabulary size and the time it took."""
    started = time.time()
    tokenizer = train_tokenizer(
        job.data, job.output, vocab_size=job.vocab_size, n_examples=job.n_examples
    )
    print(f"{len(tokenizer):,} tokens, saved to {job.output} in {time.time() - started:.1f}s")


if __name__ == "__main__":
    main(parse_config(TrainTokenizerJob, __doc__))
