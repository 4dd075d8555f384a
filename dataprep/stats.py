"""How duplicated the dump is: CodeParrot's concentration curve and the tables around it.

Statistics are taken over the rows that left the read stage valid (every row exact dedup saw):
the kept rows of `<workdir>/filtered` plus the rows rejected as exact duplicates or by a
filter. Near-duplicates are not added again: they are rows of `filtered` already. Rows are
grouped by the exact-dedup key `hash` into unique files, each with its copies and bytes (the
UTF-8 bytes of all its copies). Everything is computed in Spark; only small results (one row
per curve point, per copies value, per cluster size, top-20 lists) reach the driver.

`write_stats` writes `<workdir>/stats/` (Parquet tables, summary.json, PNG plots) atomically;
`load_stats` reads it back with pandas alone, so a notebook needs no Spark:

    stats = load_stats("work/demo")
    plot_concentration(stats)
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from dataprep.cli import MissingInput
from dataprep.decontaminate import DECONTAMINATION_REASONS
from dataprep.exact_dedup import EXACT_DEDUP_REASONS, EXACT_DUPLICATE
from dataprep.filters import FILTER_REASONS
from dataprep.sample import CONCENTRATION_ANCHORS
from dataprep.stage_output import write_table
from dataprep.storage import STAGE_INFO, SUCCESS, Storage

if TYPE_CHECKING:  # matplotlib is only needed to draw, not to compute
    from matplotlib.axes import Axes

TABLES = ("concentration", "copies_histogram", "cluster_sizes", "funnel", "top_files", "top_repos")
PLOTS = ("concentration.png", "copies_histogram.png", "cluster_sizes.png")
# Percent of unique files at which the curve is read: ten points per decade, 0.001% to 100%.
CURVE_PERCENTS = tuple(round(10 ** (e / 10), 12) for e in range(-30, 21))
HEADLINE_PERCENTS = (0.1, 1.0, 10.0)
TOP_N = 20
# Reasons of rejected rows that exact dedup saw; read rejects never reached it.
_COUNTED_REASONS = EXACT_DEDUP_REASONS + DECONTAMINATION_REASONS + FILTER_REASONS
# Unique files are ranked in buckets of (copies, first hex digits of hash): the buckets of one
# copies value (256 at most) are ranked on one task, and each bucket ranks its own rows.
_BUCKET_DIGITS = 2
_CLUSTER_SCHEMA = "cluster_size long, clusters long, files long"
_FUNNEL_SCHEMA = "position int, stage string, step string, name string, files long, bytes long"


def percent_key(percent: float) -> str:
    """ "0.1", "1", "10": how summary.json names a headline percent."""
    return f"{percent:g}"


def valid_rows(spark: SparkSession, workdir: str) -> DataFrame:
    """Rows exact dedup saw: kept rows of filtered/ plus exact-duplicate and filter rejects.

    Columns: id, repo_name, path, hash, bytes (UTF-8 bytes of content), reason (null if kept).
    """
    storage = Storage(spark)
    if not storage.exists(f"{workdir}/filtered"):
        raise MissingInput(
            f"{workdir} is not a pipeline workdir (no filtered/): run jobs/pipeline.py "
            f"--workdir {workdir} first"
        )
    columns = [
        "id",
        "repo_name",
        "path",
        "hash",
        F.octet_length("content").cast("long").alias("bytes"),
    ]
    rows = (
        spark.read.parquet(f"{workdir}/filtered")
        .select(*columns)
        .withColumn("reason", F.lit(None).cast("string"))
    )
    rejected = f"{workdir}/rejected"
    folders = [
        f"{rejected}/reason={reason}"
        for reason in _COUNTED_REASONS
        if storage.exists(f"{rejected}/reason={reason}")
    ]
    if folders:
        dropped = spark.read.option("basePath", rejected).parquet(*folders)
        rows = rows.unionByName(dropped.select(*columns, "reason"))
    return rows


def unique_files(rows: DataFrame) -> DataFrame:
    """One row per `hash`: copies, bytes of all copies, and the kept copy (smallest id)."""
    return rows.groupBy("hash").agg(
        F.count(F.lit(1)).alias("copies"),
        F.sum("bytes").alias("bytes"),
        F.min_by(F.struct("repo_name", "path", F.col("bytes").alias("size")), "id").alias(
            "example"
        ),
    )


def _rank_points(unique: DataFrame, ranks: list[int]) -> dict[int, tuple[int, int]]:
    """Files and bytes of the top-k unique files (by copies desc, then hash) for each k.

    Ranked in three levels, none of which sees all rows in one place: the copies values on
    the driver (at most sqrt(2 * files) of them, as m values take at least 1 + 2 + ... + m
    files), buckets of hash prefixes within each copies value, then files within a bucket.
    """
    spark = unique.sparkSession
    bucket = ["copies", "prefix"]
    unique = unique.select(
        "hash", "copies", "bytes", F.substring("hash", 1, _BUCKET_DIGITS).alias("prefix")
    )
    sums = [
        F.count(F.lit(1)).alias("n"),
        F.sum("copies").alias("files"),
        F.sum("bytes").alias("nbytes"),
    ]
    per_copies = unique.groupBy("copies").agg(*sums).orderBy(F.desc("copies")).collect()
    before_copies, totals = [], (0, 0, 0)
    for row in per_copies:
        before_copies.append((row["copies"], *totals))
        totals = tuple(t + row[c] for t, c in zip(totals, ("n", "files", "nbytes"), strict=True))
    copies_offsets = spark.createDataFrame(
        before_copies, "copies long, n_before long, files_before long, nbytes_before long"
    )
    earlier = (
        Window.partitionBy("copies").orderBy("prefix").rowsBetween(Window.unboundedPreceding, -1)
    )
    offsets = (
        unique.groupBy(*bucket)
        .agg(*sums)
        .join(F.broadcast(copies_offsets), "copies")
        .select(
            *bucket,
            *(
                (F.col(f"{c}_before") + F.coalesce(F.sum(c).over(earlier), F.lit(0))).alias(name)
                for c, name in (
                    ("n", "rank_before"),
                    ("files", "files_before"),
                    ("nbytes", "bytes_before"),
                )
            ),
        )
    )
    within = Window.partitionBy(*bucket).orderBy("hash")
    running = within.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    points = (
        unique.join(F.broadcast(offsets), bucket)
        .select(
            (F.col("rank_before") + F.row_number().over(within)).alias("rank"),
            (F.col("files_before") + F.sum("copies").over(running)).alias("files"),
            (F.col("bytes_before") + F.sum("bytes").over(running)).alias("bytes"),
        )
        .where(F.col("rank").isin(sorted(set(ranks))))
        .collect()
    )
    return {row["rank"]: (row["files"], row["bytes"]) for row in points}


def top_k(percent: float, n_unique: int) -> int:
    """How many unique files are the top `percent` %: rounded half up, at least one."""
    return min(n_unique, max(1, math.floor(percent / 100 * n_unique + 0.5)))


def _funnel_rows(funnel: dict) -> list[tuple]:
    """funnel.json as rows: per stage, what came in, each reason's rejects, what went out."""
    rows: list[tuple] = []

    def add(stage: str, step: str, name: str | None, counts: dict) -> None:
        rows.append((len(rows), stage, step, name, counts["files"], counts["bytes"]))

    for stage in funnel.get("stages", []):
        add(stage["stage"], "in", None, stage["in"])
        for reason, counts in stage.get("rejected", {}).items():
            add(stage["stage"], "rejected", reason, counts)
        if stage["stage"] == "split":
            for name, counts in stage["out"].items():
                add(stage["stage"], "out", name, counts)
        else:
            add(stage["stage"], "out", None, stage["out"])
    return rows


