"""Exact dedup's choice of the kept row, on hand-made rows: smallest id, then its tie-breaks."""

from __future__ import annotations

from dataprep.exact_dedup import EXACT_DUPLICATE, exact_dedup
from dataprep.read import TOO_LARGE

SCHEMA = "id long, hash string, license string, copies int, size int, content string, reason string"


def _dedup(spark, rows: list[tuple]) -> list[dict]:
    """exact_dedup of `rows`, as dicts in (hash, id, license, content) order."""
    result = exact_dedup(spark.createDataFrame(rows, SCHEMA).repartition(3))
    return [r.asDict() for r in result.orderBy("hash", "id", "license", "content").collect()]


def test_smallest_id_is_kept_and_every_copy_is_counted(spark):
    rows = _dedup(spark, [(5, "k", "mit", 1, 3, "a b", None), (3, "k", "mit", 1, 3, "ab", None)])
    kept, dup = rows
    assert (kept["id"], kept["reason"], kept["kept_id"], kept["exact_copies"]) == (3, None, None, 2)
    assert (dup["id"], dup["reason"], dup["kept_id"], dup["exact_copies"]) == (
        5,
        EXACT_DUPLICATE,
        3,
        2,
    )


def test_rows_with_the_same_id_are_told_apart_by_license_then_content(spark):
    # One id means the same location and key; the rest of the row decides, in a fixed order.
    rows = _dedup(
        spark,
        [
            (7, "k", "mit", 1, 4, "a  b", None),
            (7, "k", "apache-2.0", 1, 4, "a b", None),
            (8, "j", "mit", 1, 3, "x y", None),
            (8, "j", "mit", 1, 3, "x\ty", None),
        ],
    )
    by_content = {r["content"]: r for r in rows}
    assert by_content["a b"]["reason"] is None  # "apache-2.0" < "mit"
    assert by_content["a  b"]["reason"] == EXACT_DUPLICATE
    assert by_content["x\ty"]["reason"] is None  # "\t" < " "
    assert by_content["x y"]["reason"] == EXACT_DUPLICATE
    assert {r["kept_id"] for r in rows if r["reason"]} == {7, 8}


def test_a_row_read_twice_is_kept_once(spark):
    row = (4, "k", "mit", 2, 3, "abc", None)
    rows = _dedup(spark, [row, row])
    assert sorted(r["reason"] or "" for r in rows) == ["", EXACT_DUPLICATE]
    assert [r["exact_copies"] for r in rows] == [2, 2]


def test_one_file_in_two_shards_keeps_the_first_shards_copy(spark):
    row = (4, "k", "mit", 2, 3, "abc", None)
    rows = [(*row, "file:/dump/b.json.gz"), (*row, "file:/dump/a.json.gz")]
    frame = spark.createDataFrame(rows, f"{SCHEMA}, source_file string")
    for partitions in (1, 2, 3):
        kept = exact_dedup(frame.repartition(partitions)).where("reason is null").collect()
        assert [r["source_file"] for r in kept] == ["file:/dump/a.json.gz"]


def test_rows_rejected_before_are_neither_kept_nor_counted(spark):
    rows = _dedup(
        spark,
        [(2, "k", "mit", 1, 3, "abc", TOO_LARGE), (9, "k", "mit", 1, 3, "abc", None)],
    )
    rejected, live = rows
    assert (rejected["reason"], rejected["kept_id"], rejected["exact_copies"]) == (
        TOO_LARGE,
        None,
        None,
    )
    assert (live["reason"], live["exact_copies"]) == (None, 1)


def test_copies_counted_by_an_earlier_dedup_add_up(spark):
    # Deduplicated input (a kept row that stood for 4 files) meeting one more copy.
    rows = [(3, "k", "mit", 1, 3, "abc", None, 4), (5, "k", "mit", 1, 3, "a bc", None, None)]
    once = spark.createDataFrame(rows, f"{SCHEMA}, exact_copies long")
    result = {r.id: r for r in exact_dedup(once).collect()}
    assert (result[3].reason, result[3].exact_copies) == (None, 5)
    assert result[5].reason == EXACT_DUPLICATE
    # Deduplicating kept rows again changes nothing.
    kept = exact_dedup(once).where("reason IS NULL").drop("kept_id")
    assert [(r.id, r.exact_copies) for r in exact_dedup(kept).collect()] == [(3, 5)]
