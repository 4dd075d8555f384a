"""Benchmark: the Spark near-dedup job against CodeParrot's datasketch method, same dump, one run.

    .venv/bin/python bench/near_dedup_throughput.py --sizes 1GB,2GB --cores 2 --repeats 3

For each size, builds (or reuses) a sample dump with the GitHub duplication profile and times
read -> exact dedup -> MinHash near-dedup -> Parquet, twice: `jobs/near_dedup.py` through
`spark-submit --master local[N]`, and `bench/near_dup_reference.py` (datasketch MinHash in N
processes, in-memory MinHashLSH at 13 x 19, greedy extremes). Prints MB/s per core (raw
content bytes / wall seconds / cores), the ratio, how time grows from size to size, and the
marginal rates (extra content / extra seconds / cores) from each size to the next. A third
run, `bench/read_floor_job.py --shuffle-write` (Spark's built-in reader, a shuffle of every
row by the md5 of its content and a Parquet write: no near dedup at all), is the floor of any
Spark job on the dump, printed beside the time the goal of 2x the reference per core allows.
A fourth, `jobs/exact_dedup.py` (the same read, exact dedup and write, no near dedup), gives
near dedup's own cost on each side: the Spark job's time less that job's, against the
reference's near-dedup phase (MinHash, LSH, extremes) without its read, exact dedup and write.
With --repeats N the runs take turns N times over, and the figures are medians (near dedup's
own cost: last runs). The Spark job's last run is broken down by step, from its event log
(bench/event_log.py).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from event_log import event_log_settings, print_steps
from near_dup_reference import reference_pipeline
from submit import (
    ROOT,
    add_spark_arguments,
    alternate,
    floor_pass,
    print_marginal_rates,
    print_rate,
    sample_dump,
    spark_submit,
    submit_options,
)


def spark_pass(dump: Path, folder: Path, options: dict) -> dict:
    """Run jobs/near_dedup.py on the raw dump through spark-submit; return its printed summary.

    Its outputs go to `folder`/rows (and rows_rejected, rows_clusters beside), its event log
    to `folder`/events, for where its time went.
    """
    events = folder / "events"
    events.mkdir(parents=True)
    stdout = spark_submit(
        "jobs/near_dedup.py", "--input", dump, "--output", folder / "rows", "--overwrite",
        quiet=True, conf=event_log_settings(events), **options,
    )  # fmt: skip
    return json.loads(stdout[stdout.index("{") : stdout.rindex("}") + 1])


def exact_pass(dump: Path, folder: Path, options: dict) -> None:
    """Run jobs/exact_dedup.py on the raw dump: the Spark job's read, exact dedup and write."""
    spark_submit(
        "jobs/exact_dedup.py", "--input", dump, "--output", folder / "rows", "--overwrite",
        quiet=True, **options,
    )  # fmt: skip


def measure(root: Path, size: str, args: argparse.Namespace) -> dict:
    """Time the Spark job, the datasketch reference, the Spark floor and the Spark job without
    near dedup on one dump size."""
    dump = sample_dump(root, size)
    out = root / f"near-{size}"
    options = submit_options(args)
    # Each side's output folder, removed before each of its runs.
    folders = {
        "spark": out / "spark",
        "datasketch": out / "reference",
        "floor": out / "floor",
        "exact": out / "exact",
    }
    sides = {
        "spark": lambda: spark_pass(dump, folders["spark"], options),
        "datasketch": lambda: reference_pipeline(dump, folders["datasketch"], processes=args.cores),
        "floor": lambda: floor_pass(dump, options, shuffle_write=folders["floor"]),
        "exact": lambda: exact_pass(dump, folders["exact"], options),
    }
    timings = alternate(sides, args.repeats, clear=folders)
    summary, counts = timings["spark"].result, timings["datasketch"].result
    mb = summary["counts"]["in"]["bytes"] / 1e6
    removed = summary["counts"].get("rejected", {}).get("near_duplicate", {}).get("files", 0)

    print(f"\n{size}: {mb:,.0f} MB of content in {summary['counts']['in']['files']:,} files")
    spark_rate = print_rate("spark", mb, timings["spark"], args.cores)
    print_steps(out / "spark" / "events", indent="    ")
    reference_mb = counts["bytes"] / 1e6
    reference_rate = print_rate("datasketch", reference_mb, timings["datasketch"], args.cores)
    print(f"  ratio per core: {spark_rate / reference_rate:.2f}x")
    print(f"  near-dup removed: spark {removed:,}, datasketch {counts['near_removed']:,}")
    floor_label = "spark floor (read, md5 shuffle, write; no near dedup)"
    print_rate(floor_label, mb, timings["floor"], args.cores)
    print(f"  2x the reference per core allows {timings['datasketch'].median / 2:.1f} s")
    print_own_costs(mb, timings, args.cores)
    stats = {k: v for k, v in summary.items() if k != "counts"}
    print(f"  spark near-dedup (last run): {json.dumps(stats)}")
    return {"mb": mb} | {name: timing.median for name, timing in timings.items()}


def print_own_costs(mb: float, timings: dict, cores: int) -> None:
    """Print near dedup's own seconds and MB/s per core on each side, and their ratio.

    Each side less its read, exact dedup and write: for Spark, what `jobs/exact_dedup.py`
    takes on the same dump (start-up included, which cancels out); for the reference, its
    own timing of its phases. From the last runs.
    """
    spark, exact = timings["spark"].seconds[-1], timings["exact"].seconds[-1]
    phases = timings["datasketch"].result["seconds"]
    own = {"spark": spark - exact, "datasketch": phases["near_dedup"]}
    print("  near dedup's own cost (each side less its read, exact dedup and write; last runs):")
    print(
        f"    spark: {spark:.1f} s - {exact:.1f} s for jobs/exact_dedup.py alone = "
        f"{own['spark']:.1f} s, {mb / own['spark'] / cores:.1f} MB/s per core"
    )
    print(
        f"    datasketch: {own['datasketch']:.1f} s of {timings['datasketch'].seconds[-1]:.1f} s "
        f"(read and exact dedup {phases['read_and_exact_dedup']:.1f} s, write "
        f"{phases['write']:.1f} s), {mb / own['datasketch'] / cores:.1f} MB/s per core"
    )
    print(f"    ratio per core: {own['datasketch'] / own['spark']:.2f}x")


def main() -> None:
    """Time both methods on each dump size and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="512MB,1GB", help="comma-separated dump sizes")
    parser.add_argument("--root", default=str(ROOT / "work/bench"), help="benchmark folder")
    add_spark_arguments(parser)
    args = parser.parse_args()

    sides = [
        ("spark", "spark", args.cores),
        ("datasketch", "datasketch", args.cores),
        ("floor", "spark floor", args.cores),
    ]
    previous = None
    for size in args.sizes.split(","):
        figures = measure(Path(args.root), size, args)
        if previous:
            growth = figures["spark"] / previous["spark"]
            print(f"  spark time x{growth:.2f} for x{figures['mb'] / previous['mb']:.2f} the input")
            print_marginal_rates(previous, figures, sides, ratios=[("spark", "datasketch")])
        previous = figures


if __name__ == "__main__":
    main()
