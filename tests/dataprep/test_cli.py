"""Command lines from config dataclasses: nested configs, flags, defaults, unknown options."""

from __future__ import annotations

import pytest

from dataprep.cli import MissingInput, parse_config, user_errors
from dataprep.filters import FilterConfig
from dataprep.pipeline import PipelineConfig
from dataprep.read import ReadConfig


def test_nested_configs_are_flat_options():
    config = parse_config(
        PipelineConfig,
        None,
        ["--input", "in", "--workdir", "w", "--line-max", "500", "--no-stats"],
    )
    assert config.read.input == "in" and config.workdir == "w"
    assert config.read.max_file_bytes == 1_048_576  # a number of bytes, also given as a size
    sized = ["--input", "in", "--workdir", "w", "--max-file-bytes", "2MiB"]
    assert parse_config(PipelineConfig, None, sized).read.max_file_bytes == 2 * 1_048_576
    assert config.filters.line_max == 500 and config.filters.alpha_frac == 0.25
    assert config.stats is False and config.overwrite is False
    assert config.filters.tokenizer is None and config.split.shard_size == "128MB"


def test_unknown_and_missing_options_are_errors(capsys):
    with pytest.raises(SystemExit):
        parse_config(PipelineConfig, None, ["--input", "in", "--workdir", "w", "--line-maxx", "1"])
    assert "unrecognized arguments: --line-maxx" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_config(PipelineConfig, None, ["--input", "in"])
    assert "--workdir" in capsys.readouterr().err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        parse_config(PipelineConfig, "the pipeline", ["--help"])
    text = capsys.readouterr().out
    assert "--valid-fraction" in text and "(default: 0.0115)" in text
    # On/off flags say which way they go by default.
    flat = " ".join(text.split())
    assert "--near-dedup, --no-near-dedup run MinHash" in flat
    assert "(as CodeParrot) (default: on)" in flat
    assert "another configuration (default: off)" in flat
    assert "(default: None)" not in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--threshold", "1.5"], "--threshold must be at most 1, not 1.5"),
        (["--hubs", "0"], "--hubs must be at least 1, not 0"),
        (["--banding", "fast"], "argument --banding: invalid choice: 'fast'"),
        (["--bands", "5"], "--bands and --rows go together"),
        (["--shard-size", "12XB"], "--shard-size: not a size: '12XB'"),
        (["--shard-size", "128"], "--shard-size must be at least 1,024 bytes, not 128"),
        (["--max-file-bytes", "2XB"], "argument --max-file-bytes: not a size: '2XB'"),
        (["--max-file-bytes", "0"], "--max-file-bytes must be at least 1 bytes, not 0"),
        (["--valid-fraction", "nan"], "--valid-fraction must be a number, not nan"),
        (["--valid-fraction", "-0.1"], "--valid-fraction must be at least 0, not -0.1"),
        (["--tokenizer", "/nowhere"], "no tokenizer at '/nowhere'"),
    ],
)
def test_bad_values_are_usage_errors(capsys, args, said):
    with pytest.raises(SystemExit) as exit_:
        parse_config(PipelineConfig, None, ["--input", "in", "--workdir", "w", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_configs_check_their_values_outside_the_command_line_too():
    with pytest.raises(ValueError, match="--alpha-frac must be at most 1"):
        FilterConfig(alpha_frac=1.5)
    with pytest.raises(ValueError, match="--input-format must be one of auto, json, parquet"):
        ReadConfig(input="x", input_format="csv")


def test_user_errors_are_one_line_with_status_2(capsys):
    with pytest.raises(SystemExit) as exit_, user_errors("job"):
        raise MissingInput("no input files found at 'x'")
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "job: error: no input files found at 'x'\n"
    with pytest.raises(KeyError), user_errors("job"):
        raise KeyError("a bug keeps its traceback")
