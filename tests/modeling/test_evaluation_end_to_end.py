"""A tiny model trained here, through generation, HumanEval execution and validation loss."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modeling.initialize import init_model

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, *command], check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    return done.stdout


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


def test_human_eval_samples_executes_and_scores(trained, tmp_path):
    # Two processes: each samples its share of the problems, the main one gathers and scores.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _run(
        "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
        "--main_process_port", str(port), "--mixed_precision", "no", "--dynamo_backend", "no",
        "jobs/human_eval.py", "--model", str(trained), "--output", str(tmp_path),
        "--limit-problems", "3", "--n-samples", "3", "--batch-size", "3", "--max-new-tokens", "24",
    )  # fmt: skip
    records = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 9
    assert {r["task_id"] for r in records} == {"HumanEval/0", "HumanEval/1", "HumanEval/2"}
    assert all(isinstance(r["passed"], bool) and r["result"] for r in records)
    table = json.loads((tmp_path / "pass_at_k.json").read_text())
    assert set(table) >= {"pass@1", "tasks", "samples", "samples_per_s_per_core"}
    assert table["pass@1"] == pytest.approx(sum(r["passed"] for r in records) / 9)


@pytest.mark.parametrize("data", ["clean_valid", "tokens_dir"])
def test_validation_loss_on_parquet_or_pretokenized(trained, data, clean_dir, tokens_dir):
    folder = clean_dir / "valid" if data == "clean_valid" else tokens_dir
    result = json.loads(
        _run(
            "jobs/validation_loss.py",
            "--model",
            str(trained),
            "--data",
            str(folder),
            "--seq-len",
            "64",
        ).splitlines()[-1]
    )
    assert 0 < result["valid_loss"] < 7 and result["sequences"] > 10
    assert result["perplexity"] == pytest.approx(2.718281828 ** result["valid_loss"], rel=1e-6)
