"""Writing a stage: kept rows and rejected rows in one pass, atomically, with a marker.

A stage writes its rows once, partitioned by `reason`, into a temporary folder, and counts
files and bytes per reason while doing so (a Spark Observation: no second pass). Then the
kept rows are moved to the stage's output folder, each reason to `<rejected>/reason=<code>/`,
and `_stage.json` plus `_SUCCESS` are written last: an output without `_SUCCESS` is never
taken as done, and rerunning a finished stage with the same configuration is a no-op.
"""

from __future__ import annotations

import itertools
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from dataprep.cli import UsageError, option
from dataprep.session import job_description
from dataprep.storage import STAGE_INFO, SUCCESS, Storage

# Where Spark puts rows whose partition value is null: here, the kept rows.
_KEPT_PARTITION = "reason=__HIVE_DEFAULT_PARTITION__"
# In each rejected/reason=<code> folder, and in a table a stage writes besides its rows: the
# output of the stage that wrote it.
_OWNER = "_owner"


class ConfigMismatch(UsageError):
    """An output exists but was made with another configuration."""


@dataclass(frozen=True)
class StageOutput:
    """Where a stage run alone puts its rows."""

    output: str = option(help="folder for the kept rows (Parquet, zstd)")
    rejected: str | None = option(
        None,
        help="folder for rejected rows, one reason=<code> folder each (default: beside --output)",
    )
    overwrite: bool = option(
        False, help="replace an output that was made with another configuration"
    )

    def rejected_dir(self) -> str:
        """The rejected folder: --rejected, else `<output>_rejected` beside the output."""
        return self.rejected or f"{self.output.rstrip('/')}_rejected"


def content_bytes() -> Column:
    """UTF-8 bytes of a row's content (of its raw line when the content could not be read)."""
    return F.coalesce(F.octet_length("content"), F.octet_length("raw"), F.lit(0)).cast("long")


def count_metrics(reasons: Iterable[str]) -> list[Column]:
    """Aggregates for an Observation: files and bytes in, kept, and per reason."""
    nbytes = content_bytes()
    live = F.col("reason").isNull()
    metrics = [
        F.count(F.lit(1)).alias("in.files"),
        F.sum(nbytes).alias("in.bytes"),
        F.count_if(live).alias("kept.files"),
        F.sum(F.when(live, nbytes)).alias("kept.bytes"),
    ]
    for reason in reasons:
        hit = F.col("reason") == reason
        metrics += [
            F.count_if(hit).alias(f"rejected.{reason}.files"),
            F.sum(F.when(hit, nbytes)).alias(f"rejected.{reason}.bytes"),
        ]
    return metrics