def duplication_stats(spark: SparkSession, workdir: str) -> dict[str, Any]:
    """The duplication tables of a pipeline workdir as Spark DataFrames, plus `summary`.

    Also returns `unique_files` (one row per hash), persisted: unpersist it when done.
    """
    workdir = workdir.rstrip("/")
    storage = Storage(spark)
    rows = valid_rows(spark, workdir)
    unique = unique_files(rows).persist(StorageLevel.MEMORY_AND_DISK)
    totals = unique.agg(
        F.count(F.lit(1)).alias("n_unique"),
        F.coalesce(F.sum("copies"), F.lit(0)).alias("n_files"),
        F.coalesce(F.sum("bytes"), F.lit(0)).alias("bytes"),
    ).first()
    n_unique, n_files, total_bytes = totals["n_unique"], totals["n_files"], totals["bytes"]

    curve = []
    if n_unique:
        ks = {percent: top_k(percent, n_unique) for percent in CURVE_PERCENTS}
        points = _rank_points(unique, list(ks.values()))
        for percent, k in ks.items():
            files, nbytes = points[k]
            curve.append((percent, k, files, nbytes, files / n_files, nbytes / total_bytes))
    concentration = spark.createDataFrame(
        curve,
        "percent double, top_unique long, files long, bytes long, "
        "files_share double, bytes_share double",
    )
    # A headline share is stated only where the top percent is at least half a file: in a
    # smaller dump, "the top 0.1%" would be one file standing for a larger share.
    by_percent = {c[0]: c for c in curve if c[0] / 100 * n_unique >= 0.5}
    summary = {
        "n_files": n_files,
        "n_unique": n_unique,
        "bytes": total_bytes,
        "duplicate_fraction": 1 - n_unique / n_files if n_files else 0.0,
        "top_unique_share": {
            percent_key(p): by_percent[p][4] for p in HEADLINE_PERCENTS if p in by_percent
        },
        "top_unique_bytes_share": {
            percent_key(p): by_percent[p][5] for p in HEADLINE_PERCENTS if p in by_percent
        },
        "top_unique_count": {
            percent_key(p): by_percent[p][1] for p in HEADLINE_PERCENTS if p in by_percent
        },
    }

    histogram = unique.groupBy("copies").agg(
        F.count(F.lit(1)).alias("unique_files"),
        F.sum("copies").alias("files"),
        F.sum("bytes").alias("bytes"),
    )
    clusters_dir = f"{workdir}/near_dup_clusters"
    if storage.exists(clusters_dir):
        cluster_sizes = (
            spark.read.parquet(clusters_dir)
            .groupBy(F.col("cluster_size").cast("long").alias("cluster_size"))
            .agg(
                F.count_distinct("cluster_id").alias("clusters"),
                F.count(F.lit(1)).alias("files"),
            )
        )
    else:
        cluster_sizes = spark.createDataFrame([], _CLUSTER_SCHEMA)
    funnel_path = f"{workdir}/funnel.json"
    funnel = storage.read_json(funnel_path) if storage.exists(funnel_path) else {}
    top_files = (
        unique.orderBy(F.desc("copies"), "hash")
        .limit(TOP_N)
        .select("hash", "copies", "bytes", "example.repo_name", "example.path", "example.size")
    )
    top_repos = (
        rows.where(F.col("reason") == EXACT_DUPLICATE)
        .groupBy("repo_name")
        .agg(F.count(F.lit(1)).alias("files"), F.sum("bytes").alias("bytes"))
        .orderBy(F.desc("bytes"), "repo_name")
        .limit(TOP_N)
    )
    return {
        "concentration": concentration,
        "copies_histogram": histogram,
        "cluster_sizes": cluster_sizes,
        "funnel": spark.createDataFrame(_funnel_rows(funnel), _FUNNEL_SCHEMA),
        "top_files": top_files,
        "top_repos": top_repos,
        "summary": summary,
        "unique_files": unique,
    }


