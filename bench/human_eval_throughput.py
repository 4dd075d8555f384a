"""Benchmark: sandboxed HumanEval execution, samples executed per second per core.

    .venv/bin/python bench/human_eval_throughput.py --copies 5 --workers 2

Scores every problem's canonical solution `--copies` times (164 x copies samples, all must
pass) and the same number of wrong ones (`return None`), through the same path as
`jobs/human_eval.py --samples`: one sandboxed process per sample, `--workers` at a time.
"""

from __future__ import annotations

import argparse
import os
import time

from modeling.evaluation.human_eval import load_problems, score


def main() -> None:
    """Score the samples and print the rates."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    problems = load_problems()
    samples = [
        {"task_id": task, "completion": completion}
        for task, problem in problems.items()
        for completion in [problem["canonical_solution"]] * args.copies
        + ["    return None\n"] * args.copies
    ]
    started = time.perf_counter()
    records, table = score(samples, problems, workers=args.workers, ks=(1,))
    seconds = time.perf_counter() - started
    passed = sum(r["passed"] for r in records)
    cores = min(args.workers, os.cpu_count() or 1)
    print(
        f"{len(records):,} samples ({passed:,} passed, pass@1 {table['pass@1']:.3f}) "
        f"in {seconds:.1f}s with {args.workers} workers on {os.cpu_count()} cores: "
        f"{len(records) / seconds:.1f} samples/s, {len(records) / seconds / cores:.1f} per core"
    )


if __name__ == "__main__":
    main()
