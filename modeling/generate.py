"""Generate code from a trained model directory.

    python -m modeling.generate --model work/demo/model "def fibonacci(n):"

Prompts are given as CodeParrot's evaluation did: <|endoftext|> first, then the prompt. With
--temperature 0 the completion is greedy; otherwise it samples with top-p (no top-k cut).
"""

from __future__ import annotations

import argparse

import torch
from transformers import AutoTokenizer

from dataprep.cli import UsageError, user_errors
from modeling.initialize import load_model
from modeling.inputs import model_folder


def prompt_ids(tokenizer, prompt: str, context: int, max_new_tokens: int) -> torch.Tensor:
    """Ids of `<|endoftext|>` + prompt, keeping the end when it leaves no room to generate."""
    room = context - max_new_tokens
    if room < 1:
        raise UsageError(
            f"--max-new-tokens {max_new_tokens} leaves no room for a prompt in the model's "
            f"context of {context} tokens"
        )
    ids = tokenizer(tokenizer.eos_token + prompt, return_tensors="pt").input_ids
    return ids[:, -room:]


def generate(
    model_dir: str,
    prompt: str,
    *,
    max_new_tokens: int = 64,
    temperature: float = 0.2,
    top_p: float = 0.95,
    seed: int = 0,
) -> str:
    """The prompt's completion (the new text only)."""
    if temperature < 0 or not 0 < top_p <= 1 or max_new_tokens < 1:
        raise UsageError(
            "need --temperature >= 0, 0 < --top-p <= 1 and --max-new-tokens >= 1, got "
            f"{temperature}, {top_p} and {max_new_tokens}"
        )
    tokenizer = AutoTokenizer.from_pretrained(str(model_folder(model_dir)))
    model = load_model(model_dir).eval()
    ids = prompt_ids(tokenizer, prompt, model.config.n_positions, max_new_tokens)
    torch.manual_seed(seed)
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        if temperature
        else {}
    )
    with torch.no_grad():
        out = model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.eos_token_id,
            **({"do_sample": False} | sampling),
        )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


def main() -> None:
    """Print the prompt followed by its completion."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("prompt", help="code to continue")
    parser.add_argument("--model", required=True, help="model folder (with its tokenizer)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.2, help="0: greedy")
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with user_errors(parser.prog):
        completion = generate(
            args.model,
            args.prompt,
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=args.seed,
        )
    print(args.prompt + completion)


if __name__ == "__main__":
    main()
