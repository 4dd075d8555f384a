"""Running a project script through this environment's spark-submit, for the benchmarks; the
sample dumps they run on."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from dataprep.sample import write_sample_dump
from dataprep.units import parse_size

ROOT = Path(__file__).resolve().parent.parent


def spark_submit(
    script: str,
    *args: object,
    cores: int = 2,
    driver_memory: str = "4g",
    java_options: str = "",
    quiet: bool = False,
) -> str:
    """Run `ROOT/script args` with spark-submit in local[cores] mode; return its stdout.

    `java_options` go to the driver's JVM, which in local mode runs the tasks too.
    """
    command = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", f"local[{cores}]",
        "--driver-memory", driver_memory,
        *(["--driver-java-options", java_options] if java_options else []),
        str(ROOT / script),
        *map(str, args),
    ]  # fmt: skip
    # Output is shown as it comes unless the caller wants it (quiet) for parsing.
    done = subprocess.run(
        command, check=True, cwd=ROOT, stdout=subprocess.PIPE if quiet else None, text=True
    )
    return done.stdout or ""


def add_spark_arguments(parser: argparse.ArgumentParser) -> None:
    """The spark-submit settings a benchmark takes: --cores, --driver-memory, JVM flags."""
    parser.add_argument(
        "--cores",
        type=int,
        default=os.cpu_count() or 2,
        help="Spark runs in local[N]; MB/s per core divides by N",
    )
    parser.add_argument("--driver-memory", default="6g", help="spark-submit --driver-memory")
    parser.add_argument(
        "--driver-java-options",
        default="",
        help="JVM flags for Spark's driver, which runs the tasks in local mode: e.g. "
        "'-XX:TieredStopAtLevel=1' for short runs (README, Benchmark)",
    )


def submit_options(args: argparse.Namespace) -> dict:
    """spark_submit keyword arguments from the parsed add_spark_arguments options."""
    return {
        "cores": args.cores,
        "driver_memory": args.driver_memory,
        "java_options": args.driver_java_options,
    }


def sample_dump(root: Path, size: str) -> Path:
    """The sample dump of `size` (raw content bytes) under `root`, built on first use."""
    dump = root / f"raw-{size}"
    if not dump.exists():
        print(f"building a {size} sample dump in {dump} ...", flush=True)
        write_sample_dump(dump, parse_size(size))
    return dump
