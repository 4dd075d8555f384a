"""Build a sample raw dump from this Python's standard library, with GitHub's duplication profile.

    python jobs/make_sample.py --output work/demo/raw --size 64MB

Writes gzip JSON Lines shards (file-000001.json.gz, ...) in the format of CodeParrot's GitHub
dump: about --size of content in all; the top 0.1% / 1% / 10% of unique files account for
15% / 35% / 66% of the files, and about 68% of the files are exact duplicates of another.
Same options, same Python -> byte-identical shards. Needs no Spark.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from dataprep.cli import check_options, option, parse_config, user_errors
from dataprep.sample import (
    MAX_NEAR_DUPLICATE_FRACTION,
    MIN_TARGET_BYTES,
    SampleSummary,
    write_sample_dump,
)
from dataprep.units import parse_size


@dataclass(frozen=True)
class MakeSampleJob:
    """Settings of the sample dump job."""

    output: str = option(help="folder to write the shards into (created if missing)")
    size: str = option(
        "64MB",
        help="raw content bytes (UTF-8) of all files together: 1MB, 64MB, 1.5GB, 2MiB or a "
        f"plain number of bytes, at least {MIN_TARGET_BYTES / 1e6:g}MB (smaller samples have too "
        "few files to land within about 1%%, as larger ones do)",
        size=True,
        minimum=MIN_TARGET_BYTES,
    )
    seed: int = option(0, help="seed of every random choice; another seed, another dump", minimum=0)
    shards: int | None = option(
        None,
        help="number of shards, at most one per file (default: one per 64 MB of content, "
        "at least 2)",
        minimum=1,
    )
    near_duplicates: float = option(
        0.05,
        help="fraction of the files that are a more-copied file with a one- or two-line edit "
        f"(work for near-dedup; at most {MAX_NEAR_DUPLICATE_FRACTION})",
        minimum=0,
        maximum=MAX_NEAR_DUPLICATE_FRACTION,
    )
    overwrite: bool = option(
        False, help="replace the *.json.gz shards already in --output instead of refusing"
    )

    def __post_init__(self) -> None:
        check_options(self)


def main(job: MakeSampleJob) -> SampleSummary:
    """Write the dump and print a one-line summary."""
    started = time.monotonic()
    summary = write_sample_dump(
        job.output,
        parse_size(job.size),
        seed=job.seed,
        n_shards=job.shards,
        near_duplicate_fraction=job.near_duplicates,
        overwrite=job.overwrite,
    )
    print(
        f"{summary.n_files:,} files ({summary.n_unique:,} unique, "
        f"{summary.n_near_duplicates:,} near-duplicates), {summary.total_bytes / 1e6:,.1f} MB "
        f"of content in {summary.n_shards} shards under {summary.output_dir}, "
        f"{time.monotonic() - started:.1f} s"
    )
    return summary


if __name__ == "__main__":
    with user_errors("make_sample.py"):
        main(parse_config(MakeSampleJob, __doc__))
