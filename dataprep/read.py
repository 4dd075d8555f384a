"""Read stage: the raw dump (JSON Lines, plain or gzip, or Parquet) into rows with a stable id.

Nothing is dropped here. Every row that cannot be used gets a `reason` and flows on to the
rejected table with as much of it as could be read; the raw line is kept in `raw` when the
line itself could not be trusted.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StringType, StructField, StructType

from dataprep.cli import option
from dataprep.features import content_key_array
from dataprep.storage import Storage

RAW_COLUMNS = ("repo_name", "path", "copies", "size", "content", "license")

CORRUPT_FILE = "corrupt_file"
MALFORMED_JSON = "malformed_json"
INVALID_UTF8 = "invalid_utf8"
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

_CORRUPT = "_corrupt_record"
_JSON_SCHEMA = StructType(
    [StructField(name, StringType()) for name in RAW_COLUMNS]
    + [StructField(_CORRUPT, StringType())]
)
# A lone UTF-16 surrogate escape (\ud800-\udfff not in a valid pair) is how Python's json.dumps
# writes text that was decoded from invalid UTF-8 with errors="surrogateescape". An escape only
# counts after an even run of backslashes: source code holding the text \udc80 is fine.
_ESCAPE = r"(?<!\\)(?:\\\\)*"
_HIGH = r"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = f"{_ESCAPE}{_HIGH}(?!{_LOW})|{_ESCAPE}(?<!{_HIGH}){_LOW}"


@dataclass(frozen=True)
class ReadConfig:
    """How to read the raw dump."""

    input: str = option(
        help="the raw dump: a folder, file, glob or Hadoop URI (s3a://, hdfs://, gs://) of "
        "*.json, *.jsonl, *.json.gz (JSON Lines) or *.parquet files"
    )
    input_format: str = option("auto", help="json, parquet, or auto (by the files' extensions)")
    max_file_bytes: int = option(
        1_048_576, help="files whose content is larger (UTF-8 bytes) are rejected as too_large"
    )
    check_gzip: bool = option(
        True,
        help="verify every .gz shard to the end; one that is cut short or corrupt adds a "
        "corrupt_file row (its readable lines are still used)",
    )


def read_dump(spark: SparkSession, config: ReadConfig) -> DataFrame:
    """Rows of the dump: the raw columns, `raw`, `source_file`, `hash`, `id` and `reason`."""
    fmt = config.input_format
    if fmt == "auto":
        fmt = detect_format(spark, config.input)
    if fmt == "json":
        rows = _json_lines(spark, config.input)
        if config.check_gzip:
            rows = rows.unionByName(
                _corrupt_gzip_files(spark, config.input), allowMissingColumns=True
            )
    elif fmt == "parquet":
        rows = _parquet_rows(spark, config.input)
    else:
        raise ValueError(f"--input-format must be json, parquet or auto, not {fmt!r}")
    return _validate(rows, config.max_file_bytes)


def detect_format(spark: SparkSession, source: str) -> str:
    """`parquet` if the files under `source` are Parquet, else `json`; fails if there are none."""
    files = Storage(spark).glob_files(source)
    if not files:
        raise FileNotFoundError(f"no input files found at {source!r}")
    parquet = [f for f in files if f.endswith(".parquet")]
    if parquet and len(parquet) != len(files):
        raise ValueError(
            f"{source!r} mixes Parquet and other files; pass --input-format or a narrower glob"
        )
    return "parquet" if parquet else "json"


def _json_lines(spark: SparkSession, source: str) -> DataFrame:
    # A truncated or empty gzip shard must not stop the run: Spark keeps what it could read
    # and the cut-off last line, if any, fails to parse and is rejected as malformed_json.
    lines = (
        spark.read.option("ignoreCorruptFiles", "true")
        .text(source)
        .select(F.col("value").alias("raw"), F.col("_metadata.file_path").alias("source_file"))
        .where(F.trim("raw") != "")  # blank lines hold no record
    )
    parsed = F.from_json(
        "raw", _JSON_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    )
    rows = lines.withColumn("_json", parsed)
    fields = [F.col(f"_json.{name}").alias(name) for name in RAW_COLUMNS]
    malformed = F.col("_json").isNull() | F.col(f"_json.{_CORRUPT}").isNotNull()
    has_surrogate = F.col("raw").contains("\\ud") | F.col("raw").contains("\\uD")
    utf8_ok = F.is_valid_utf8("raw") & ~(
        # The regex runs only on the rare lines that hold a surrogate escape at all.
        F.when(has_surrogate, F.col("raw").rlike(_LONE_SURROGATE)).otherwise(F.lit(False))
    )
    return rows.select(
        *fields,
        "raw",
        "source_file",
        F.when(~utf8_ok, F.lit(INVALID_UTF8))
        .when(malformed, F.lit(MALFORMED_JSON))
        .alias("reason"),
    )


def _corrupt_gzip_files(spark: SparkSession, source: str) -> DataFrame:
    # Spark stops reading a damaged gzip shard where the damage starts and says nothing
    # the job can see; this pass finds such shards so the loss shows in the funnel.
    shards = spark.read.format("binaryFile").option("pathGlobFilter", "*.gz").load(source)
    return shards.where(~_gzip_complete("content")).select(
        F.col("path").alias("source_file"), F.lit(CORRUPT_FILE).alias("reason")
    )


@F.arrow_udf(BooleanType())
def _gzip_complete(blobs: pa.Array) -> pa.Array:
    return pa.array([gzip_is_complete(blob) for blob in blobs.to_pylist()], pa.bool_())


def gzip_is_complete(data: bytes) -> bool:
    """Whether `data` is a run of complete, valid gzip members (an empty file is complete)."""
    while data:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        try:
            while not member.eof:
                out = member.decompress(pending, 1 << 20)  # bounded memory per call
                pending = member.unconsumed_tail
                if not out and not pending:
                    return False  # input ended inside a member
        except zlib.error:
            return False
        data = member.unused_data
    return True


def _parquet_rows(spark: SparkSession, source: str) -> DataFrame:
    table = spark.read.parquet(source)
    missing = [c for c in RAW_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"Parquet input {source!r} lacks the columns {missing}")
    # Every other column (an earlier stage's features, say) is kept, as the data contract asks.
    rows = table.withColumns({c: F.col(c).cast("string") for c in RAW_COLUMNS})
    return rows.withColumns(
        {
            "raw": F.lit(None).cast("string"),
            "source_file": F.col("_metadata.file_path"),
            "reason": F.when(~F.is_valid_utf8("content"), F.lit(INVALID_UTF8)).cast("string"),
        }
    )


@F.arrow_udf(StringType())
def _content_key_udf(contents: pa.Array) -> pa.Array:
    return content_key_array(contents)


def content_hash(content: Column) -> Column:
    r"""CodeParrot's exact-dedup key (`hash`): md5 hex of the content without any whitespace.

    Computed in Arrow batches: Python's str.split() removes exactly the whitespace of
    CodeParrot's re.sub(r"\s+", "", content), faster than Spark's translate() (3x alone, 1.2x
    in the whole pipeline); regexp_replace() is slower still (README, Benchmark).
    """
    return _content_key_udf(content)


def stable_id() -> Column:
    """64-bit row id from (repo_name, path, hash); from the raw line when none of them was read.

    Two rows share an id only when they are the same file at the same location with the same
    whitespace-free content; exact dedup keeps one of them. Partitioning never changes it.
    """
    unread = F.col("repo_name").isNull() & F.col("path").isNull() & F.col("hash").isNull()
    return F.when(unread, F.xxhash64("raw")).otherwise(F.xxhash64("repo_name", "path", "hash"))


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
    # The raw line is kept only where the parsed fields cannot be trusted.
    untrusted = F.col("reason").isin(INVALID_UTF8, MALFORMED_JSON)
    return (
        rows.withColumn("reason", reason)
        # Invalid bytes would make the rejected table unreadable for strict readers (pyarrow)
        # and cannot be hashed: the text columns get U+FFFD in their place, `raw` the bytes.
        .withColumns(
            {
                name: F.when(untrusted, F.make_valid_utf8(name)).otherwise(F.col(name))
                for name in RAW_COLUMNS
            }
        )
        .withColumn("hash", F.when(F.col("content").isNotNull(), content_hash(F.col("content"))))
        .withColumn("id", stable_id())
        .withColumn("raw", F.when(untrusted, F.col("raw").cast("binary")))
    )
