"""Train CodeParrot's tokenizer: byte-level BPE on the clean shards (no Spark needed).

    python jobs/train_tokenizer.py --data work/demo/clean/train --output work/demo/tokenizer

The output folder loads with `transformers.AutoTokenizer.from_pretrained(...)`; its
tokenizer.json also serves the pipeline's char_token_ratio filter (`--tokenizer`) and the
pretokenization job. <output>/report.json holds what training read and how fast, and, on the
held-out files (--valid, by default the `valid` folder beside --data), characters per token,
the share of the vocabulary used and the encode speed of one core.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from dataprep.cli import (
    MissingInput,
    UsageError,
    check_options,
    option,
    parse_config,
    refuse_to_write_over,
    user_errors,
)
from dataprep.tokenizer import (
    MIN_VOCAB_SIZE,
    N_EXAMPLES,
    VOCAB_SIZE,
    has_content,
    measure_tokenizer,
    tokenizer_from_json,
    train_tokenizer,
)


@dataclass(frozen=True)
class TrainTokenizerJob:
    """Settings of the tokenizer training."""

    data: str = option(help="folder of Parquet shards with a `content` column (W/clean/train)")
    output: str = option(help="folder to save the tokenizer in (W/tokenizer)")
    vocab_size: int = option(
        VOCAB_SIZE,
        help="vocabulary size, special token included (at least the 256 bytes and that token)",
        minimum=MIN_VOCAB_SIZE,
    )
    n_examples: int = option(
        N_EXAMPLES, help="files to train on, at most (CodeParrot: 200,000)", minimum=1
    )
    valid: str | None = option(
        None, help="held-out shards to measure on (default: the `valid` folder beside --data)"
    )
    n_valid: int = option(10_000, help="held-out files to measure on, at most", minimum=1)
    overwrite: bool = option(False, help="write over an --output that already holds files")

    def __post_init__(self) -> None:
        check_options(self)


def held_out(job: TrainTokenizerJob) -> Path | None:
    """The held-out folder: --valid, else `valid` beside --data when it holds files.

    Checked before the training, which it would otherwise fail after.
    """
    if job.valid:
        if not has_content(job.valid):
            raise UsageError(f"--valid {job.valid} holds no files to measure the tokenizer on")
        return Path(job.valid)
    sibling = Path(job.data).parent / "valid"
    if not sibling.is_dir() or sibling == Path(job.data):
        return None
    try:
        found = has_content(sibling)
    except MissingInput:
        found = False
    if not found:
        print(
            f"note: {sibling} holds no files: the report has no held-out figures", file=sys.stderr
        )
        return None
    return sibling


def main(job: TrainTokenizerJob) -> None:
    """Train, save, measure on held-out files, and write and print the report."""
    refuse_to_write_over(job.output, job.overwrite)
    if (Path(job.data) / "train").is_dir():
        # Parquet is read recursively: W/clean would train on the held-out files too.
        raise UsageError(f"{job.data} holds a train/ split: give it ({job.data}/train)")
    mixed = next((p for p in Path(job.data).rglob("*") if _other_rows(p)), None)
    if mixed is not None:
        raise UsageError(
            f"{job.data} holds {mixed}, which is not training data: give the train split "
            "alone (W/clean/train)"
        )
    valid = held_out(job)
    tokenizer, training = train_tokenizer(
        job.data, job.output, vocab_size=job.vocab_size, n_examples=job.n_examples
    )
    report = {"vocab_size": len(tokenizer), "training": training}
    if valid is not None:
        # Measured as the data will be encoded: "<|endoftext|>" in a file is text there.
        encoder = tokenizer_from_json(tokenizer.backend_tokenizer.to_str())
        report["valid"] = {"data": str(valid), **measure_tokenizer(encoder, valid, job.n_valid)}
    (Path(job.output) / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{len(tokenizer):,} tokens from {training['files']:,} files "
        f"({training['bytes'] / 1e6:,.1f} MB, {training['mb_per_s']} MB/s), saved to {job.output}"
    )
    if valid is not None:
        v = report["valid"]
        print(
            f"held out ({v['files']:,} files of {valid}): {v['chars_per_token']} chars/token, "
            f"{v['vocab_used']:.1%} of the vocabulary used, "
            f"encode {v['encode_mb_per_s_per_core']} MB/s per core"
        )


def _other_rows(path: Path) -> bool:
    """Whether `path` is a folder of a workdir that holds no training rows: a held-out split or
    rejected rows (Parquet is read recursively, so a workdir given whole would take them)."""
    return path.is_dir() and (path.name == "valid" or path.name.startswith("reason="))


if __name__ == "__main__":
    with user_errors("train_tokenizer.py"):
        main(parse_config(TrainTokenizerJob, __doc__))
