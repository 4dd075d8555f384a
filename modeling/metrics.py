"""Throughput arithmetic: FLOPs per token (nanoGPT's estimate) and model FLOPs utilisation."""

from __future__ import annotations

import torch
from transformers import PretrainedConfig

# Dense bf16 peak, TFLOP/s, by a substring of torch.cuda.get_device_name().
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0}


def non_embedding_params(model: torch.nn.Module) -> int:
    """Parameters without the position embeddings (nanoGPT's N; wte is tied to the head)."""
    total = sum(p.numel() for p in model.parameters())
    return total - model.transformer.wpe.weight.numel()


def flops_per_token(n_params: int, config: PretrainedConfig, seq_len: int) -> float:
    """Training FLOPs per token: 6N for the weights, 12 * L * H * Q * T for attention."""
    head_dim = config.n_embd // config.n_head
    return 6 * n_params + 12 * config.n_layer * config.n_head * head_dim * seq_len


def peak_flops(device: torch.device) -> float | None:
    """The bf16 peak of one accelerator in FLOP/s, or None where it is not known (CPUs)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((tf * 1e12 for key, tf in PEAK_TFLOPS.items() if key in name), None)


def mfu(tokens_per_s: float, per_token: float, peak: float | None, n_devices: int) -> float | None:
    """Achieved FLOP/s over the peak of all devices; None without a known peak."""
    if not peak:
        return None
    return tokens_per_s * per_token / (peak * n_devices)
