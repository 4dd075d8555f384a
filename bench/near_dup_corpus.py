"""The near-dedup benchmark corpus: installed Python sources plus a sample dump, one Parquet file.

    .venv/bin/python bench/near_dup_corpus.py --output work/bench/near_dup/corpus.parquet

Rows have the raw dump's columns (all strings). They are every readable UTF-8 `*.py` file of
this interpreter's standard library (repo_name "stdlib") and of the venv's site-packages
(repo_name "site-packages"), path relative to that folder, plus the rows of a sample dump
(`dataprep.sample`), whose single-copy files include near-duplicate edited copies. Real
packages bring the near-duplicates nobody planted: vendored copies, versioned modules, tests
written from one template.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dataprep.features import content_key
from dataprep.read import RAW_COLUMNS
from dataprep.sample import write_sample_dump
from dataprep.units import parse_size

SCHEMA = pa.schema([(name, pa.string()) for name in RAW_COLUMNS])
MAX_FILE_BYTES = 1_048_576  # the pipeline's default --max-file-bytes
# Small row groups, so that Spark can split the one file into many tasks.
_ROW_GROUP_ROWS = 1000
_LICENSES = {"stdlib": "psf-2.0", "site-packages": "unknown"}


def build_corpus(output: Path, sample_bytes: int = 32_000_000, seed: int = 0) -> Path:
    """Write the corpus to the Parquet file `output` and return its path."""
    paths = sysconfig.get_paths()
    rows = [
        *_source_rows("stdlib", Path(paths["stdlib"])),
        *_source_rows("site-packages", Path(paths["purelib"])),
    ]
    n_sources = len(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as dump:
        write_sample_dump(dump, sample_bytes, seed=seed)
        rows.extend(read_dump(Path(dump)))
    unique: dict[tuple[str, str], dict] = {}
    for row in rows:
        unique.setdefault((row["repo_name"], row["path"]), row)
    table = pa.Table.from_pylist(list(unique.values()), schema=SCHEMA)
    # Written aside and renamed, so that a half-written file is never taken for a corpus.
    partial = output.with_name(f".{output.name}.tmp")
    pq.write_table(table, partial, compression="zstd", row_group_size=_ROW_GROUP_ROWS)
    partial.replace(output)
    megabytes = sum(len(row["content"].encode("utf-8")) for row in unique.values()) / 1e6
    print(
        f"corpus: {len(unique):,} files, {megabytes:,.1f} MB of content "
        f"({n_sources:,} installed sources, {len(rows) - n_sources:,} sample rows) -> {output}"
    )
    return output


def _source_rows(repo_name: str, root: Path) -> Iterator[dict[str, str]]:
    """Rows of the readable UTF-8 `*.py` files under `root` of 1 byte to MAX_FILE_BYTES, sorted."""
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        # A non-venv interpreter keeps its site-packages inside the stdlib folder.
        if repo_name == "stdlib" and "site-packages" in relative.parts:
            continue
        try:
            data = file.read_bytes()
            content = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not 1 <= len(data) <= MAX_FILE_BYTES:
            continue
        yield {
            "repo_name": repo_name,
            "path": relative.as_posix(),
            "copies": "1",
            "size": str(len(data)),
            "content": content,
            "license": _LICENSES[repo_name],
        }


def read_dump(folder: Path) -> Iterator[dict]:
    """Rows of the `*.json.gz` JSON Lines shards in `folder`, shards in name order."""
    for shard in sorted(folder.glob("*.json.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def load_corpus(path: Path) -> list[dict]:
    """All rows of a corpus file, as dicts."""
    return pq.read_table(path).to_pylist()


def exact_dedup_rows(rows: list[dict]) -> list[dict]:
    """One row per content_key, the first in (repo_name, path) order, in that order."""
    seen: set[str] = set()
    unique = []
    for row in sorted(rows, key=lambda row: (row["repo_name"], row["path"])):
        key = content_key(row["content"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="Parquet file to write")
    parser.add_argument("--sample-bytes", default="32MB", help="content bytes of the sample dump")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample dump")
    args = parser.parse_args()
    build_corpus(args.output, parse_size(args.sample_bytes), args.seed)
