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

from accelerate import PartialState

from dataprep.cli import check_options, option, parse_config, user_errors
from modeling.evaluation.validation import validation_loss
from modeling.processes import leave_processes


@dataclass(frozen=True)
class ValidationLossJob:
    """Settings of the validation-loss evaluation."""

    model: str = option(help="model folder (with its tokenizer)")
    data: str = option(help="Parquet shards (W/clean/valid) or a pretokenized folder")
    seq_len: int | None = option(
        None,
        help="tokens per sequence, at most the model's context (default, or 0: the context)",
        minimum=0,
    )
    batch_size: int = option(8, help="sequences per forward pass", minimum=1)
    max_batches: int | None = option(
        None, help="batches per process, at most (default: all)", minimum=1
    )

    def __post_init__(self) -> None:
        check_options(self)


def main(job: ValidationLossJob) -> None:
    """Evaluate and print the figures as JSON."""
    result = validation_loss(
        job.model,
        job.data,
        seq_len=job.seq_len,
        batch_size=job.batch_size,
        max_batches=job.max_batches,
    )
    if PartialState().is_main_process:  # every process has the same figures
        print(json.dumps(result))
    leave_processes()


if __name__ == "__main__":
    with user_errors("validation_loss.py"):
        main(parse_config(ValidationLossJob, __doc__))
