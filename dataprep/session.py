"""The SparkSession every job and test starts from."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def spark_session(app_name: str) -> SparkSession:
    """Get or create the session for a job: `--master` from spark-submit, else local mode.

    Nothing else is configured here: memory, partitions and masters belong to the operator
    (`--conf`, `spark-defaults.conf`), since settings made in code override theirs.
    """
    # Executors run the Python that runs this driver unless the operator said otherwise,
    # so a job started from the project's virtualenv never picks up a system Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("DATAPREP_LOG_LEVEL", "WARN"))
    return spark
