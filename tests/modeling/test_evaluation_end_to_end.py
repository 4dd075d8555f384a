"""A tiny model trained here, through generation, HumanEval execution and validation loss."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modeling.initialize import init_model

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str, launcher=None) -> str:
    """Python on `command`, or under `launcher` (the cpu_processes fixture's); its stdout."""
    prefix, env = launcher or ([sys.executable], None)
    done = subprocess.run(
        [*prefix, *command], check=True, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    return done.stdout


def _samples(output: Path) -> list[dict]:
    """The records of a HumanEval run's samples.jsonl."""
    return [json.loads(line) for line in (output / "samples.jsonl").read_text().splitlines()]


def _completion(record: dict) -> tuple[str, str]:
    return record["task_id"], record["completion"]


@pytest.fixture(scope="module")
def trained(tokenizer_dir, tokens_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    init_model(tokenizer_dir, "tiny", root / "init")
    _run(
        "jobs/train.py", "--model", str(root / "init"), "--data", str(tokens_dir),
        "--output", str(root / "model"), "--global-batch", "8", "--micro-batch", "8",
        "--seq-len", "64", "--lr", "3e-3", "--warmup-steps", "2", "--max-steps", "15",
        "--mixed-precision", "no", "--num-workers", "0", "--eval-every", "0", "--save-every", "0",
    )  # fmt: skip
    return root / "model"


def test_generate_command_continues_the_prompt(trained):
    out = _run(
        "-m",
        "modeling.generate",
        "--model",
        str(trained),
        "--max-new-tokens",
        "12",
        "def add(a, b):",
    )
    assert out.startswith("def add(a, b):") and len(out.strip()) > len("def add(a, b):")


def test_human_eval_samples_executes_and_scores(trained, tmp_path, cpu_processes):
    # Two processes: each samples its share of the problems, the main one gathers and scores.
    _run(
        "jobs/human_eval.py", "--model", str(trained), "--output", str(tmp_path / "two"),
        "--limit-problems", "3", "--n-samples", "3", "--batch-size", "3", "--max-new-tokens", "24",
        launcher=cpu_processes(2),
    )  # fmt: skip
    records = _samples(tmp_path / "two")
    assert len(records) == 9
    assert {r["task_id"] for r in records} == {"HumanEval/0", "HumanEval/1", "HumanEval/2"}
    assert all(isinstance(r["passed"], bool) and r["result"] for r in records)
    table = json.loads((tmp_path / "two/pass_at_k.json").read_text())
    assert set(table) >= {"pass@1", "tasks", "samples", "samples_per_s_per_core"}
    assert table["pass@1"] == pytest.approx(sum(r["passed"] for r in records) / 9)
    # The same samples in one process: each problem is seeded by its place, not by a share.
    _run(
        "jobs/human_eval.py", "--model", str(trained), "--output", str(tmp_path / "one"),
        "--limit-problems", "3", "--n-samples", "3", "--batch-size", "3", "--max-new-tokens", "24",
    )  # fmt: skip
    alone = _samples(tmp_path / "one")
    assert sorted(map(_completion, alone)) == sorted(map(_completion, records))


@pytest.mark.parametrize("data", ["clean_valid", "tokens_dir"])
def test_validation_loss_on_parquet_or_pretokenized(
    trained, data, clean_dir, tokens_dir, cpu_processes
):
    folder = clean_dir / "valid" if data == "clean_valid" else tokens_dir
    job = ("jobs/validation_loss.py", "--model", str(trained), "--data", str(folder))
    # Short sequences: the processes' shares of the Parquet rows pack into unequal numbers of
    # batches, which the reduction at the end must take.
    job += ("--seq-len", "32", "--batch-size", "2")
    one = json.loads(_run(*job).splitlines()[-1])
    assert 0 < one["valid_loss"] < 7 and one["sequences"] > 10
    assert one["perplexity"] == pytest.approx(2.718281828 ** one["valid_loss"], rel=1e-6)
    two = json.loads(_run(*job, launcher=cpu_processes(2)).splitlines()[-1])
    if data == "tokens_dir":  # the same windows, each once
        assert two["sequences"] == one["sequences"]
        assert two["valid_loss"] == pytest.approx(one["valid_loss"], rel=1e-5)
    else:  # each process packs its own documents: other sequence boundaries
        assert two["valid_loss"] == pytest.approx(one["valid_loss"], rel=0.05)
