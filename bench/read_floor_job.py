"""Benchmark helper: floors of Spark's own work on the dump, with no Python in the tasks.

    spark-submit bench/read_floor_job.py DUMP                     # read only
    spark-submit bench/read_floor_job.py DUMP --shuffle-write OUT # read, shuffle, write

Reads every line with Spark's text reader and parses it with from_json (Spark's built-in
JSON reader, which the pipeline does not use). Alone, it sums the content bytes: what reading
costs. With --shuffle-write it also keys each row by the md5 of its content, shuffles the
rows by that key and writes them all as Parquet (zstd): the least any Spark exact dedup that
keeps its outputs does (read, one shuffle carrying the content, one write), without the
whitespace-free key, the choice of the kept rows, the features, the filters or the split.
"""

from __future__ import annotations

import argparse

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from dataprep.read import RAW_COLUMNS
from dataprep.session import spark_session

if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dump", help="folder of *.json.gz shards")
    parser.add_argument("--shuffle-write", metavar="OUT", help="also shuffle by md5 and write")
    args = parser.parse_args()

    spark = spark_session("read-floor")
    schema = StructType([StructField(name, StringType()) for name in RAW_COLUMNS])
    rows = spark.read.text(args.dump).select(F.from_json("value", schema).alias("row"))
    if args.shuffle_write:
        keyed = rows.select("row.*").withColumn("hash", F.md5("content"))
        writer = keyed.repartition("hash").write.mode("overwrite").option("compression", "zstd")
        writer.parquet(args.shuffle_write)
        print(f"shuffle-write floor: {args.shuffle_write}")
    else:
        total = rows.agg(F.sum(F.octet_length("row.content"))).first()[0]
        print(f"read floor: {total:,} content bytes")
    spark.stop()
