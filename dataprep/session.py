"""The SparkSession every job and test starts from."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from pyspark.sql import SparkSession

from dataprep.cli import parse_config

T = TypeVar("T")

# Defaults applied only where the operator set nothing (--conf, spark-defaults.conf).
# Source files average ~10 KB, so Spark's default 10,000-row Arrow batches hold ~100 MB each
# and stall the Python workers; 1,000 rows measured ~2x faster end to end for the UDFs here.
# Near-dedup caches rows it reads twice; Spark otherwise keeps a cached plan at
# spark.sql.shuffle.partitions (200) partitions instead of letting adaptive execution merge
# them, and every later scan of the cache pays for 200 tiny tasks (measured 3-6x slower
# near-dedup on 512 MB in local[2]).
TUNED_DEFAULTS = {
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}


def apply_tuned_defaults(spark: SparkSession) -> None:
    """Set TUNED_DEFAULTS on the session, except those the operator configured."""
    configured = spark.sparkContext.getConf()
    for key, value in TUNED_DEFAULTS.items():
        if not configured.contains(key):
            spark.conf.set(key, value)


def spark_session(app_name: str) -> SparkSession:
    """Get or create the session for a job: `--master` from spark-submit, else local mode.

    Memory, partitions and masters belong to the operator (`--conf`, `spark-defaults.conf`);
    only TUNED_DEFAULTS are filled in, and never over a value the operator set.
    """
    # Executors run the Python that runs this driver unless the operator said otherwise,
    # so a job started from the project's virtualenv never picks up a system Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DATAPREP_LOG_LEVEL", "WARN"))
    apply_tuned_defaults(spark)
    return spark


def run_job(main: Callable[[SparkSession, T], None], config: type[T], doc: str, app: str) -> None:
    """A job's `__main__`: parse the command line, run `main(spark, config)`, stop the session."""
    parsed = parse_config(config, doc)
    started = time.time()
    spark = spark_session(app)
    try:
        main(spark, parsed)
    finally:
        spark.stop()
    print(f"{app}: done in {time.time() - started:.1f}s")
