"""Running a project script through this environment's spark-submit, for the benchmarks; the
sample dumps they run on; the rates they print."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    conf: dict[str, str] | None = None,
) -> str:
    """Run `ROOT/script args` with spark-submit in local[cores] mode; return its stdout.

    `java_options` go to the driver's JVM, which in local mode runs the tasks too; `conf`
    are Spark settings (--conf).
    """
    settings = [f"--conf={key}={value}" for key, value in (conf or {}).items()]
    command = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master", f"local[{cores}]",
        "--driver-memory", driver_memory,
        *(["--driver-java-options", java_options] if java_options else []),
        *settings,
        str(ROOT / script),
        *map(str, args),
    ]  # fmt: skip
    # Output is shown as it comes unless the caller wants it (quiet) for parsing.
    done = subprocess.run(
        command, check=True, cwd=ROOT, stdout=subprocess.PIPE if quiet else None, text=True
    )
    return done.stdout or ""


def floor_pass(dump: Path, options: dict, shuffle_write: Path | None = None) -> None:
    """Run bench/read_floor_job.py on `dump`: Spark's built-in reader alone.

    With `shuffle_write` (a scratch folder, for alternate's `clear`), the read, md5 shuffle
    and write.
    """
    extra = ("--shuffle-write", shuffle_write) if shuffle_write else ()
    spark_submit("bench/read_floor_job.py", dump, *extra, **options)


@dataclass
class Timing:
    """Wall seconds of every run of one benchmark side, and what its last run returned."""

    seconds: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        """The median of the runs' wall seconds: the figure a benchmark reports."""
        return statistics.median(self.seconds)


def alternate(
    sides: dict[str, Callable[[], Any]],
    repeats: int,
    clear: dict[str, Path] | None = None,
) -> dict[str, Timing]:
    """Run every side `repeats` times, in turn (a, b, c, a, b, c, ...); return their timings.

    Taking turns spreads a slow spell of the machine over all sides instead of one. Before
    each run of a side named in `clear`, untimed, its folder is removed: a run starts from
    nothing, as a job would find a finished output and skip its work.
    """
    clear = clear or {}
    timings = {name: Timing() for name in sides}
    for round_ in range(1, repeats + 1):
        for name, run in sides.items():
            if name in clear:
                shutil.rmtree(clear[name], ignore_errors=True)
            started = time.time()
            result = run()
            timings[name].seconds.append(time.time() - started)
            timings[name].result = result
            print(f"[run {round_}/{repeats}] {name}: {timings[name].seconds[-1]:.1f} s", flush=True)
    return timings


def add_spark_arguments(parser: argparse.ArgumentParser, repeats: int = 1) -> None:
    """The settings a benchmark takes: --cores, --driver-memory, JVM flags, --repeats."""
    parser.add_argument(
        "--repeats",
        type=int,
        default=repeats,
        help="runs of each side, taking turns; the figures are their medians",
    )
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
        "'-XX:TieredStopAtLevel=1' for short runs (bench/README.md)",
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


def print_rate(label: str, mb: float, timing: Timing, cores: int) -> float:
    """Print a side's median wall seconds and MB/s per core (mb / seconds / cores); return it.

    With several runs, their range follows.
    """
    seconds = timing.median
    rate = mb / seconds / cores
    runs = timing.seconds
    spread = ""
    if len(runs) > 1:
        spread = f"  (median of {len(runs)}: {min(runs):.1f}-{max(runs):.1f} s)"
    print(f"  {label}: {seconds:7.1f} s  {rate:6.1f} MB/s per core{spread}")
    return rate


def print_marginal_rates(
    smaller: dict,
    larger: dict,
    sides: list[tuple[str, str, int]],
    ratios: list[tuple[str, str]],
) -> None:
    """Per core, the rates on the content the larger dump adds: per-byte cost, no fixed costs.

    `smaller` and `larger` hold "mb" and each side's median wall seconds; `sides` lists (key, label,
    cores); each of `ratios` names two sides whose marginal rates are compared.
    """
    extra_mb = larger["mb"] - smaller["mb"]
    print(f"  marginal, from the previous size ({extra_mb:,.0f} MB more content):")
    rates = {}
    for key, label, cores in sides:
        if key not in larger:
            continue
        extra = larger[key] - smaller[key]
        if extra <= 0:  # too small a step to time
            print(f"    {label}: {extra:+.1f} s, no rate")
            continue
        rates[key] = extra_mb / extra / cores
        print(f"    {label}: {extra:+.1f} s, {rates[key]:.1f} MB/s per core")
    for first, second in ratios:
        if first in rates and second in rates:
            ratio = rates[first] / rates[second]
            print(f"    marginal ratio per core, {first} against {second}: {ratio:.2f}x")
