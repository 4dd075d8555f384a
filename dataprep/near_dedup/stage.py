"""The near-dedup stage in Spark: sketches -> star edges -> verified edges -> components -> keep.

Only live rows (no `reason` yet) take part. A row is removed as `near_duplicate` only when a
kept row is a verified near-duplicate of it (exact Jaccard of the shingle sets >= threshold);
its `kept_id` names that row. Kept rows gain `near_copies` (1 + the rows removed for them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, from_arrow_type

from dataprep.cli import check_options, option
from dataprep.near_dedup.candidates import (
    partition_table,
    star_edges,
    verification_partitions,
    verified_edges,
)
from dataprep.near_dedup.components import components_in_one_task, connected_components
from dataprep.near_dedup.keep import DECISION_SCHEMA, EDGES_SCHEMA, decide_clusters
from dataprep.near_dedup.lsh import high_recall_bands, optimal_bands
from dataprep.near_dedup.shingles import MIN_TOKENS
from dataprep.near_dedup.sketch import SKETCH_FIELDS, SketchSpec, sketch_batch
from dataprep.session import checkpoint, job_description
from dataprep.units import spark_bytes

NEAR_DUPLICATE = "near_duplicate"
NEAR_DEDUP_REASONS = (NEAR_DUPLICATE,)
BANDINGS = ("high_recall", "optimal")

_DECISION_STRUCT = from_arrow_schema(DECISION_SCHEMA)
# A decision row as Spark holds it for a join (id, kept, kept_id, near_copies), with room.
_DECISION_ROW_BYTES = 64


def _decide_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from decide_clusters(partition_table(batches, EDGES_SCHEMA)).to_batches()


@dataclass(frozen=True)
class NearDedupConfig:
    """Near-dedup settings (CodeParrot's defaults: token sets, Jaccard 0.85, 256 permutations)."""

    threshold: float = option(
        0.85,
        help="Jaccard similarity at or above which files are near-duplicates",
        minimum=0,
        maximum=1,
    )
    num_perm: int = option(256, help="MinHash permutations", minimum=1)
    ngram: int = option(1, help="shingle size in tokens: 1 = CodeParrot's token sets", minimum=1)
    min_tokens: int = option(
        MIN_TOKENS,
        help="files with fewer tokens (repeats counted) are left alone, as are files without any",
        minimum=0,
    )
    banding: str = option(
        "high_recall",
        help="LSH bands: high_recall (pairs at the threshold found at least 99.5%% of the time: "
        "25 x 10, 99.6%%, for the defaults) or optimal (datasketch's choice, 13 x 19: 45%% at "
        "the threshold)",
        choices=BANDINGS,
    )
    bands: int | None = option(
        None, help="LSH bands, overriding --banding (with --rows)", minimum=1
    )
    rows: int | None = option(
        None, help="rows per LSH band, overriding --banding (with --bands)", minimum=1
    )
    minhash_seed: int = option(1, help="seed of the MinHash permutations, as datasketch's")
    hubs: int = option(
        16,
        help="smallest ids per LSH bucket that every member is checked against (1 = star)",
        minimum=1,
    )
    one_task_edges: int = option(
        1_000_000,
        help="verified edges up to which connected components are found in one task "
        "(union-find in arrays, ~2 s for a million edges); above, by large-star/small-star "
        "rounds over DataFrames, about seven small Spark jobs each (0 = always rounds)",
        minimum=0,
        recorded=False,  # how the same components are found, not which
    )

    def __post_init__(self) -> None:
        check_options(self)
        self.sketch_spec()  # raises on a banding these settings cannot have

    def sketch_spec(self) -> SketchSpec:
        """The sketch parameters, with the banding resolved to (bands, rows)."""
        if (self.bands is None) != (self.rows is None):
            raise ValueError("--bands and --rows go together")
        if self.bands is not None:
            bands, rows = self.bands, self.rows
        elif self.banding == "high_recall":
            try:
                bands, rows = high_recall_bands(self.threshold, self.num_perm)
            except ValueError as error:
                raise ValueError(
                    f"--threshold {self.threshold} is too low for --banding high_recall ({error}):"
                    " choose --banding optimal, or --bands and --rows"
                ) from None
        else:
            bands, rows = optimal_bands(self.threshold, self.num_perm)
        if bands * rows > self.num_perm:
            raise ValueError(
                f"{bands} bands x {rows} rows need more than --num-perm {self.num_perm}"
            )
        return SketchSpec(
            num_perm=self.num_perm,
            seed=self.minhash_seed,
            ngram=self.ngram,
            min_tokens=self.min_tokens,
            bands=bands,
            rows=rows,
        )


@dataclass
class NearDedupResult:
    """The rows with near-dedup decisions, the clusters table and what it took."""

    rows: DataFrame
    clusters: DataFrame
    stats: dict[str, Any]


def sketches(rows: DataFrame, spec: SketchSpec) -> DataFrame:
    """(id, n_tokens, bands, shingles) of the live rows, in Arrow batches."""

    @F.arrow_udf(from_arrow_type(pa.struct(SKETCH_FIELDS)))
    def sketch(contents: pa.Array) -> pa.Array:
        return sketch_batch(contents, spec)

    live = rows.where(F.col("reason").isNull())
    return live.select("id", sketch("content").alias("_s")).select("id", "_s.*")


def near_dedup(rows: DataFrame, config: NearDedupConfig) -> NearDedupResult:
    """Decide near-duplicates among the live rows; runs the Spark jobs that decide them.

    The returned rows are lazy (written by the caller); the decisions they depend on are
    computed here and checkpointed, so writing them does not sketch the files again.
    """
    spec = config.sketch_spec()
    spark = rows.sparkSession
    # The figures it reports ride along with the jobs that checkpoint, as observations: on
    # small inputs each extra counting job costs more than the data.
    candidate_count, verified_count = Observation("candidates"), Observation("verified")
    cluster_counts = Observation("clusters")
    sketched = sketches(rows, spec).persist(StorageLevel.MEMORY_AND_DISK)
    with job_description(spark, "near dedup: sketches, with the steps that make their input"):
        # Counting them fills the cache that the later steps read.
        files = (
            sketched.agg(
                F.count(F.lit(1)).alias("files"),
                F.count_if(F.col("bands").isNull()).alias("below_min_tokens"),
                F.sum(F.when(F.col("bands").isNotNull(), F.size("shingles"))).alias("set_values"),
            )
            .first()
            .asDict()
        )
    set_values = files.pop("set_values") or 0
    with job_description(spark, "near dedup: candidate edges"):
        candidates = checkpoint(
            star_edges(sketched, config.hubs).observe(
                candidate_count, F.count(F.lit(1)).alias("candidate_edges")
            )
        )
    partitions = verification_partitions(spark, set_values, candidate_count.get["candidate_edges"])
    with job_description(spark, "near dedup: verification"):
        verified = checkpoint(
            verified_edges(candidates, sketched, config.threshold, partitions).observe(
                verified_count, F.count(F.lit(1)).alias("verified_edges")
            )
        )
    with job_description(spark, "near dedup: connected components"):
        if verified_count.get["verified_edges"] <= config.one_task_edges:
            # No rounds: the job reports component_rounds as null.
            labels, rounds = checkpoint(components_in_one_task(verified)), None
        else:
            labels, rounds = connected_components(verified)
    clustered = verified.join(labels.withColumnRenamed("id", "src"), "src")
    # All edges of a component land in one partition, decided there in one Python call: a
    # grouped pandas UDF pays a fixed cost per component (19 s for 2,500 at 512 MB).
    with job_description(spark, "near dedup: keep decisions"):
        decisions = checkpoint(
            clustered.select("component", "src", "dst")
            .repartition("component")
            .mapInArrow(_decide_partition, _DECISION_STRUCT)
            .observe(
                cluster_counts,
                F.count_if(F.col("id") == F.col("cluster_id")).alias("clusters"),
                F.count(F.lit(1)).alias("clustered_files"),
                F.coalesce(F.max("cluster_size"), F.lit(0)).alias("largest_cluster"),
                F.count_if(~F.col("kept")).alias("removed"),
            )
        )
    stats = {
        "bands": spec.bands,
        "rows": spec.rows,
        **files,
        **candidate_count.get,
        **verified_count.get,
        "component_rounds": rounds,
        **cluster_counts.get,
    }
    sketched.unpersist()
    broadcast = fits_broadcast(spark, stats["clustered_files"] * _DECISION_ROW_BYTES)
    return NearDedupResult(_apply(rows, decisions, broadcast), decisions, stats)


def fits_broadcast(spark: SparkSession, size: int) -> bool:
    """Whether a table of `size` bytes is within the session's autoBroadcastJoinThreshold."""
    threshold = spark_bytes(spark.conf.get("spark.sql.autoBroadcastJoinThreshold"))
    return 0 <= size <= threshold


def _apply(rows: DataFrame, decisions: DataFrame, broadcast: bool) -> DataFrame:
    # Rejected rows may share an id with a live row (an exact duplicate at the same place):
    # only live rows take a decision.
    decided = decisions.select(
        "id",
        F.col("kept").alias("_kept"),
        F.col("kept_id").alias("_kept_id"),
        F.col("near_copies").alias("_near_copies"),
    )
    if broadcast:
        # Spark cannot size a checkpoint, so it would shuffle every row (content and all) to
        # join them with the decisions; their exact count is known here.
        decided = F.broadcast(decided)
    live = F.col("reason").isNull()
    removed = live & F.coalesce(~F.col("_kept"), F.lit(False))
    joined = rows.join(decided, "id", "left")
    if "kept_id" not in rows.columns:
        joined = joined.withColumn("kept_id", F.lit(None).cast("long"))
    return joined.withColumns(
        {
            "reason": F.when(removed, F.lit(NEAR_DUPLICATE)).otherwise(F.col("reason")),
            "kept_id": F.when(removed, F.col("_kept_id")).otherwise(F.col("kept_id")),
            "near_copies": F.when(live & ~removed, F.coalesce("_near_copies", F.lit(1))),
        }
    ).drop("_kept", "_kept_id", "_near_copies")
