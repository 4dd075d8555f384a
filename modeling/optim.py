"""AdamW with CodeParrot's weight decay split, and its cosine schedule with warmup."""

from __future__ import annotations

import torch
from torch import nn
from transformers import get_cosine_schedule_with_warmup

# GPT-2 names its LayerNorms ln_1, ln_2 and ln_f; CodeParrot's script listed
# "LayerNorm.weight", which matches no GPT-2 parameter, so its LayerNorm weights were decayed.
NO_DECAY = ("bias", "ln_1.weight", "ln_2.weight", "ln_f.weight")


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: decay for every weight, none for biases and LayerNorm weights."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if name.endswith(NO_DECAY) else decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def adamw(
    model: nn.Module,
    lr: float,
    weight_decay: float,
    *,
    fused: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.AdamW:
    """AdamW over `parameter_groups`; `fused` (one kernel per step) for parameters on a GPU.

    The betas are torch's defaults, as CodeParrot's script left them.
    """
    return torch.optim.AdamW(
        parameter_groups(model, weight_decay), lr=lr, betas=betas, fused=fused or None
    )


def cosine_schedule(
    optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup to the peak learning rate, then cosine decay to zero at `total_steps`."""
    return get_cosine_schedule_with_warmup(optimizer, warmup_steps, total_steps)
