"""Read stage: the raw dump (JSON Lines, plain or compressed, or Parquet) into rows with stable ids.

Nothing is dropped here. Every row that cannot be used gets a `reason` and flows on to the
rejected table with as much of it as could be read; the raw line is kept in `raw` when the
line itself could not be trusted.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import reduce

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StringType

from dataprep.cli import MissingInput, UsageError, check_options, option
from dataprep.features import content_key_array
from dataprep.json_lines import (
    INVALID_UTF8,
    LINES_SCHEMA,
    MALFORMED_JSON,
    RAW_COLUMNS,
    CorruptFile,
    decompressed_blocks,
    parse_lines,
)
from dataprep.storage import Storage

CORRUPT_FILE = "corrupt_file"
MISSING_REPO_OR_PATH = "missing_repo_or_path"
EMPTY_CONTENT = "empty_content"
TOO_LARGE = "too_large"
# In order of precedence: a row gets the first that applies.
READ_REASONS = (
    CORRUPT_FILE,
    INVALID_UTF8,
    MALFORMED_JSON,
    MISSING_REPO_OR_PATH,
    EMPTY_CONTENT,
    TOO_LARGE,
)


@dataclass(frozen=True)
class ReadConfig:
    """How to read the raw dump."""

    input: str = option(
        help="the raw dump: a folder, file, glob or Hadoop URI (s3a://, hdfs://, gs://) of "
        "JSON Lines (*.json, *.jsonl, *.ndjson; plain, .gz or .bz2) or *.parquet files"
    )
    input_format: str = option(
        "auto",
        help="auto: the files named as JSON Lines or Parquet, other files skipped (and listed); "
        "json or parquet: every file found, read as that",
        choices=("auto", "json", "parquet"),
    )
    max_file_bytes: int = option(
        1_048_576,
        help="files whose content is larger (UTF-8 bytes) are rejected as too_large; a size "
        "such as 1MiB or 500kB, or a number of bytes",
        minimum=1,
        size=True,
    )

    def __post_init__(self) -> None:
        check_options(self)


def read_record(spark: SparkSession, config: ReadConfig) -> dict:
    """How a stage read its input, for its record: the input as a full URI, so that `dir`,
    `dir/` and `./dir` are the same input."""
    return {
        "input": Storage(spark).qualify(config.input),
        "read": asdict(config) | {"input": None},
    }


def read_dump(spark: SparkSession, config: ReadConfig) -> DataFrame:
    """Rows of the dump: the raw columns, `raw`, `source_file`, `hash`, `id` and `reason`."""
    files, fmt = _data_files(Storage(spark), config)
    is_json = fmt == "json"
    rows = _json_lines(spark, files) if is_json else _parquet_rows(spark, files, config.input)
    return _validate(rows, config.max_file_bytes)


JSON_LINES_SUFFIXES = (".json", ".jsonl", ".ndjson")
# Inflated by the reader itself, a task per file, so a damaged file is a reason, not a crash.
COMPRESSED_SUFFIXES = (".gz", ".bz2")
# Spark's binaryFile source, which hands each compressed shard to its task whole, refuses a
# file longer than this; found before any work, not in the task that reaches it.
MAX_COMPRESSED_SHARD_BYTES = 2**31 - 1


def _refuse_oversized_shards(source: str, sizes: dict[str, int]) -> None:
    """Raise UsageError if a compressed shard is too long for Spark to read as one file."""
    oversized = [
        name
        for name, size in sizes.items()
        if name.endswith(COMPRESSED_SUFFIXES) and size > MAX_COMPRESSED_SHARD_BYTES
    ]
    if oversized:
        raise UsageError(
            f"{source!r}: {_some(oversized)} over 2 GiB compressed, more than Spark reads as "
            "one file: split them into smaller shards, or decompress them (plain JSON Lines "
            "are split by Spark)"
        )


def format_by_name(name: str) -> str | None:
    """`json` or `parquet` if a file's name says it holds JSON Lines or Parquet, else None."""
    if name.endswith(".parquet"):
        return "parquet"
    stem = next((name[: -len(s)] for s in COMPRESSED_SUFFIXES if name.endswith(s)), name)
    return "json" if stem.endswith(JSON_LINES_SUFFIXES) else None


def _data_files(storage: Storage, config: ReadConfig) -> tuple[list[str], str]:
    """The files to read at the input, and their format; compressed shards too long refused."""
    sizes = storage.file_sizes(config.input)
    files, fmt = _files_by_format(storage, config, sorted(sizes))
    if fmt == "json":
        _refuse_oversized_shards(config.input, {name: sizes[name] for name in files})
    return files, fmt


