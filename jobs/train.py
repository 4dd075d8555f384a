"""Train a GPT-2 code model on pretokenized shards, on one CPU or many GPUs.

    accelerate launch jobs/train.py --model work/demo/model --data work/demo/tokens \\
        --output work/demo/trained --recipe codeparrot-small
    accelerate launch --num_processes 8 jobs/train.py ... --micro-batch 24   # 192 = 24 x 8
    python jobs/train.py ... --mixed-precision no --max-steps 300 --warmup-steps 30  # one CPU

Recipes are CodeParrot's runs: codeparrot-small (192 sequences per step, lr 5e-4, 2,000
warmup steps, 150,000 steps) and codeparrot (1.5B: 512, 2e-4, 750, 50,000). The global batch
stays as the recipe says whatever the number of processes; --micro-batch sets what one
process computes at once and the gradient accumulation makes up the rest. Each option
overrides the recipe. Writes <output>/log.jsonl and <output>/tensorboard (loss, lr, grad
norm, tokens/s, MFU, data wait, valid loss and perplexity), <output>/checkpoints/step-N
(--resume continues from the latest; --overwrite starts over in an output that holds an
earlier run, deleting its checkpoints, logs and final weights), and at the end the model and
tokenizer in <output>: until then, no weights there say the run has not finished.
"""

from __future__ import annotations

from dataprep.cli import parse_config, user_errors
from modeling.processes import leave_processes
from modeling.train import TrainConfig, train


def main(config: TrainConfig) -> None:
    """Train, then print the last figures."""
    metrics = train(config)
    leave_processes()
    if "valid_loss" in metrics:
        print(
            f"step {metrics['step']}: train loss {metrics['loss']:.3f}, "
            f"valid loss {metrics['valid_loss']:.3f} (perplexity {metrics['perplexity']:.1f})"
        )


if __name__ == "__main__":
    with user_errors("train.py"):
        main(parse_config(TrainConfig, __doc__))
