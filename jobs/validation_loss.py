"""Validation loss and perplexity of a model on held-out code.

    accelerate launch jobs/validation_loss.py --model work/demo/model --data work/demo/clean/valid
    python jobs/validation_loss.py --model work/demo/model --data work/demo/tokens

--data is a folder of Parquet shards, packed on the fly as in training (documents joined
with <|endoftext|>, cut into sequences of the model's context), or a pretokenized folder
(its valid split). Sequences are shared out across processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dataprep.cli import option, parse_config
from modeling.evaluation.validation import validation_loss


@dataclass(frozen=True)
class ValidationLossJob:
    """Settings of the validation-loss evaluation."""

    model: str = option(help="model folder (with its tokenizer)")
    data: str = option(help="Parquet shards (W/clean/valid) or a pretokenized folder")
    seq_len: int | None = option(None, help="tokens per sequence (default: the model's context)")
    batch_size: int = option(8, help="sequences per forward pass")
    max_batches: int | None = option(None, help="batches per process, at most (default: all)")


def main(job: ValidationLossJob) -> None:
    """Evaluate and print the figures as JSON."""
    result = validation_loss(
        job.model,
        job.data,
        seq_len=job.seq_len,
        batch_size=job.batch_size,
        max_batches=job.max_batches,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main(parse_config(ValidationLossJob, __doc__))