def _files_by_format(
    storage: Storage, config: ReadConfig, files: list[str]
) -> tuple[list[str], str]:
    """Of the files found at the input, those to read, and their format.

    With `--input-format auto`, a folder or glob is read by the files' names: a README or a
    manifest beside the shards is skipped, and said so on stderr, rather than read as JSON
    Lines and rejected line by line. A single file is read whatever its name.
    """
    if not files:
        raise MissingInput(f"no input files found at {config.input!r}")
    if config.input_format != "auto":
        return files, config.input_format
    formats = {name: format_by_name(name) for name in files}
    if files == [storage.qualify(config.input)]:  # the input names this file (no listing call)
        return files, formats[files[0]] or "json"
    kinds = sorted({fmt for fmt in formats.values() if fmt})
    others = [name for name, fmt in formats.items() if fmt is None]
    if not kinds:
        raise MissingInput(
            f"no *.json, *.jsonl, *.ndjson (plain, .gz or .bz2) or *.parquet files at "
            f"{config.input!r}, only {_some(others)}; --input-format json or parquet reads "
            "every file found as that format"
        )
    if len(kinds) > 1:
        raise UsageError(
            f"{config.input!r} holds both JSON Lines and Parquet files; give a glob that "
            "matches one kind"
        )
    if others:
        print(
            f"{config.input}: skipped {_some(others)}: not named as JSON Lines or Parquet "
            "(--input-format json or parquet reads every file)",
            file=sys.stderr,
        )
    return [name for name in files if formats[name]], kinds[0]


def _some(names: list[str], shown: int = 3) -> str:
    """`names` for a message: the first few, and how many more."""
    listed = ", ".join(names[:shown])
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return f"{len(names):,} file(s) ({listed}{more})"


def _json_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    compressed = [f for f in files if f.endswith(COMPRESSED_SUFFIXES)]
    plain = [f for f in files if not f.endswith(COMPRESSED_SUFFIXES)]
    parts = []
    if compressed:
        # Gzip is not splittable, and a shard decompresses to ~4x its size: each shard gets
        # its own task, which decompresses and parses it in Python in bounded blocks, reading
        # it once, so a damaged shard is found on the way. Bzip2 goes the same way: Spark's
        # reader of it fails the job on a cut-off file.
        shards = _compressed_shards(spark, compressed)
        parts.append(shards.mapInArrow(_read_compressed_shards, _SOURCED_STRUCT))
    if plain:
        # Plain files are split by Spark's text reader (any Hadoop codec too); the lines are
        # parsed by the same Python function. Only \n ends a line: a bare \r is whitespace
        # inside a record.
        lines = (
            spark.read.option("lineSep", "\n")
            .text(plain)
            .select(F.col("_metadata.file_path").alias("path"), F.col("value").cast("binary"))
        )
        parts.append(lines.mapInArrow(_parse_plain_lines, _SOURCED_STRUCT))
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)
    return rows


# Up to this many shards, each is scanned on its own; the driver lists each one.
PER_SHARD_SCANS = 512


def _compressed_shards(spark: SparkSession, shards: list[str]) -> DataFrame:
    """(path, content) of the compressed shards, one partition per shard."""
    if len(shards) <= PER_SHARD_SCANS:
        # One scan per shard is one partition per shard without moving a byte; a single scan
        # would pack several shards into a task by compressed size and leave cores idle at the
        # end of the stage.
        scans = [spark.read.format("binaryFile").load(shard) for shard in shards]
        return reduce(DataFrame.union, scans).select("path", "content")
    # Too many scans to plan: one scan, and a shuffle of the compressed bytes into a partition
    # per shard (measured 10 s of a 4 GB run's 150 s at 62 shards), placed by the shard's
    # index: a hash would put two shards in some partitions and none in others.
    scan = spark.read.format("binaryFile").load(shards).select("path", "content")
    index = F.array_position(F.array(*map(F.lit, shards)), F.col("path")) - 1
    return scan.repartitionById(len(shards), F.pmod(index, F.lit(len(shards))).cast("int"))


_SOURCED_SCHEMA = LINES_SCHEMA.append(pa.field("source_file", pa.string()))
_SOURCED_STRUCT = from_arrow_schema(_SOURCED_SCHEMA)


