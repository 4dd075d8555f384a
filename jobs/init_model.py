"""Initialise a GPT-2 code model from a preset and a tokenizer (no hub, no download).

    python jobs/init_model.py --tokenizer work/demo/tokenizer --preset tiny --output work/demo/model

Presets (modeling.config.PRESETS): tiny (tests, CPU demo), codeparrot-small (GPT-2 124M,
CodeParrot's 110M), codeparrot-large (GPT-2 large, 774M), codeparrot (GPT-2 XL, 1.5B). All
have scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn on. The output folder holds
the model and the tokenizer: AutoModelForCausalLM.from_pretrained and AutoTokenizer load it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataprep.cli import (
    check_options,
    option,
    parse_config,
    refuse_to_write_over,
    user_errors,
)
from modeling.config import PRESETS
from modeling.initialize import init_model


@dataclass(frozen=True)
class InitModelJob:
    """Settings of the model initialisation."""

    tokenizer: str = option(help="tokenizer folder (jobs/train_tokenizer.py's output)")
    preset: str = option(help=", ".join(PRESETS), choices=tuple(PRESETS))
    output: str = option(help="folder to save the model and its tokenizer in")
    pad_vocab_to: int = option(
        64, help="round the embedding rows up to a multiple of this (1: no padding)", minimum=1
    )
    seed: int = option(0, help="seed of the weight initialisation")
    overwrite: bool = option(False, help="write over an --output that already holds files")

    def __post_init__(self) -> None:
        check_options(self)


def main(job: InitModelJob) -> None:
    """Initialise, save, and print the parameter count."""
    refuse_to_write_over(job.output, job.overwrite)
    model = init_model(
        job.tokenizer, job.preset, job.output, pad_vocab_to=job.pad_vocab_to, seed=job.seed
    )
    n = sum(p.numel() for p in model.parameters())
    print(
        f"{job.preset}: {n / 1e6:,.1f}M parameters, vocabulary {model.config.vocab_size:,}, "
        f"saved to {job.output}"
    )


if __name__ == "__main__":
    with user_errors("init_model.py"):
        main(parse_config(InitModelJob, __doc__))
