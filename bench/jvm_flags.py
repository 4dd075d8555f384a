"""Benchmark: the same Spark job with the JVM's default flags and with other flags, alternated.

    .venv/bin/python bench/jvm_flags.py --size 1GB --repeats 3

A job of a minute or two on a cold JVM spends much of its CPU compiling Spark's code with the
JIT's optimising tier (C2). This runs the pipeline core (as bench/pipeline_throughput.py) and
the near-dedup job (as bench/near_dedup_throughput.py) on the same dump, alternating baseline
flags (`--driver-java-options`, by default none) and `--flags`; it prints each run's wall
seconds and MB/s per core, and the median of each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

import near_dedup_throughput
import pipeline_throughput
from submit import ROOT, add_spark_arguments, sample_dump, submit_options

# C1 only. With the parallel collector too it measured slower than this alone (G1 kept).
SHORT_RUN_FLAGS = "-XX:TieredStopAtLevel=1"


def main() -> None:
    """Alternate baseline and other JVM flags on each job; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", default="1GB", help="raw content bytes of the sample dump")
    parser.add_argument("--root", default=str(ROOT / "work/bench"), help="benchmark folder")
    parser.add_argument("--flags", default=SHORT_RUN_FLAGS, help="JVM flags to compare")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant")
    parser.add_argument("--jobs", default="pipeline,near_dedup", help="which jobs to time")
    add_spark_arguments(parser)
    args = parser.parse_args()

    root = Path(args.root)
    dump = sample_dump(root, args.size)
    out = root / "jvm-flags"  # the outputs of a run, removed before the next
    passes = {
        "pipeline": lambda options: pipeline_throughput.spark_pass(dump, out / "run", options)[
            "input"
        ],
        "near_dedup": lambda options: near_dedup_throughput.spark_pass(dump, out / "run", options)[
            "counts"
        ]["in"],
    }
    # The baseline is --driver-java-options (by default none: the JVM's own defaults).
    variants = [args.driver_java_options, args.flags]
    for job in args.jobs.split(","):
        seconds: dict[str, list[float]] = {flags: [] for flags in variants}
        for _ in range(args.repeats):
            for flags in variants:
                shutil.rmtree(out, ignore_errors=True)
                started = time.time()
                content = passes[job](submit_options(args) | {"java_options": flags})
                seconds[flags].append(time.time() - started)
                rate = content["bytes"] / 1e6 / seconds[flags][-1] / args.cores
                print(f"{job} [{flags or 'JVM defaults'}]: {seconds[flags][-1]:.1f} s, "
                      f"{rate:.1f} MB/s per core", flush=True)  # fmt: skip
        baseline, other = (statistics.median(seconds[flags]) for flags in variants)
        print(f"{job}: median {baseline:.1f} s with {variants[0] or 'JVM defaults'!r}, "
              f"{other:.1f} s with {args.flags!r}: x{baseline / other:.2f} faster\n")  # fmt: skip


if __name__ == "__main__":
    main()