def _read_compressed_shards(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        paths, blobs = batch.column("path"), batch.column("content")
        for i in range(batch.num_rows):
            # One shard's bytes as a Python object at a time.
            yield from _read_compressed_shard(paths[i].as_py(), blobs[i].as_py())


def _read_compressed_shard(path: str, data: bytes) -> Iterator[pa.RecordBatch]:
    try:
        for block in decompressed_blocks(data):
            yield from _with_source(parse_lines(block), path)
    except CorruptFile:
        # Lines read before the damage are kept (the cut-off last one is malformed_json);
        # this row makes the loss show in the funnel.
        marker = {"source_file": path, "reason": CORRUPT_FILE}
        yield pa.RecordBatch.from_pylist([marker], schema=_SOURCED_SCHEMA)


def _parse_plain_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        paths = batch.column("path").to_pylist()
        lines = batch.column("value").to_pylist()
        # Consecutive lines of one file are parsed together.
        start = 0
        for end in range(1, len(paths) + 1):
            if end == len(paths) or paths[end] != paths[start]:
                block = b"\n".join(lines[start:end])
                yield from _with_source(parse_lines(block), paths[start])
                start = end


def _with_source(table: pa.Table, path: str) -> list[pa.RecordBatch]:
    sourced = table.append_column("source_file", pa.array([path] * table.num_rows, pa.string()))
    return sourced.to_batches()


def _parquet_rows(spark: SparkSession, files: list[str], source: str) -> DataFrame:
    reader = spark.read
    if Storage(spark).is_folder(source):
        # Partition folders (reason=...) under the input stay columns, as when a folder is read.
        reader = reader.option("basePath", source)
    table = reader.parquet(*files)
    missing = [c for c in RAW_COLUMNS if c not in table.columns]
    if missing:
        raise UsageError(f"Parquet input {source!r} lacks the columns {missing}")
    if "reason" in table.columns:
        # Reading would give each row a reason of its own and lose the one it came with.
        raise UsageError(
            f"Parquet input {source!r} has a `reason` column, as a stage's rejected rows have: "
            "give the kept rows of a stage (its --output), or rename the column"
        )
    # Every other column (an earlier stage's features, say) is kept, as the data contract asks.
    rows = table.withColumns({c: F.col(c).cast("string") for c in RAW_COLUMNS})
    invalid = reduce(
        Column.__or__, [F.coalesce(~F.is_valid_utf8(c), F.lit(False)) for c in RAW_COLUMNS]
    )
    # The reason is found before the repair below, which would hide it.
    rows = rows.withColumn("reason", F.when(invalid, F.lit(INVALID_UTF8)).cast("string"))
    # Invalid bytes would make the rejected table unreadable for strict readers (pyarrow) and
    # cannot be hashed: the text gets U+FFFD in their place, as the JSON reader does.
    repaired = rows.withColumns(
        {
            name: F.when(F.col("reason").isNotNull(), F.make_valid_utf8(name)).otherwise(
                F.col(name)
            )
            for name in RAW_COLUMNS
        }
    )
    return repaired.withColumns(
        {
            "raw": F.lit(None).cast("binary"),
            "source_file": F.col("_metadata.file_path"),
            "hash": F.when(F.col("content").isNotNull(), content_hash(F.col("content"))),
        }
    )


@F.arrow_udf(StringType())
def _content_key_udf(contents: pa.Array) -> pa.Array:
    return content_key_array(contents)


def content_hash(content: Column) -> Column:
    r"""CodeParrot's exact-dedup key (`hash`): md5 hex of the content without any whitespace.

    Computed in Arrow batches by `dataprep.features.content_key_array` (bytes.translate for
    ASCII text, str.split() otherwise: exactly the whitespace of CodeParrot's
    re.sub(r"\s+", "", content)), faster than Spark's translate() (3x alone, 1.2x in the whole
    pipeline); regexp_replace() is slower still (bench/README.md).
    """
    return _content_key_udf(content)


def stable_id() -> Column:
    """64-bit row id from (repo_name, path, hash); for a row missing one of them, from what was
    read of it: those fields, its raw line, or where no line was kept, its file's name.

    Two rows share an id only when they are the same file at the same location with the same
    whitespace-free content (exact dedup keeps one of them), or the same bad line. Partitioning
    never changes it.
    """
    located = ("repo_name", "path", "hash")
    whole = reduce(Column.__and__, [F.col(c).isNotNull() for c in located])
    # xxhash64 skips nulls: which fields are null must enter the hash, or a row with no
    # repo_name and one with no path (or every unread line) would share an id.
    nulls = [F.col(c).isNull() for c in located]
    source = F.when(F.col("raw").isNull(), F.col("source_file"))
    partial = F.xxhash64(*nulls, *located, "raw", source)
    return F.when(whole, F.xxhash64(*located)).otherwise(partial)


def _validate(rows: DataFrame, max_file_bytes: int) -> DataFrame:
    missing = (
        F.col("repo_name").isNull()
        | (F.col("repo_name") == "")
        | F.col("path").isNull()
        | (F.col("path") == "")
    )
    empty = F.col("content").isNull() | (F.col("content") == "")
    reason = F.coalesce(
        F.col("reason"),
        F.when(missing, F.lit(MISSING_REPO_OR_PATH))
        .when(empty, F.lit(EMPTY_CONTENT))
        .when(F.octet_length("content") > max_file_bytes, F.lit(TOO_LARGE)),
    )
    return rows.withColumn("reason", reason).withColumn("id", stable_id())
