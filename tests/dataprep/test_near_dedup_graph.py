"""Star edges, verification, connected components and the keep policy."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pyarrow as pa
import pytest
from pyspark.sql import SparkSession

from dataprep.near_dedup.candidates import bucket_star_edges, star_edges, verified_edges
from dataprep.near_dedup.components import (
    component_labels,
    components_in_one_task,
    connected_components,
)
from dataprep.near_dedup.keep import EDGES_SCHEMA, decide_clusters
from dataprep.near_dedup.local import _components
from dataprep.near_dedup.shingles import indexed_jaccards, jaccard, sorted_jaccard


def test_one_huge_bucket_gives_linear_star_edges(spark: SparkSession) -> None:
    # 2,000 files share band 0's bucket; band 1 pairs them up.
    rows = [(i, [7, i // 2]) for i in range(2_000)]
    sketches = spark.createDataFrame(rows, "id long, bands array<long>")
    edges = {(r.src, r.dst) for r in star_edges(sketches).collect()}
    assert {(i, 0) for i in range(1, 2_000)} <= edges
    assert edges - {(i, 0) for i in range(1, 2_000)} == {(i, i - 1) for i in range(3, 2_000, 2)}


def test_each_member_is_linked_to_every_hub(spark: SparkSession) -> None:
    rows = [(i, [7]) for i in (50, 10, 40, 30, 20)] + [(99, [8])]
    sketches = spark.createDataFrame(rows, "id long, bands array<long>")
    edges = {(r.src, r.dst) for r in star_edges(sketches, hubs=2).collect()}
    assert edges == {(20, 10), (30, 10), (30, 20), (40, 10), (40, 20), (50, 10), (50, 20)}
    with pytest.raises(ValueError):
        star_edges(sketches, hubs=0)


def test_bucket_star_edges_link_members_to_their_buckets_smallest_ids() -> None:
    rng = np.random.default_rng(3)
    buckets = rng.integers(-5, 40, 3_000)  # buckets of 0 to ~100 rows, unsorted
    ids = rng.permutation(10_000)[:3_000].astype(np.int64) - 5_000
    for hubs in (1, 3, 16):
        src, dst = bucket_star_edges(buckets, ids, hubs)
        expected = set()
        for bucket in np.unique(buckets):
            members = np.sort(ids[buckets == bucket])
            expected |= {(m, h) for h in members[:hubs] for m in members if m > h}
        assert set(zip(src.tolist(), dst.tolist(), strict=True)) == expected
        assert len(src) == len(expected)  # one row per (bucket, member, hub): no repeats here
    empty = bucket_star_edges(np.array([1, 2], np.int64), np.array([7, 8], np.int64), 4)
    assert [len(side) for side in empty] == [0, 0]


def test_files_without_bands_make_no_edges(spark: SparkSession) -> None:
    sketches = spark.createDataFrame([(1, None), (2, None), (3, [5])], "id long, bands array<long>")
    assert star_edges(sketches).count() == 0


def test_verification_keeps_only_pairs_at_or_above_the_threshold(spark: SparkSession) -> None:
    sets = {1: list(range(20)), 2: list(range(3, 20)), 3: list(range(2, 20)), 4: [0, 100]}
    # J(1,2) = 17/20 = 0.85 exactly, J(1,3) = 0.9, J(1,4) = 1/21.
    sketches = spark.createDataFrame(list(sets.items()), "id long, shingles array<long>")
    edges = spark.createDataFrame([(2, 1), (3, 1), (4, 1)], "src long, dst long")
    verified = {(r.src, r.dst): r.jaccard for r in verified_edges(edges, sketches, 0.85).collect()}
    assert verified == {(2, 1): pytest.approx(0.85), (3, 1): pytest.approx(0.9)}


def test_sorted_sets_jaccard_equals_set_jaccard() -> None:
    rng = random.Random(5)
    cases = [
        (set(), set()),
        (set(), {1}),
        ({1, 2}, {1, 2}),
        ({1, 2}, {3}),
        ({-(2**63)}, {2**63 - 1}),
    ]

    def random_set(universe: int) -> set[int]:
        return {rng.randrange(universe) for _ in range(rng.randrange(40))}

    for _ in range(300):
        universe = rng.randrange(1, 60)
        cases.append((random_set(universe), random_set(universe)))
    as_sorted = [(np.array(sorted(a), np.int64), np.array(sorted(b), np.int64)) for a, b in cases]
    for (a, b), (sorted_a, sorted_b) in zip(cases, as_sorted, strict=True):
        assert sorted_jaccard(sorted_a, sorted_b) == jaccard(a, b)
    # The same from one list column, each pair by its two rows; sliced (offsets not from 0).
    column = pa.array([sorted(x) for pair in cases for x in pair], pa.list_(pa.int64()))
    left, right = np.arange(0, 2 * len(cases), 2), np.arange(1, 2 * len(cases), 2)
    expected = [jaccard(a, b) for a, b in cases]
    assert indexed_jaccards(column, left, right).tolist() == expected
    assert indexed_jaccards(column.slice(14), left[:-7], right[:-7]).tolist() == expected[7:]
    # Pairs whose sizes alone put them below the floor are not merged: NaN.
    floored = indexed_jaccards(column, left, right, floor=0.5)
    for (a, b), value, exact in zip(cases, floored, expected, strict=True):
        ruled_out = min(len(a), len(b)) < 0.5 * max(len(a), len(b))
        assert np.isnan(value) if ruled_out else value == exact
    # A pair whose size ratio is exactly the floor is merged, though 0.55 x 100 rounds above 55.
    subset = pa.array([list(range(100)), list(range(45, 100))], pa.list_(pa.int64()))
    assert indexed_jaccards(subset, [0], [1], floor=0.55).tolist() == [0.55]


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_verification_is_the_same_in_any_number_of_partitions(
    spark: SparkSession, partitions: int
) -> None:
    # Families of similar sets: every pair is a candidate, some at or above 0.85.
    rng = random.Random(11)
    sets = {}
    for family in range(6):
        base = set(range(family * 100, family * 100 + 40))
        for member in range(5):
            changed = set(rng.sample(sorted(base), rng.randrange(4)))
            sets[family * 10 + member] = sorted((base - changed) | {1000 + member})
    frame = spark.createDataFrame(list(sets.items()), "id long, shingles array<long>")
    pairs = [(a, b) for a in sets for b in sets if a > b]
    edges = spark.createDataFrame(pairs, "src long, dst long")
    expected = {
        (a, b): jaccard(set(sets[a]), set(sets[b]))
        for a, b in pairs
        if jaccard(set(sets[a]), set(sets[b])) >= 0.85
    }
    assert 10 < len(expected) < len(pairs)
    got = verified_edges(edges, frame, 0.85, partitions).collect()
    assert {(r.src, r.dst): r.jaccard for r in got} == expected


def _graph_cases() -> dict[str, list[tuple[int, int]]]:
    rng = random.Random(3)
    chain = [(i, i + 1) for i in range(40)]
    star = [(100, 100 + i) for i in range(1, 30)]
    cycle = [(200 + i, 200 + (i + 1) % 25) for i in range(25)]
    shuffled_chain = list(range(300, 340))
    rng.shuffle(shuffled_chain)
    zigzag = list(itertools.pairwise(shuffled_chain))
    sparse = [(rng.randrange(1000, 1300), rng.randrange(1000, 1300)) for _ in range(250)]
    return {
        "chain": chain,
        "star": star,
        "cycle": cycle,
        "shuffled chain": zigzag,
        "random sparse": sparse,
        "all together": chain + star + cycle + zigzag + sparse,
    }


@pytest.mark.parametrize("name", list(_graph_cases()))
def test_components_match_union_find(spark: SparkSession, name: str) -> None:
    edges = _graph_cases()[name]
    frame = spark.createDataFrame(edges, "src long, dst long")
    labels, rounds = connected_components(frame)
    got = {r.id: r.component for r in labels.collect()}
    expected = _components([(a, b) for a, b in edges if a != b])
    assert got == expected
    assert rounds == 0 if name == "star" else rounds >= 1  # a star needs no round


@pytest.mark.parametrize("name", list(_graph_cases()))
def test_one_task_union_find_matches_the_rounds_reference(name: str) -> None:
    edges = [(a, b) for a, b in _graph_cases()[name] if a != b]
    src, dst = (np.array(side, dtype=np.int64) for side in zip(*edges, strict=True))
    nodes, component = component_labels(src, dst)
    assert dict(zip(nodes.tolist(), component.tolist(), strict=True)) == _components(edges)


def test_components_in_one_task(spark: SparkSession) -> None:
    edges = _graph_cases()["all together"]
    frame = spark.createDataFrame(edges, "src long, dst long").repartition(4)
    got = {r.id: r.component for r in components_in_one_task(frame).collect()}
    assert got == _components([(a, b) for a, b in edges if a != b])
    assert components_in_one_task(frame.limit(0)).count() == 0


def greedy_keep(edges: list[tuple[int, int]]) -> dict[int, int | None]:
    """For every node of the edges: None if kept, else the id of the kept node it resembles."""
    src, dst = zip(*edges, strict=True) if edges else ((), ())
    table = pa.table({"component": [0] * len(src), "src": src, "dst": dst}, EDGES_SCHEMA)
    return {row["id"]: row["kept_id"] for row in decide_clusters(table).to_pylist()}


def test_keep_policy_on_a_chain_loses_nothing() -> None:
    # A~B and B~C but A and C are not similar: removing both B and C would lose C.
    a, b, c = 1, 2, 3
    assert greedy_keep([(b, a), (c, b)]) == {a: None, b: a, c: None}
    # The smallest kept neighbour is named, whatever the ids' signs and the edges' order.
    edges = [(5, -7), (9, 5), (12, 9), (14, 9), (-7, 14)]
    assert greedy_keep(edges) == {-7: None, 5: -7, 9: None, 12: 9, 14: -7}
    assert greedy_keep([]) == {}


def test_keep_policy_is_a_maximal_independent_set() -> None:
    rng = random.Random(11)
    edges = [(rng.randrange(200), rng.randrange(200)) for _ in range(400)]
    edges = [(x, y) for x, y in edges if x != y]
    decision = greedy_keep(edges)
    kept = {n for n, keeper in decision.items() if keeper is None}
    adjacent = {frozenset(e) for e in edges}
    for node, keeper in decision.items():
        if keeper is not None:
            assert keeper in kept and frozenset((node, keeper)) in adjacent
    assert not any(frozenset((x, y)) in adjacent for x in kept for y in kept if x < y)


def _keep_by_definition(edges: list[tuple[int, int]]) -> dict[int, int | None]:
    # The policy as the module states it, one node at a time in increasing id.
    neighbours: dict[int, set[int]] = {}
    for x, y in edges:
        neighbours.setdefault(x, set()).add(y)
        neighbours.setdefault(y, set()).add(x)
    decision: dict[int, int | None] = {}
    for node in sorted(neighbours):
        kept_before = [n for n in neighbours[node] if n < node and decision[n] is None]
        decision[node] = min(kept_before) if kept_before else None
    return decision


def test_keep_decisions_follow_the_policy_on_random_graphs() -> None:
    rng = random.Random(5)
    for _ in range(300):
        ids = list({rng.randrange(-(2**63), 2**63) for _ in range(rng.randrange(2, 40))})
        edges = {tuple(rng.sample(ids, 2)) for _ in range(rng.randrange(1, 80))}
        edges = [(max(e), min(e)) for e in edges]  # as verified edges come: src > dst
        assert greedy_keep(edges) == _keep_by_definition(edges)


def test_decide_clusters_columns() -> None:
    # Two components, their edges interleaved: each is decided on its own.
    edges = pa.table(
        {"component": [3, 20, 3, 3, 20], "src": [5, 21, 9, 7, 22], "dst": [3, 20, 3, 5, 21]}
    )
    decided = {row["id"]: row for row in decide_clusters(edges).to_pylist()}
    assert sorted(decided) == [3, 5, 7, 9, 20, 21, 22]
    assert {decided[i]["cluster_id"] for i in (3, 5, 7, 9)} == {3}
    assert {decided[i]["cluster_size"] for i in (3, 5, 7, 9)} == {4}
    assert {i: decided[i]["kept"] for i in (3, 5, 7, 9)} == {3: True, 5: False, 7: True, 9: False}
    assert decided[5]["kept_id"] == 3 and decided[9]["kept_id"] == 3
    assert decided[3]["near_copies"] == 3 and decided[7]["near_copies"] == 1
    assert decided[5]["near_copies"] is None
    # A chain 20~21~22: 21 goes for 20, 22 is kept (its only neighbour, 21, is removed).
    assert [decided[i]["kept"] for i in (20, 21, 22)] == [True, False, True]
    assert decided[20]["cluster_size"] == 3 and decided[20]["near_copies"] == 2
