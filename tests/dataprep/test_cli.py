"""Command lines from config dataclasses: nested configs, flags, defaults, unknown options."""

from __future__ import annotations

import pytest

from dataprep.cli import parse_config
from dataprep.pipeline import PipelineConfig


def test_nested_configs_are_flat_options():
    config = parse_config(
        PipelineConfig,
        None,
        ["--input", "in", "--workdir", "w", "--line-max", "500", "--no-stats"],
    )
    assert config.read.input == "in" and config.workdir == "w"
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
