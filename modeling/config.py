"""GPT-2 configurations built in code (no hub): CodeParrot's shapes and stability flags.

Both of CodeParrot's flags are on in every preset:
- `scale_attn_by_inverse_layer_idx` divides the attention scores of layer i by i + 1. From
  transformers 5.4 it is folded into the attention's `scaling`, so eager, SDPA and flash
  attention all apply it (before, SDPA ignored it: hence the lower bound in pyproject.toml).
- `reorder_and_upcast_attn` computes the scores with `baddbmm` and the softmax in float32.
  Only eager attention has that code path; SDPA and flash ignore the flag and rely on their
  own fused kernels, which keep the softmax in float32 internally. In float32 both give the
  same logits (tested); in bf16 they differ by rounding only.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import GPT2Config


@dataclass(frozen=True)
class Shape:
    """The size of a GPT-2 model: layers, width, heads, context."""

    n_layer: int
    n_embd: int
    n_head: int
    n_positions: int = 1024


PRESETS = {
    # A few hundred thousand parameters: for tests and the CPU demo.
    "tiny": Shape(n_layer=2, n_embd=64, n_head=4, n_positions=256),
    # GPT-2 124M: CodeParrot's "110M" (the count without the tied embedding's share).
    "codeparrot-small": Shape(n_layer=12, n_embd=768, n_head=12),
    # GPT-2 large (774M): the shape the blog's training code names.
    "codeparrot-large": Shape(n_layer=36, n_embd=1280, n_head=20),
    # GPT-2 XL (1.5B): the released codeparrot model.
    "codeparrot": Shape(n_layer=48, n_embd=1600, n_head=25),
}


def padded(vocab_size: int, multiple: int) -> int:
    """`vocab_size` rounded up to a multiple of `multiple` (1 leaves it as it is)."""
    return -(-vocab_size // multiple) * multiple


def model_config(
    preset: str,
    vocab_size: int,
    eos_token_id: int,
    *,
    pad_vocab_to: int = 64,
    attn_implementation: str = "sdpa",
) -> GPT2Config:
    """The GPT2Config of a preset for a tokenizer of `vocab_size` tokens."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if pad_vocab_to < 1:
        raise ValueError(f"pad_vocab_to must be at least 1, not {pad_vocab_to}")
    shape = PRESETS[preset]
    # No pad token: packed training windows hold no padding, and a pad id equal to eos would make
    # transformers warn about every window holding an eos; generation passes its own pad id.
    return GPT2Config(
        vocab_size=padded(vocab_size, pad_vocab_to),
        n_positions=shape.n_positions,
        n_embd=shape.n_embd,
        n_layer=shape.n_layer,
        n_head=shape.n_head,
        bos_token_id=eos_token_id,
        eos_token_id=eos_token_id,
        scale_attn_by_inverse_layer_idx=True,
        reorder_and_upcast_attn=True,
        attn_implementation=attn_implementation,
    )
