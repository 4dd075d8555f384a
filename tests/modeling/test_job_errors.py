"""The modeling jobs refuse bad options, missing folders and mismatched tokens in one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import load_job

from dataprep.cli import MissingInput, UsageError, parse_config
from dataprep.tokenizer import train_tokenizer
from modeling.evaluation.human_eval import score
from modeling.evaluation.validation import validation_loss
from modeling.generate import generate
from modeling.initialize import init_model
from modeling.inputs import check_tokens, sequence_length
from modeling.train import TrainConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tokenizer_dir, tmp_path_factory):
    """The tiny preset for the tokenizer that made `tokens_dir`."""
    path = tmp_path_factory.mktemp("tiny")
    init_model(tokenizer_dir, "tiny", path)
    return path


@pytest.fixture(scope="module")
def other_tiny(real_files, tmp_path_factory):
    """The tiny preset for another tokenizer (500 tokens) than the one of `tokens_dir`."""
    root = tmp_path_factory.mktemp("other")
    (root / "data").mkdir()
    pq.write_table(pa.table({"content": real_files[:50]}), root / "data/part-0.parquet")
    train_tokenizer(root / "data", root / "tokenizer", vocab_size=500, show_progress=False)
    init_model(root / "tokenizer", "tiny", root / "model")
    return root / "model"


def _usage_error(cls: type, argv: list[str], capsys: pytest.CaptureFixture) -> str:
    """The last line argparse printed for a command line it refused."""
    with pytest.raises(SystemExit) as exited:
        parse_config(cls, None, argv)
    assert exited.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_init_model_options(tokenizer_dir, tmp_path, capsys):
    job = load_job("init_model.py").InitModelJob
    base = ["--tokenizer", str(tokenizer_dir), "--output", str(tmp_path / "model")]
    for value in ("-64", "0"):
        line = _usage_error(job, [*base, "--preset", "tiny", "--pad-vocab-to", value], capsys)
        assert line.endswith(f"--pad-vocab-to must be at least 1, not {value}")
    line = _usage_error(job, [*base, "--preset", "foo"], capsys)
    assert "invalid choice: 'foo'" in line and "codeparrot-small" in line
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(
    ("script", "job"),
    [("init_model.py", "InitModelJob"), ("train_tokenizer.py", "TrainTokenizerJob")],
)
def test_outputs_that_hold_files_are_written_over_only_when_asked(
    script, job, tokenizer_dir, clean_dir, tmp_path
):
    module = load_job(script)
    output = tmp_path / "out"
    output.mkdir()
    (output / "notes.txt").write_text("mine")
    inputs = {
        "init_model.py": ["--tokenizer", str(tokenizer_dir), "--preset", "tiny"],
        "train_tokenizer.py": ["--data", str(clean_dir / "train")],
    }[script]
    with pytest.raises(UsageError, match="already holds files: --overwrite writes over them"):
        module.main(parse_config(getattr(module, job), None, [*inputs, "--output", str(output)]))
    assert [p.name for p in output.iterdir()] == ["notes.txt"]


def test_train_tokenizer_checks_its_held_out_files_before_training(clean_dir, tmp_path, capsys):
    module = load_job("train_tokenizer.py")
    data = tmp_path / "clean" / "train"
    shutil.copytree(clean_dir / "train", data)
    pq.write_table(pa.table({"content": pa.array([], pa.string())}), tmp_path / "empty.parquet")
    (tmp_path / "clean" / "valid").mkdir()
    shutil.copy(tmp_path / "empty.parquet", tmp_path / "clean" / "valid")
    base = ["--data", str(data), "--vocab-size", "300", "--n-examples", "20"]
    with pytest.raises(UsageError, match="holds no files to measure the tokenizer on"):
        job = [*base, "--valid", str(tmp_path / "clean" / "valid"), "--output", str(tmp_path / "a")]
        module.main(parse_config(module.TrainTokenizerJob, None, job))
    assert not (tmp_path / "a").exists()
    clean = ["--data", str(tmp_path / "clean"), "--output", str(tmp_path / "a")]
    with pytest.raises(UsageError, match=r"holds a train/ split: give it \(.*clean/train\)"):
        module.main(parse_config(module.TrainTokenizerJob, None, clean))
    # The valid split beside --data, empty (a small dump's): trained, without held-out figures.
    module.main(
        parse_config(module.TrainTokenizerJob, None, [*base, "--output", str(tmp_path / "b")])
    )
    assert "the report has no held-out figures" in capsys.readouterr().err
    assert "valid" not in json.loads((tmp_path / "b" / "report.json").read_text())


def test_init_model_without_a_tokenizer(tmp_path):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "nowhere", tmp_path / "empty"):
        with pytest.raises(
            MissingInput, match=r"tokenizer\.json missing.*jobs/train_tokenizer\.py"
        ):
            init_model(folder, "tiny", tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_train_options(capsys):
    base = ["--model", "m", "--data", "d", "--output", "o"]
    for args, message in [
        (["--recipe", "foo"], "invalid choice: 'foo'"),
        (["--micro-batch", "0"], "--micro-batch must be at least 1, not 0"),
        (["--global-batch", "-8"], "--global-batch must be at least 1, not -8"),
        (["--lr", "0"], "--lr must be above 0, not 0.0"),
        (["--grad-clip", "-1"], "--grad-clip must be above 0, not -1.0"),
        (["--seq-len", "-1"], "--seq-len must be at least 0, not -1"),
        (["--mixed-precision", "fp32"], "invalid choice: 'fp32'"),
        (["--log-every", "0"], "--log-every must be at least 1, not 0"),
        (["--resume", "--overwrite"], "--resume continues the run in --output, --overwrite"),
    ]:
        assert message in _usage_error(TrainConfig, base + args, capsys)
    # The recipe's values stay the defaults of the options it fills in.
    config = parse_config(TrainConfig, None, base)
    assert (config.global_batch, config.micro_batch, config.lr) == (None, None, None)


def test_validation_loss_options(capsys):
    job = load_job("validation_loss.py").ValidationLossJob
    base = ["--model", "m", "--data", "d"]
    assert _usage_error(job, [*base, "--max-batches", "0"], capsys).endswith(
        "--max-batches must be at least 1, not 0"
    )
    assert _usage_error(job, [*base, "--seq-len", "-5"], capsys).endswith(
        "--seq-len must be at least 0, not -5"
    )


def test_sequence_length_is_at_most_the_context(tiny):
    assert sequence_length(tiny, None) == sequence_length(tiny, 0) == 256
    assert sequence_length(tiny, 64) == 64
    with pytest.raises(UsageError, match=r"--seq-len 5000 is longer .* \(256 positions\)"):
        sequence_length(tiny, 5000)
    with pytest.raises(UsageError, match="--seq-len 1 leaves no token to predict"):
        sequence_length(tiny, 1)


def test_missing_model_or_data(tiny, tmp_path, clean_dir):
    with pytest.raises(MissingInput, match=r"no model at .*config\.json missing"):
        validation_loss(str(tmp_path / "nowhere"), str(tmp_path))
    with pytest.raises(MissingInput, match="no Parquet files under"):
        validation_loss(str(tiny), str(tmp_path / "nowhere"), seq_len=64)
    # A clean folder, not its valid split: the loss would count the training files too.
    with pytest.raises(UsageError, match=r"holds a train/ split: give the held-out shards"):
        validation_loss(str(tiny), str(clean_dir), seq_len=64)


def test_tokens_of_another_tokenizer_are_refused(tiny, other_tiny, tokens_dir):
    check_tokens(tokens_dir, tiny, ["train", "valid"])  # the tokenizer that made them
    with pytest.raises(UsageError, match="another tokenizer") as refused:
        check_tokens(tokens_dir, other_tiny, ["valid"])
    assert str(tokens_dir) in str(refused.value) and str(other_tiny) in str(refused.value)
    with pytest.raises(UsageError, match="another tokenizer"):
        validation_loss(str(other_tiny), str(tokens_dir), seq_len=64)


def test_unfinished_or_incomplete_tokens_are_refused(tiny, tokens_dir, tmp_path):
    copy = Path(shutil.copytree(tokens_dir, tmp_path / "tokens"))
    meta = json.loads((copy / "meta.json").read_text())
    del meta["splits"]["valid"]
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UsageError, match="holds no valid split"):
        check_tokens(copy, tiny, ["train", "valid"])
    (copy / "_SUCCESS").unlink()
    with pytest.raises(MissingInput, match="not a finished pretokenized folder"):
        check_tokens(copy, tiny, ["train"])


def test_train_job_refuses_mismatched_tokens_in_one_line(other_tiny, tokens_dir, tmp_path):
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "jobs/train.py"), "--model", str(other_tiny),
            "--data", str(tokens_dir), "--output", str(tmp_path / "run"),
            "--mixed-precision", "no", "--global-batch", "8", "--micro-batch", "8",
        ],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("train.py: error: the tokens in ") and str(other_tiny) in last
    assert not (tmp_path / "run").exists()


def test_human_eval_options_and_samples(tmp_path, capsys):
    module = load_job("human_eval.py")
    base = ["--output", str(tmp_path / "out")]
    assert _usage_error(module.HumanEvalJob, base, capsys).endswith(
        "give exactly one of --model and --samples"
    )
    samples = ["--samples", str(tmp_path / "s.jsonl")]
    assert _usage_error(module.HumanEvalJob, [*base, *samples, "--timeout", "0"], capsys).endswith(
        "--timeout must be above 0, not 0.0"
    )
    with pytest.raises(MissingInput, match="no samples file"):
        module._read_samples(str(tmp_path / "s.jsonl"))
    (tmp_path / "s.jsonl").write_text('{"task_id": "HumanEval/0", "completion": ""}\n[1]\n')
    with pytest.raises(UsageError, match=r"line 2 of .* is not a JSON object"):
        module._read_samples(str(tmp_path / "s.jsonl"))
    (tmp_path / "s.jsonl").write_text('{"task_id": 0, "completion": ""}\n')
    with pytest.raises(UsageError, match=r"line 1 of .* with task_id and completion strings"):
        module._read_samples(str(tmp_path / "s.jsonl"))
    (tmp_path / "s.jsonl").write_text("\n")
    with pytest.raises(UsageError, match=r"s\.jsonl holds no samples"):
        module._read_samples(str(tmp_path / "s.jsonl"))
    with pytest.raises(UsageError, match="unknown tasks: HumanEval/999"):
        score([{"task_id": "HumanEval/999", "completion": ""}], {})
    with pytest.raises(UsageError, match="no samples to score"):
        score([], {})
    # Sampling options would do nothing to completions that exist.
    sampled = [*base, *samples, "--temperature", "0.8", "--seed", "3"]
    assert _usage_error(module.HumanEvalJob, sampled, capsys).endswith(
        "--temperature, --seed sample from --model: not with --samples"
    )
    assert not (tmp_path / "out").exists()


def test_generate_checks_its_settings_before_loading_a_model(tmp_path):
    for settings in ({"temperature": -0.5}, {"top_p": 1.5}, {"max_new_tokens": 0}):
        with pytest.raises(UsageError, match="need --temperature >= 0, 0 < --top-p <= 1"):
            generate(str(tmp_path / "no-model"), "def f():", **settings)
