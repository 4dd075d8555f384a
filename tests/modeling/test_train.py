"""The training job end to end on CPU: learning, exact resume, two processes = one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import pipeline

from dataprep.cli import UsageError
from modeling.initialize import init_model
from modeling.train import (
    TrainConfig,
    _refuse_other_settings,
    _run_record,
    _save_checkpoint,
    checkpoints,
    resolve,
    train,
)

ROOT = Path(__file__).resolve().parents[2]
# A small global batch in two passes, short sequences, logs every step, float32.
SMALL = [
    "--global-batch", "8", "--micro-batch", "4", "--seq-len", "64", "--lr", "3e-3",
    "--warmup-steps", "2", "--mixed-precision", "no", "--num-workers", "0",
    "--log-every", "1", "--eval-every", "1000", "--eval-batches", "2",
]  # fmt: skip


def _train(model: Path, data: Path, output: Path, *args: str, launcher=None) -> None:
    """jobs/train.py in this Python, or under `launcher` (the cpu_processes fixture's)."""
    job = [str(ROOT / "jobs/train.py"), "--model", str(model), "--data", str(data)]
    job += ["--output", str(output), *SMALL, *args]
    prefix, env = launcher or ([sys.executable], None)
    subprocess.run([*prefix, *job], check=True, cwd=ROOT, env=env)


def _losses(output: Path) -> list[float]:
    records = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records if "loss" in r]


@pytest.fixture(scope="module")
def tiny(tokenizer_dir, tmp_path_factory):
    """The tiny preset, freshly initialised for the conftest tokenizer."""
    path = tmp_path_factory.mktemp("tiny")
    init_model(tokenizer_dir, "tiny", path, seed=0)
    return path


def test_loss_falls_and_the_result_generates(tiny, tokens_dir, tmp_path):
    _train(tiny, tokens_dir, tmp_path / "run", "--max-steps", "30", "--eval-every", "30")
    losses = _losses(tmp_path / "run")
    assert len(losses) == 30
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 1.0
    records = [json.loads(line) for line in (tmp_path / "run/log.jsonl").read_text().splitlines()]
    assert {"lr", "grad_norm", "tokens_per_s", "mfu", "data_wait"} <= set(records[0])
    assert records[-1]["valid_loss"] < 6.0
    # The rate each step used: 0, then half the peak of 3e-3 (two warmup steps).
    assert [r["lr"] for r in records[:2]] == pytest.approx([0.0, 1.5e-3])
    generate = pipeline("text-generation", model=str(tmp_path / "run"))
    text = generate("def ", max_new_tokens=8, do_sample=False)[0]["generated_text"]
    assert text.startswith("def ") and len(text) > 4


@pytest.mark.parametrize("data", ["tokens_dir", "clean_dir"])
def test_stopped_and_resumed_run_matches_an_uninterrupted_one(tiny, data, request, tmp_path):
    # Pretokenized windows, or Parquet packed on the fly (two DataLoader workers).
    data, workers = request.getfixturevalue(data), "2" if data == "clean_dir" else "0"
    # Dropout is on (GPT-2's 0.1): the resumed run must also continue the random numbers.
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    # Three passes per step: a stop after step 3 is mid-way through the workers' rotation.
    common = ("--max-steps", "8", "--num-workers", workers, "--global-batch", "12")
    _train(tiny, data, whole, *common, "--save-every", "4")
    _train(tiny, data, parts, *common, "--stop-at-step", "3")
    assert not (parts / "model.safetensors").exists()  # not finished yet
    # As if it had gone on to log step 4 and died writing step 5, before its next checkpoint:
    # the resumed run logs those steps again, once.
    with (parts / "log.jsonl").open("a") as log:
        log.write('{"step": 4, "loss": 99.0}\n{"step": 5, "lo')
    _train(tiny, data, parts, *common, "--resume")
    assert _losses(parts) == _losses(whole)
    final, resumed = load_file(whole / "model.safetensors"), load_file(parts / "model.safetensors")
    assert final.keys() == resumed.keys()
    for name, tensor in final.items():
        assert torch.equal(tensor, resumed[name]), name
    assert sorted(p.name for p in (parts / "checkpoints").iterdir()) == [
        "step-0000003",
        "step-0000008",
    ]


