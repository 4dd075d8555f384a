"""Benchmark helper: Spark's built-in JSON reader alone (gzip + JSON parse, no work).

    spark-submit bench/read_floor_job.py DUMP

Reads every line with Spark's text reader, parses it with from_json and sums the content
bytes: what Spark's built-in JSON reader costs on this machine (the pipeline reads with
dataprep.json_lines instead).
"""

from __future__ import annotations

import sys

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from dataprep.read import RAW_COLUMNS
from dataprep.session import spark_session

if __name__ == "__main__":
    spark = spark_session("read-floor")
    schema = StructType([StructField(name, StringType()) for name in RAW_COLUMNS])
    rows = spark.read.text(sys.argv[1]).select(F.from_json("value", schema).alias("row"))
    total = rows.agg(F.sum(F.octet_length("row.content"))).first()[0]
    print(f"read floor: {total:,} content bytes")
    spark.stop()
