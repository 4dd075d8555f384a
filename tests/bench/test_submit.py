"""The benchmarks' shared timing: sides take turns, figures are medians."""

from __future__ import annotations

import argparse

from submit import Timing, add_spark_arguments, alternate, print_rate


def test_alternate_takes_turns_and_keeps_the_last_result() -> None:
    calls: list[str] = []

    def side(name: str):
        def run() -> int:
            calls.append(name)
            return len(calls)

        return run

    timings = alternate({"a": side("a"), "b": side("b"), "c": side("c")}, repeats=2)

    assert calls == ["a", "b", "c", "a", "b", "c"]
    assert [len(timings[name].seconds) for name in "abc"] == [2, 2, 2]
    assert [timings[name].result for name in "abc"] == [4, 5, 6]


def test_alternate_clears_a_sides_folder_before_each_of_its_runs(tmp_path) -> None:
    output, other = tmp_path / "out", tmp_path / "kept"
    other.mkdir()

    def job() -> bool:
        found = output.exists()
        (output / "part").mkdir(parents=True)  # as a job that leaves its output behind
        return found

    timings = alternate({"job": job}, repeats=3, clear={"job": output})

    assert timings["job"].result is False  # the third run found no output either
    assert other.exists()


def test_print_rate_uses_the_median_and_shows_the_range(capsys) -> None:
    rate = print_rate("job", mb=600.0, timing=Timing(seconds=[30.0, 100.0, 20.0]), cores=2)

    assert rate == 10.0  # 600 MB / median 30 s / 2 cores
    assert "median of 3: 20.0-100.0 s" in capsys.readouterr().out


def test_print_rate_of_one_run_shows_no_range(capsys) -> None:
    assert print_rate("job", mb=100.0, timing=Timing(seconds=[50.0]), cores=1) == 2.0
    assert "median" not in capsys.readouterr().out


def test_repeats_default_is_the_benchmarks_own() -> None:
    parser = argparse.ArgumentParser()
    add_spark_arguments(parser, repeats=3)
    assert parser.parse_args([]).repeats == 3
    assert parser.parse_args(["--repeats", "5"]).repeats == 5