def test_a_new_run_in_an_earlier_runs_output_needs_overwrite(tiny, tokens_dir, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints" / "step-0000009").mkdir(parents=True)
    (run / "log.jsonl").write_text('{"step": 9, "loss": 1.0}\n')
    earlier = TrainConfig(model=str(tiny), data=str(tokens_dir), output=str(run))
    with pytest.raises(UsageError, match=r"up to step-0000009\): --resume continues it"):
        train(earlier)
    # A finished model with no logs left beside it is an earlier run too.
    weights_only = tmp_path / "weights_only"
    weights_only.mkdir()
    (weights_only / "model.safetensors").write_bytes(b"a finished run's weights")
    with pytest.raises(UsageError, match=r"holds an earlier run \(model.safetensors\)"):
        train(replace(earlier, output=str(weights_only)))
    (run / "model.safetensors").write_bytes(b"the earlier run's final weights")
    # Started over and stopped early: neither the old log nor the old run's later checkpoint
    # is left to mix in, nor its final weights to pass the unfinished run off as finished.
    # --stop-at-step checkpoints even with --save-every 0: the stop is there to resume later.
    again = ("--max-steps", "4", "--save-every", "0", "--stop-at-step", "2", "--overwrite")
    _train(tiny, tokens_dir, run, *again)
    assert len(_losses(run)) == 2
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-0000002"]
    assert not (run / "model.safetensors").exists()


def test_resume_without_a_checkpoint_starts_over_unless_the_run_finished(
    tiny, tokens_dir, tmp_path
):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text('{"step": 1, "loss": 9.0}\n')  # stopped before a checkpoint
    _train(
        tiny,
        tokens_dir,
        run,
        "--max-steps",
        "2",
        "--warmup-steps",
        "1",
        "--save-every",
        "0",
        "--resume",
    )
    assert len(_losses(run)) == 2  # its own two steps, not appended to the earlier one
    finished = TrainConfig(model=str(tiny), data=str(tokens_dir), output=str(run), resume=True)
    with pytest.raises(UsageError, match="finished run and no checkpoint: nothing to resume"):
        train(finished)


def test_resume_refuses_settings_that_would_change_the_run(tiny, tokens_dir, clean_dir, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints" / "step-0000002").mkdir(parents=True)
    started = TrainConfig(model=str(tiny), data=str(tokens_dir), output=str(run), lr=3e-3)
    (run / "train_config.json").write_text(json.dumps(_run_record(started, 2)))
    # The same run, spelled out: the recipe's global batch and the model's context.
    _refuse_other_settings(replace(started, global_batch=192, seq_len=256), 2)
    # A compiled model's checkpoint names its weights otherwise: --compile cannot change.
    resumed = replace(started, resume=True, lr=0.1, eval_every=7, compile=True)
    said = r"\(compile: False then, True now; lr: 0.003 then, 0.1 now; processes: 2 then, 1 now\)"
    with pytest.raises(UsageError, match=said):
        train(resumed)
    # The same folder name may move, but a position in windows is none in Parquet shards.
    with pytest.raises(UsageError, match=r"\(pretokenized: True then, False now\)"):
        _refuse_other_settings(replace(started, data=str(clean_dir)), 2)


def test_a_failed_evaluation_leaves_the_checkpoint_of_its_step(
    tiny, tokens_dir, tmp_path, monkeypatch
):
    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("modeling.train.evaluate", out_of_memory)
    config = TrainConfig(
        model=str(tiny), data=str(tokens_dir), output=str(tmp_path / "run"), global_batch=4,
        micro_batch=4, seq_len=64, warmup_steps=1, max_steps=4, mixed_precision="no",
        num_workers=0, eval_every=2, save_every=2,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="out of memory"):
        train(config)
    assert [p.name for p in checkpoints(tmp_path / "run")] == ["step-0000002"]


def test_a_warmup_as_long_as_the_run_is_refused():
    config = TrainConfig(model="m", data="d", output="o", max_steps=300)  # the recipe's 2,000
    with pytest.raises(UsageError, match="--warmup-steps 2000 is not below --max-steps 300"):
        resolve(config, 1)
    assert resolve(replace(config, warmup_steps=30), 1)[0].warmup_steps == 30


class _DiesWhileSaving:
    """An Accelerator, alone, whose save_state writes part of a checkpoint and fails."""

    is_main_process = True

    def wait_for_everyone(self) -> None:
        pass

    def save_state(self, folder: str) -> None:
        Path(folder).mkdir(parents=True)
        (Path(folder) / "model.safetensors").write_bytes(b"the first bytes")
        raise OSError("no space left on device")


class _Saves(_DiesWhileSaving):
    def save_state(self, folder: str) -> None:
        Path(folder).mkdir(parents=True)
        (Path(folder) / "model.safetensors").write_bytes(b"all of it")


def test_a_run_killed_while_saving_leaves_the_last_whole_checkpoint_newest(tmp_path):
    _save_checkpoint(_Saves(), tmp_path, 4, keep_last=3)
    with pytest.raises(OSError, match="no space"):
        _save_checkpoint(_DiesWhileSaving(), tmp_path, 8, keep_last=3)
    assert [p.name for p in checkpoints(tmp_path)] == ["step-0000004"]
    _save_checkpoint(_Saves(), tmp_path, 8, keep_last=3)  # the resumed run saves step 8 again
    assert [p.name for p in checkpoints(tmp_path)] == ["step-0000004", "step-0000008"]
    assert (checkpoints(tmp_path)[-1] / "model.safetensors").read_bytes() == b"all of it"
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step-0000004",
        "step-0000008",
    ]


def test_overwrite_in_the_model_folder_keeps_the_weights_it_starts_from(tiny, tokens_dir, tmp_path):
    model = shutil.copytree(tiny, tmp_path / "model")
    (model / "log.jsonl").write_text('{"step": 9, "loss": 1.0}\n')
    # The first step's learning rate is 0 (warmup): the second one moves the weights.
    again = ("--max-steps", "2", "--warmup-steps", "1", "--save-every", "0", "--overwrite")
    _train(model, tokens_dir, model, *again)
    assert len(_losses(model)) == 2
    assert not torch.equal(
        load_file(model / "model.safetensors")["transformer.wte.weight"],
        load_file(tiny / "model.safetensors")["transformer.wte.weight"],
    )


@pytest.fixture(scope="module")
def short_tokens(tokens_dir, tmp_path_factory):
    """`tokens_dir` with a train split of 100 windows of 64 tokens: epochs of a few steps."""
    root = shutil.copytree(tokens_dir, tmp_path_factory.mktemp("short") / "tokens")
    meta = json.loads((root / "meta.json").read_text())
    train = meta["splits"]["train"]
    first, n_tokens = train["shards"][0], 6_400
    for shard in train["shards"][1:]:
        (root / "train" / shard["file"]).unlink()
    path = root / "train" / first["file"]
    path.write_bytes(path.read_bytes()[: n_tokens * np.dtype(meta["dtype"]).itemsize])
    train |= {"tokens": n_tokens, "shards": [first | {"tokens": n_tokens}]}
    (root / "meta.json").write_text(json.dumps(meta))
    return root


@pytest.mark.slow
def test_two_processes_resumed_in_a_later_epoch_match_an_uninterrupted_run(
    tiny, short_tokens, tmp_path, cpu_processes
):
    # 2 processes x 4 windows a step: 12 steps an epoch; the stop is 2 steps into the second.
    common = ("--max-steps", "16", "--save-every", "0", "--eval-every", "0")
    _train(tiny, short_tokens, tmp_path / "whole", *common, launcher=cpu_processes(2))
    parts = tmp_path / "parts"
    _train(tiny, short_tokens, parts, *common, "--stop-at-step", "14", launcher=cpu_processes(2))
    _train(tiny, short_tokens, parts, *common, "--resume", launcher=cpu_processes(2))
    records = [json.loads(line) for line in (parts / "log.jsonl").read_text().splitlines()]
    assert records[-1]["epoch"] == 1
    assert _losses(parts) == _losses(tmp_path / "whole")


@pytest.mark.slow
def test_two_processes_give_the_loss_of_one(tiny, tokens_dir, tmp_path, cpu_processes):
    # Without dropout the two runs draw no random numbers and must agree up to rounding.
    config = json.loads((tiny / "config.json").read_text())
    config |= {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
    model = shutil.copytree(tiny, tmp_path / "model")
    (model / "config.json").write_text(json.dumps(config))
    _train(model, tokens_dir, tmp_path / "one", "--max-steps", "6")
    _train(model, tokens_dir, tmp_path / "two", "--max-steps", "6", launcher=cpu_processes(2))
    assert _losses(tmp_path / "two") == pytest.approx(_losses(tmp_path / "one"), rel=1e-4)
    one, two = (
        load_file(tmp_path / "one/model.safetensors"),
        load_file(tmp_path / "two/model.safetensors"),
    )
    for name, tensor in one.items():
        torch.testing.assert_close(two[name], tensor, rtol=1e-3, atol=1e-4)
