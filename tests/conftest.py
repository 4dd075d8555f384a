"""Shared fixtures: one local[2] SparkSession for the whole test session, tiny dumps."""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from dataprep.session import apply_tuned_defaults


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A small local session; tests keep their data tiny, so few shuffle partitions."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("dataprep-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    apply_tuned_defaults(session)
    yield session
    session.stop()


def raw_row(repo: str, path: str, content: str, **extra: str) -> dict:
    """A row in the raw dump format (all six fields as strings, like the GitHub dump)."""
    row = {
        "repo_name": repo,
        "path": path,
        "copies": "1",
        "size": str(len(content.encode("utf-8"))),
        "content": content,
        "license": "mit",
    }
    row.update(extra)
    return row


def write_jsonl_gz(path: Path, rows: list[dict] | list[bytes]) -> Path:
    """Write rows (dicts, or raw lines as bytes) as one gzip JSON Lines shard."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        for row in rows:
            line = row if isinstance(row, bytes) else json.dumps(row).encode()
            f.write(line + b"\n")
    return path
