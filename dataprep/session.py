"""The SparkSession every job and test starts from."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from py4j.protocol import Py4JJavaError
from pyspark import SparkConf, SparkContext
from pyspark.sql import DataFrame, SparkSession

from dataprep.cli import parse_config, user_errors
from dataprep.storage import Storage

T = TypeVar("T")

# Defaults applied only where the operator set nothing (--conf, spark-defaults.conf), given to
# the session builder so that settings Spark reads once, when the context starts, take too.
# - Source files average ~10 KB, so Spark's default 10,000-row Arrow batches hold ~100 MB each
#   and stall the Python workers; 1,000 rows measured ~2x faster end to end for the UDFs here.
# - Near-dedup caches rows it reads twice; Spark otherwise keeps a cached plan at
#   spark.sql.shuffle.partitions (200) partitions instead of letting adaptive execution merge
#   them, and every later scan of the cache pays for 200 tiny tasks (measured 3-6x slower
#   near-dedup on 512 MB in local[2]).
# - Up to bypassMergeThreshold reduce partitions, a shuffle map task writes one file per
#   partition (Spark's default allows 200, its default partition count); above, one file per
#   task. Exact dedup of a 4 GB dump in 62 tasks made 12,400 files, whose creation (ext4 inode
#   allocation) took a third of the read stage's JVM CPU time, and near dedup's many small
#   shuffles each made 200 files per task: measured, the read stage 46 s instead of 52 s and
#   near dedup of 1 GB 80 s instead of 90 s (bench/README.md).
DEFAULTS = {
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
    "spark.shuffle.sort.bypassMergeThreshold": "16",
}


# Java exceptions by which a filesystem refuses a path: the operator's to fix, so one line says
# what, not a Py4J stack through this project's code.
FILESYSTEM_ERRORS = (
    "java.io.FileNotFoundException",
    "java.nio.file.AccessDeniedException",
    "org.apache.hadoop.fs.FileAlreadyExistsException",
    "org.apache.hadoop.fs.ParentNotDirectoryException",
    "org.apache.hadoop.fs.UnsupportedFileSystemException",
    "org.apache.hadoop.security.AccessControlException",
)


def launch_conf() -> SparkConf:
    """The settings Spark is about to start with: spark-submit's --conf, spark-defaults.conf."""
    # They are system properties of the JVM, which spark-submit started before this driver
    # (plain Python starts it here, as the SparkContext would have).
    SparkContext._ensure_initialized()
    return SparkConf()


def spark_session(app_name: str) -> SparkSession:
    """Get or create the session for a job: `--master` from spark-submit, else local mode.

    Memory, partitions and masters belong to the operator (`--conf`, `spark-defaults.conf`);
    only DEFAULTS are filled in, never over a value the operator set, and listed on stderr.
    """
    # Executors run the Python that runs this driver unless the operator said otherwise,
    # so a job started from the project's virtualenv never picks up a system Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    configured = launch_conf()
    missing = [key for key in DEFAULTS if not configured.contains(key)]
    builder = SparkSession.builder.appName(app_name)
    for key in missing:
        builder = builder.config(key, DEFAULTS[key])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DATAPREP_LOG_LEVEL", "WARN"))
    if missing:
        # Read back from the running session: a setting that did not take shows as None.
        settings = ", ".join(f"{key}={spark.conf.get(key, None)}" for key in missing)
        print(
            f"{app_name}: defaults of this project, as no --conf set them: {settings}",
            file=sys.stderr,
        )
    return spark


@contextmanager
def job_description(spark: SparkSession, text: str) -> Iterator[None]:
    """Label the Spark jobs started inside with `text`, as the UI and the event log show them.

    A step's jobs also run the lazy steps before it that nothing materialised yet.
    """
    context = spark.sparkContext
    before = context.getLocalProperty("spark.job.description")
    context.setJobDescription(text)
    try:
        yield
    finally:
        context.setLocalProperty("spark.job.description", before)  # None clears it


def checkpoint(frame: DataFrame) -> DataFrame:
    """Compute `frame` now and cut its lineage, so that later plans stay short.

    Into the session's checkpoint folder when the operator set one (`--conf
    spark.checkpoint.dir=hdfs://...`), where the rows outlive a lost executor; else into the
    executors' block stores (`localCheckpoint`), faster, but a lost executor fails the job.
    """
    if frame.sparkSession.sparkContext.getCheckpointDir() is not None:
        return frame.checkpoint()
    return frame.localCheckpoint()


def remove_checkpoints(spark: SparkSession, prog: str) -> None:
    """Delete this application's folder of reliable checkpoints: no later one can read them.

    A folder that cannot be deleted is a warning on stderr, never an error: the job's own
    outcome (its output, or the error that stopped it) is what its exit status reports.
    """
    folder = spark.sparkContext.getCheckpointDir()  # <spark.checkpoint.dir>/<a uuid of its own>
    if folder is None:
        return
    try:
        Storage(spark).delete(folder)
    except Exception as error:  # whatever stops the clean-up, the job's outcome stands
        reason = _first_line(error)
        warning = f"{prog}: warning: could not remove checkpoints in {folder}: {reason}"
        print(warning, file=sys.stderr)


def _first_line(error: Exception) -> str:
    """What went wrong, in one line: for a Java error its class and message, not Py4J's."""
    text = str(error.java_exception) if isinstance(error, Py4JJavaError) else str(error)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _filesystem_refusal(error: Py4JJavaError) -> str | None:
    """One line saying why a filesystem refused a path, if that is what `error` is; else None."""
    cause = error.java_exception
    while cause is not None:
        name, message = cause.getClass().getName(), str(cause.getMessage())
        if name in FILESYSTEM_ERRORS:
            return f"{name.rsplit('.', 1)[-1]}: {message}"
        if name == "java.lang.ClassNotFoundException" and "FileSystem" in message:
            return (
                f"{message}: this Spark has no connector for that filesystem; add its jars "
                "(spark-submit --packages or --jars, e.g. org.apache.hadoop:hadoop-aws for s3a)"
            )
        cause = cause.getCause()
    return None


@contextmanager
def filesystem_errors(prog: str) -> Iterator[None]:
    """Report a filesystem's refusal of a path as one line on stderr and exit with status 1."""
    try:
        yield
    except Py4JJavaError as error:
        refusal = _filesystem_refusal(error)
        if refusal is None:
            raise
        print(f"{prog}: error: {refusal}", file=sys.stderr)
        raise SystemExit(1) from None


def run_job(main: Callable[[SparkSession, T], None], config: type[T], doc: str, app: str) -> None:
    """A job's `__main__`: parse the command line, run `main(spark, config)`, stop the session."""
    parsed = parse_config(config, doc)
    started = time.time()
    spark = spark_session(app)
    with user_errors(app), filesystem_errors(app):
        try:
            main(spark, parsed)
        finally:
            remove_checkpoints(spark, app)
            spark.stop()
    print(f"{app}: done in {time.time() - started:.1f}s")
