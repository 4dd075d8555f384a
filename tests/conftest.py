"""Shared fixtures: one local[2] SparkSession for the whole test session, tiny dumps, and
a small near-duplicate corpus of real Python files."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import random
import socket
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from dataprep.pretokenize import pretokenize
from dataprep.session import DEFAULTS
from dataprep.tokenizer import train_tokenizer

# Not resolved: the venv's python is a symlink, and its folder is what makes it the venv's.
VENV_BIN = Path(sys.executable).parent
# Variables that would tell the launcher which Python or Spark to use; the tests drop them to
# show that the venv's spark-submit finds both by itself (bin/spark-distribution, spark-env.sh).
LAUNCHER_VARS = (
    "PYSPARK_PYTHON",
    "PYSPARK_DRIVER_PYTHON",
    "PYSPARK_GATEWAY_PORT",
    "PYSPARK_GATEWAY_SECRET",
    "SPARK_HOME",
    "SPARK_CONF_DIR",
    "SPARK_ENV_LOADED",
    "VIRTUAL_ENV",
)


def launch_env() -> dict[str, str]:
    """The test's environment without launcher hints and without the venv's bin on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARS}
    venv_bin = VENV_BIN.resolve()
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin]
    env["PATH"] = os.pathsep.join(path)
    # Everything (driver, master, worker, web UIs) binds to loopback only.
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


@pytest.fixture(scope="session")
def cpu_processes() -> Callable[[int], tuple[list[str], dict[str, str]]]:
    """The command prefix and environment that run a Python script in `n` CPU processes.

    `accelerate launch --cpu --num_processes n` starts one process unless MPI is set up, so
    the tests use torch's launcher; ACCELERATE_USE_CPU makes Accelerate join the processes
    over gloo (Accelerate's multi-CPU mode) rather than look for GPUs.
    """

    def command(n: int) -> tuple[list[str], dict[str, str]]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        prefix = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(n)]
        prefix += ["--master_addr", "127.0.0.1", "--master_port", str(port)]
        return prefix, {**os.environ, "ACCELERATE_USE_CPU": "true"}

    return command


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A small local session; tests keep their data tiny, so few shuffle partitions."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("dataprep-tests")
        .config(map=DEFAULTS)  # as the jobs run
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def load_job(script: str) -> ModuleType:
    """The module of jobs/<script>, loaded as spark-submit would (jobs/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "jobs" / script
    spec = importlib.util.spec_from_file_location(f"jobs_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered, so the config dataclasses' string annotations resolve in their module.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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


def stdlib_texts(limit: int) -> list[str]:
    """The first `limit` readable stdlib modules with some code in them, in path order."""
    texts = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if 2_000 < len(text) < 60_000:
            texts.append(text)
        if len(texts) == limit:
            break
    return texts


def edited(text: str, rng: random.Random, edits: int) -> str:
    """`text` with `edits` lines replaced by new ones."""
    lines = text.splitlines()
    for _ in range(edits):
        lines[rng.randrange(len(lines))] = f"value_{rng.randrange(10**6)} = {rng.random()}"
    return "\n".join(lines)


@pytest.fixture(scope="session")
def real_files() -> list[str]:
    """300 real Python files of the standard library."""
    return stdlib_texts(300)


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, real_files: list[str]) -> Path:
    """A small byte-level BPE (600 tokens) trained on the real files, saved as a folder."""
    shard = tmp_path_factory.mktemp("tokenizer_data") / "part-0.parquet"
    pq.write_table(pa.table({"content": real_files}), shard)
    output = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer(shard.parent, output, vocab_size=600, n_examples=200, show_progress=False)
    return output


@pytest.fixture(scope="session")
def clean_dir(tmp_path_factory: pytest.TempPathFactory, real_files: list[str]) -> Path:
    """A clean/ folder of real files: train/ in three Parquet shards, valid/ in one."""
    clean = tmp_path_factory.mktemp("clean")
    parts = {
        "train": [real_files[:100], real_files[100:200], real_files[200:280]],
        "valid": [real_files[280:]],
    }
    for split, shards in parts.items():
        (clean / split).mkdir()
        for n, docs in enumerate(shards):
            table = pa.table({"content": docs})
            pq.write_table(table, clean / split / f"part-{n:05d}.parquet", row_group_size=20)
    return clean


@pytest.fixture(scope="session")
def tokens_dir(
    spark: SparkSession,
    tmp_path_factory: pytest.TempPathFactory,
    clean_dir: Path,
    tokenizer_dir: Path,
) -> Path:
    """`clean_dir` pretokenized with `tokenizer_dir`."""
    output = tmp_path_factory.mktemp("tokens") / "tokens"
    pretokenize(spark, str(clean_dir), str(tokenizer_dir), str(output))
    return output


@pytest.fixture(scope="session")
def corpus(real_files: list[str]) -> list[tuple[int, str]]:
    """(id, content): 150 real files plus 1-3 lightly and heavily edited copies of a third."""
    rng = random.Random(7)
    rows = []
    next_id = 1_000
    for i, text in enumerate(real_files[:150]):
        rows.append((next_id, text))
        next_id += 1
        if i % 3 == 0:
            for _ in range(rng.randint(1, 3)):
                rows.append((next_id, edited(text, rng, rng.choice([1, 2, 5, 40]))))
                next_id += 1
    rng.shuffle(rows)  # ids, not positions, decide
    return rows