def nest_counts(flat: dict[str, Any]) -> dict[str, Any]:
    """{"in.files": 3, ...} from an Observation into {"in": {"files": 3}, ...}; nulls are 0."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = int(value or 0)
    return nested


def finished_stage(
    storage: Storage,
    output: str,
    config: dict,
    upstream: str | None,
    overwrite: bool,
    rejected: str | None = None,
) -> dict | None:
    """The record of a finished stage at `output` if it can be reused, else None.

    Raises ConfigMismatch if the stage finished with another configuration and `overwrite`
    is off: mixing outputs of different configurations is refused, not done silently. A stage
    whose rejected rows are asked for in another folder (`rejected`) runs again.
    """
    record = _record(storage, output)
    if not record or not storage.exists(f"{output}/{SUCCESS}"):
        return None
    if record.get("config") != config:
        if overwrite:
            return None
        changes = "; ".join(
            f"{key}: {then!r} then, {now!r} now"
            for key, (then, now) in config_changes(record.get("config") or {}, config).items()
        )
        raise ConfigMismatch(
            f"{output} was written with another configuration ({changes}). Rerun with "
            "--overwrite to replace it, or choose another --workdir/--output."
        )
    if record.get("upstream") != upstream:
        return None  # the input was rebuilt since: this stage is stale
    if rejected is not None and record.get("rejected") != storage.qualify(rejected):
        return None
    return record


def config_changes(then: dict, now: dict, prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """The settings that differ between two stage configurations, by dotted key."""
    changes = {}
    for key in sorted(then.keys() | now.keys()):
        old, new = then.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changes |= config_changes(old, new, f"{prefix}{key}.")
        elif old != new:
            changes[f"{prefix}{key}"] = (old, new)
    return changes


def write_stage(
    spark: SparkSession,
    rows: DataFrame,
    *,
    output: str,
    rejected: str,
    reasons: tuple[str, ...],
    config: dict,
    upstream: str | None = None,
    details: dict | None = None,
    also_writes: tuple[str, ...] = (),
) -> dict:
    """Write kept rows to `output` and rejected rows under `rejected`; return the stage record.

    `details` (figures the stage measured, if any) are kept in the record, and so are the
    folders the stage wrote besides (`also_writes`), which a rerun may replace.
    """
    storage = Storage(spark)
    owner = storage.qualify(output)
    before = _record(storage, output)
    written = [storage.qualify(folder) for folder in also_writes]
    tmp = storage.scratch(output)
    observation = Observation("stage_counts")
    counted = rows.observe(observation, *count_metrics(reasons))
    with job_description(spark, "write the kept and rejected rows"):
        counted.write.partitionBy("reason").option("compression", "zstd").parquet(tmp)
    counts = nest_counts(observation.get)

    storage.delete(output)
    for reason in reasons:
        storage.delete(f"{rejected}/reason={reason}")
    move_table(spark, f"{tmp}/{_KEPT_PARTITION}", output, rows.drop("reason").schema)
    # Until mark_done, a record without _SUCCESS: a run killed here left this stage's own
    # output, which the next run redoes instead of refusing it as files no stage wrote.
    unfinished = {"config": config, "unfinished": True}
    storage.write_json(f"{output}/{STAGE_INFO}", unfinished | {"also_writes": written})
    for name in storage.list_folders(tmp):
        if name.startswith("reason="):
            storage.rename(f"{tmp}/{name}", f"{rejected}/{name}")
            _mark_owner(storage, f"{rejected}/{name}", owner)
    storage.delete(tmp)
    place = storage.qualify(rejected)
    if before.get("rejected") not in (None, place):
        # The rows were rejected into another folder by an earlier run: that copy is stale.
        _drop_owned(storage, before["rejected"], reasons, owner)
    record = {
        "config": config,
        "upstream": upstream,
        "rejected": place,
        "run_id": uuid.uuid4().hex,
        "counts": counts,
        "also_writes": written,
    }
    if details is not None:
        record["details"] = details
    mark_done(storage, output, record)
    return record


def run_stage(
    spark: SparkSession,
    build_rows: Callable[[], DataFrame],
    *,
    output: str,
    rejected: str,
    reasons: tuple[str, ...],
    config: dict,
    overwrite: bool,
    upstream: str | None = None,
    details: dict | None = None,
    source: str | None = None,
    also_writes: tuple[str, ...] = (),
) -> dict:
    """Reuse the finished stage at `output` if config and upstream match, else (re)write it.

    `upstream` identifies the input (a fingerprint of its files, or the run id of the stage
    that made it): when it changed, the stage is stale and runs again. `details` is a dict
    that `build_rows` may fill; it is recorded with the stage. `source`, the folder or file the
    stage reads, must lie apart from its outputs, which a rewrite deletes; so must the outputs
    from each other, `also_writes` (folders `build_rows` writes itself) included.
    """
    storage = Storage(spark)
    outputs = (output, rejected, *also_writes)
    if source is not None:
        refuse_overlap(storage, source, outputs)
    for first, second in itertools.combinations(outputs, 2):
        if _overlap(storage, first, second):
            raise UsageError(
                f"{first} and {second} overlap: each output of a stage needs a folder of its "
                "own, as writing one replaces it"
            )
    done = finished_stage(storage, output, config, upstream, overwrite, rejected)
    if done is not None:
        print(f"{output}: done before with these settings and input; reused", file=sys.stderr)
        return done
    refuse_foreign(storage, output, overwrite)
    owner = storage.qualify(output)
    written_before = _record(storage, output).get("also_writes", [])
    for folder in also_writes:
        if storage.qualify(folder) not in written_before and _owner(storage, folder) != owner:
            refuse_foreign(storage, folder, overwrite)
    # Before build_rows, which may write the also_writes folders, and before any write.
    _check_owner(storage, rejected, reasons, owner)
    rows = build_rows()
    return write_stage(
        spark,
        rows,
        output=output,
        rejected=rejected,
        reasons=reasons,
        config=config,
        upstream=upstream,
        details=details,
        also_writes=also_writes,
    )


def remove_stage(
    storage: Storage,
    output: str,
    rejected: str,
    reasons: tuple[str, ...],
    also_writes: tuple[str, ...] = (),
) -> bool:
    """Delete what a stage wrote at `output` earlier; return whether there was such a stage.

    Its rows, the rejected rows it owns under `rejected` and the folders it wrote beside them
    go: a rerun that skips the stage must not leave them to disagree with what it writes (rows
    both kept and rejected, statistics of clusters that no longer apply). A folder that no
    stage wrote is left alone.
    """
    if not _record(storage, output):
        return False
    _drop_owned(storage, rejected, reasons, storage.qualify(output))
    for folder in (output, *also_writes):
        storage.delete(folder)
    return True


def move_table(spark: SparkSession, source: str, target: str, schema: StructType) -> None:
    """Move the Parquet folder `source` to `target`, or leave an empty table there if none.

    A partitioned write makes no folder for a value no row had; readers of `target` still
    expect a table with the right columns.
    """
    storage = Storage(spark)
    if storage.exists(source):
        storage.rename(source, target)
    else:
        spark.createDataFrame([], schema).write.parquet(target)
        storage.delete(f"{target}/{SUCCESS}")


def write_table(spark: SparkSession, frame: DataFrame, path: str, owner: str | None = None) -> None:
    """Write `frame` as Parquet (zstd) to `path` atomically: beside it first, then renamed.

    `owner`, the output of the stage that writes this table besides its rows, is marked in
    it: a run killed before that stage finished leaves a folder its rerun may replace.
    """
    storage = Storage(spark)
    tmp = storage.scratch(path)
    with job_description(spark, f"write {path}"):
        frame.write.option("compression", "zstd").parquet(tmp)
    if owner is not None:
        _mark_owner(storage, tmp, storage.qualify(owner))
    storage.delete(path)
    storage.rename(tmp, path)


def refuse_foreign(storage: Storage, output: str, overwrite: bool) -> None:
    """Raise UsageError if `output` holds files that no stage wrote, unless `overwrite`.

    A stage replaces its output folder whole: a mistyped --output must not delete a user's
    files. (A run killed between moving its rows in and writing their record leaves such a
    folder too; --overwrite replaces it.)
    """
    if overwrite or _record(storage, output) or not storage.holds_anything(output):
        return
    raise UsageError(
        f"{output} already holds files that no stage wrote: choose another output folder, or "
        "--overwrite to replace them"
    )


def _overlap(storage: Storage, first: str, second: str) -> bool:
    """Whether two paths are the same folder or one lies inside the other."""
    a, b = storage.qualify(first), storage.qualify(second)
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def refuse_overlap(storage: Storage, source: str, outputs: Iterable[str]) -> None:
    """Raise UsageError if an output is the input folder, lies inside it or holds it.

    For a glob, what a rewrite would delete counts: an output that is the folder above its
    first wildcard (`raw` for `raw/*.json`) or holds that folder; one beside the files the
    glob matches, inside that folder, is fine.
    """
    parts = source.split("/")
    wild = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[{")), None)
    for output in outputs:
        if wild is None:
            clash = _overlap(storage, source, output)
        else:
            folder = "/".join(parts[:wild]) or ("/" if source.startswith("/") else ".")
            above, out = storage.qualify(folder), storage.qualify(output)
            clash = above == out or above.startswith(f"{out}/")
        if clash:
            raise UsageError(
                f"{output} overlaps the input {source}: a stage's outputs must lie apart from "
                "what it reads, which writing them would replace or add to"
            )


def _mark_owner(storage: Storage, folder: str, owner: str) -> None:
    """Record in `folder` the (qualified) stage output it was written for."""
    storage.write_text(f"{folder}/{_OWNER}", owner)


def _owner(storage: Storage, folder: str) -> str | None:
    """The stage output that `folder` was written for, if it says."""
    marker = f"{folder}/{_OWNER}"
    return storage.read_text(marker) if storage.exists(marker) else None


def _owners(storage: Storage, rejected: str, reasons: tuple[str, ...]) -> dict[str, str]:
    """The stage output that wrote each rejected/reason=<code> folder there, by reason."""
    owners = {}
    for reason in reasons:
        writer = _owner(storage, f"{rejected}/reason={reason}")
        if writer is not None:
            owners[reason] = writer
    return owners


def _check_owner(storage: Storage, rejected: str, reasons: tuple[str, ...], owner: str) -> None:
    """Refuse to replace rejected rows that another stage output wrote."""
    for reason, other in _owners(storage, rejected, reasons).items():
        if other != owner:
            raise ConfigMismatch(
                f"{rejected}/reason={reason} holds the rejected rows of {other}, not of "
                f"{owner}: give this stage its own --rejected"
            )


def _drop_owned(storage: Storage, rejected: str, reasons: tuple[str, ...], owner: str) -> None:
    """Delete the rejected/reason=<code> folders that the stage output `owner` wrote there."""
    for reason, writer in _owners(storage, rejected, reasons).items():
        if writer == owner:
            storage.delete(f"{rejected}/reason={reason}")


def _record(storage: Storage, output: str) -> dict:
    """The record of the stage last written at `output`, finished or not; {} if none."""
    info = f"{output}/{STAGE_INFO}"
    return storage.read_json(info) if storage.exists(info) else {}


def mark_done(storage: Storage, output: str, record: dict) -> None:
    """Write the stage record, then `_SUCCESS`: the last step of every stage."""
    storage.write_json(f"{output}/{STAGE_INFO}", record)
    storage.write_text(f"{output}/{SUCCESS}", "")