@dataclass(frozen=True)
class Stats:
    """The tables and summary of `<workdir>/stats`, as pandas."""

    root: Path
    summary: dict
    concentration: pd.DataFrame
    copies_histogram: pd.DataFrame
    cluster_sizes: pd.DataFrame
    funnel: pd.DataFrame
    top_files: pd.DataFrame
    top_repos: pd.DataFrame


def _sorted(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """A table in its reading order, whatever order its Parquet files came in."""
    keys = {
        "concentration": (["percent"], [True]),
        "copies_histogram": (["copies"], [True]),
        "cluster_sizes": (["cluster_size"], [True]),
        "funnel": (["position"], [True]),
        "top_files": (["copies", "hash"], [False, True]),
        "top_repos": (["bytes", "repo_name"], [False, True]),
    }[name]
    return table.sort_values(keys[0], ascending=keys[1], ignore_index=True)


def load_stats(workdir: str | Path) -> Stats:
    """Read `<workdir>/stats` written by write_stats, with pandas (no Spark)."""
    root = Path(workdir) / "stats"
    if not (root / SUCCESS).exists():
        raise MissingInput(
            f"{root} holds no finished statistics: run "
            f"`spark-submit jobs/dup_stats.py --workdir {workdir}` first"
        )
    tables = {name: _sorted(name, pd.read_parquet(root / name)) for name in TABLES}
    summary = json.loads((root / "summary.json").read_text())
    return Stats(root=root, summary=summary, **tables)


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only for interactive use: write_stats never needs it

    return plt.subplots(figsize=(7, 4.5))[1]


def plot_concentration(stats: Stats, ax: Axes | None = None) -> Axes:
    """Share of all files (and bytes) held by the top x% of unique files, with CodeParrot's."""
    ax = _axes(ax)
    curve = stats.concentration
    # The share of unique files each point really holds: at least one file, however small
    # the percent asked for.
    top = 100 * curve["top_unique"] / max(stats.summary["n_unique"], 1)
    ax.plot(top, 100 * curve["files_share"], label="files")
    ax.plot(top, 100 * curve["bytes_share"], "--", label="bytes")
    ax.plot(top, top, ":", color="grey", label="no duplicates")
    ax.plot(
        [100 * f for f, _ in CONCENTRATION_ANCHORS],
        [100 * s for _, s in CONCENTRATION_ANCHORS],
        "o",
        label="CodeParrot (GitHub dump)",
    )
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("top % of unique files (ranked by copies)")
    ax.set_ylabel("% of all files")
    ax.set_title("How concentrated the duplicates are")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def plot_copies_histogram(stats: Stats, ax: Axes | None = None) -> Axes:
    """Number of unique files per copies value, log-log."""
    table = stats.copies_histogram
    return _loglog(
        _axes(ax), table["copies"], table["unique_files"], "copies of a unique file",
        "unique files", "Copies per unique file",
    )  # fmt: skip


def plot_cluster_sizes(stats: Stats, ax: Axes | None = None) -> Axes:
    """Number of near-duplicate clusters per cluster size, log-log."""
    ax = _axes(ax)
    table = stats.cluster_sizes
    if table.empty:
        ax.text(0.5, 0.5, "no near-duplicate clusters", ha="center", transform=ax.transAxes)
    return _loglog(
        ax, table["cluster_size"], table["clusters"], "files in the cluster", "clusters",
        "Near-duplicate cluster sizes",
    )  # fmt: skip


def _loglog(ax: Axes, x: pd.Series, y: pd.Series, xlabel: str, ylabel: str, title: str) -> Axes:
    # A log scale needs data: an empty table keeps the axes linear.
    if len(x):
        ax.plot(x, y, "o", markersize=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def _png(plot: Any, stats: Stats) -> bytes:
    """A plot function's figure as PNG bytes, drawn without pyplot (no global state)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="tight")
    plot(stats, figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def format_headline(summary: dict, stats_dir: str) -> str:
    """The headline numbers of a summary beside CodeParrot's, and where the plots are."""
    lines = [
        f"{summary['n_files']:,} files, {summary['n_unique']:,} unique: "
        f"{summary['duplicate_fraction']:.1%} are exact duplicates"
    ]
    for fraction, reported in CONCENTRATION_ANCHORS:
        key = percent_key(100 * fraction)
        share = summary["top_unique_share"].get(key)
        if share is not None:
            top = summary.get("top_unique_count", {}).get(key)
            count = f" ({top:,} of {summary['n_unique']:,})" if top is not None else ""
            lines.append(
                f"top {key}% of unique files{count}: {share:.1%} of files "
                f"({summary['top_unique_bytes_share'][key]:.1%} of bytes; "
                f"CodeParrot: {reported:.0%} of files)"
            )
    lines.append(f"statistics: {stats_dir} (plots: {', '.join(PLOTS)})")
    return "\n".join(lines)


# Beside the statistics: the split they describe (stats_source), to tell when they are stale.
MADE_FROM = "_made_from.json"


def stats_source(storage: Storage, workdir: str) -> dict:
    """What a workdir's statistics describe: its split's settings and upstream (the run it split).

    Two workdir states with the same source have the same tables, so the same statistics.
    """
    path = f"{workdir}/clean/{STAGE_INFO}"
    record = storage.read_json(path) if storage.exists(path) else {}
    return {"split": record.get("config"), "upstream": record.get("upstream")}


def write_stats(spark: SparkSession, workdir: str) -> dict:
    """Compute the duplication statistics of a workdir into `<workdir>/stats`; return the summary.

    Written into a temporary folder first, moved into place whole, then `_SUCCESS` is added;
    MADE_FROM records the stats_source they were computed from.
    """
    workdir = workdir.rstrip("/")
    storage = Storage(spark)
    stats = duplication_stats(spark, workdir)
    tmp = storage.scratch(f"{workdir}/stats")
    try:
        # Every table is small by construction: one file each.
        for name in TABLES:
            write_table(spark, stats[name].coalesce(1), f"{tmp}/{name}")
    finally:
        stats["unique_files"].unpersist()
    summary = stats["summary"]
    storage.write_text(f"{tmp}/summary.json", json.dumps(summary, indent=2) + "\n")
    storage.write_json(f"{tmp}/{MADE_FROM}", stats_source(storage, workdir))
    local = Stats(
        root=Path(tmp),
        summary=summary,
        **{name: _sorted(name, spark.read.parquet(f"{tmp}/{name}").toPandas()) for name in TABLES},
    )
    plots = (plot_concentration, plot_copies_histogram, plot_cluster_sizes)
    for name, plot in zip(PLOTS, plots, strict=True):
        storage.write_bytes(f"{tmp}/{name}", _png(plot, local))
    target = f"{workdir}/stats"
    storage.delete(target)
    storage.rename(tmp, target)
    storage.write_text(f"{target}/{SUCCESS}", "")
    return summary
