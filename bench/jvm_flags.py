"""Benchmark: the same Spark job with the JVM's default flags and with other flags, alternated.

    .venv/bin/python bench/jvm_flags.py --size 1GB --repeats 3

A job of a minute or two on a cold JVM spends much of its CPU compiling Spark's code with the
JIT's optimising tier (C2). This runs the pipeline core (as bench/pipeline_throughput.py) and
the near-dedup job (as bench/near_dedup_throughput.py) on the same dump, alternating baseline
flags (`--driver-java-options`, by default none) and `--flags`; it prints each run's wall
seconds, then each variant's median and its MB/s per core.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import near_dedup_throughput
import pipeline_throughput
from submit import ROOT, add_spark_arguments, alternate, print_rate, sample_dump, submit_options

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
    parser.add_argument("--jobs", default="pipeline,near_dedup", help="which jobs to time")
    add_spark_arguments(parser, repeats=3)
    args = parser.parse_args()
    if args.flags == args.driver_java_options:
        parser.error("--flags must differ from --driver-java-options, the baseline")

    root = Path(args.root)
    dump = sample_dump(root, args.size)
    out = root / "jvm-flags"  # the outputs of a run, removed before the next

    def run(job: str, flags: str) -> dict:
        """One run of `job` with JVM `flags`: the content it read (files and bytes)."""
        options = submit_options(args) | {"java_options": flags}
        if job == "pipeline":
            return pipeline_throughput.spark_pass(dump, out / "run", options)["input"]
        return near_dedup_throughput.spark_pass(dump, out / "run", options)["counts"]["in"]

    # The baseline is --driver-java-options (by default none: the JVM's own defaults, with the
    # collector the venv's spark-env.sh picks when no option does).
    variants = {args.driver_java_options or "defaults": args.driver_java_options}
    variants[args.flags] = args.flags
    for job in args.jobs.split(","):
        sides = {label: partial(run, job, flags) for label, flags in variants.items()}
        timings = alternate(sides, args.repeats, clear=dict.fromkeys(sides, out))
        for label, timing in timings.items():
            print_rate(f"{job} [{label}]", timing.result["bytes"] / 1e6, timing, args.cores)
        baseline, other = (timing.median for timing in timings.values())
        print(f"{job}: x{baseline / other:.2f} faster with {args.flags!r}\n")


if __name__ == "__main__":
    main()
