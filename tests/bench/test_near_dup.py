"""The near-dedup benchmark's tools: the exact similarity join, quality figures, the reference."""

from __future__ import annotations

import math
import random
import sysconfig
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import raw_row, write_jsonl_gz
from datasketch import LeanMinHash
from hypothesis import given, settings
from hypothesis import strategies as st
from near_dup_corpus import exact_dedup_rows
from near_dup_quality import format_report, quality
from near_dup_reference import (
    THRESHOLD,
    cluster_extremes,
    duplicate_clusters,
    minhash_signature,
    reference_near_dedup,
    reference_pipeline,
)
from near_dup_truth import brute_force_pairs, similar_pairs, token_sets

from dataprep.near_dedup.shingles import jaccard, tokens

# --- similar_pairs: the exact join finds exactly the pairs brute force finds ---------------


@pytest.fixture(scope="module")
def stdlib_sets() -> list[set[bytes]]:
    """Token sets of about 300 stdlib files, then edited copies of 60 of them."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = [f for f in sorted(root.rglob("*.py"))[::6] if "site-packages" not in f.parts]
    sets = [set(tokens(file.read_text("utf-8", errors="replace"))) for file in files]
    sets = [s for s in sets if len(s) >= 10][:300]
    draws = random.Random(0)
    for number, original in enumerate(sets[:60]):
        edited = set(original)
        # Every sixth copy unchanged, the others with up to a fifth of their tokens dropped or
        # replaced: Jaccard spread from about 0.7 to 1.
        n_edits = 0 if number % 6 == 0 else draws.randint(1, len(edited) // 5)
        for token in draws.sample(sorted(edited), n_edits):
            edited.discard(token)
            if draws.random() < 0.5:
                edited.add(b"%s_edit%d" % (token, number))
        sets.append(edited)
    return sets


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.95, 1.0])
def test_join_matches_brute_force_on_stdlib_files(
    stdlib_sets: list[set[bytes]], threshold: float
) -> None:
    expected = brute_force_pairs(stdlib_sets, threshold)
    assert len(expected) >= 10  # the edited copies make pairs at every threshold
    assert similar_pairs(stdlib_sets, threshold) == expected


def _boundary_cases(threshold: float) -> list[tuple[set[str], set[str]]]:
    """Pairs whose Jaccard is exactly `threshold` as a float, at sizes up to 150.

    Each pair is x = x_only + shared, y = y_only + shared, the unshared tokens seen once and so
    ranked first: the prefixes reach a shared token only when their lengths are not rounded
    down. Subsets (x_only empty) test the probing prefix, equal sizes the indexing prefix.
    """
    cases = []
    for union in range(2, 151):
        shared = round(threshold * union)
        if shared / union != threshold:
            continue
        splits = [(0, union - shared)]
        if (union - shared) % 2 == 0:
            splits.append(((union - shared) // 2, (union - shared) // 2))
        for x_only, y_only in splits:
            tag = f"{union}_{x_only}"
            common = {f"s{tag}_{i}" for i in range(shared)}
            x = common | {f"x{tag}_{i}" for i in range(x_only)}
            y = common | {f"y{tag}_{i}" for i in range(y_only)}
            cases.append((x, y))
    return cases


@pytest.mark.parametrize("threshold", [0.28, 0.55, 0.56, 0.85, 0.9])
def test_join_finds_pairs_exactly_at_the_threshold(threshold: float) -> None:
    cases = _boundary_cases(threshold)
    sets = [s for pair in cases for s in pair]
    pairs = {(2 * i, 2 * i + 1) for i in range(len(cases))}
    assert all(jaccard(x, y) == threshold for x, y in cases)
    assert pairs <= brute_force_pairs(sets, threshold)
    assert similar_pairs(sets, threshold) == brute_force_pairs(sets, threshold)


def test_boundary_cases_include_float_products_that_round_up() -> None:
    # Where t * n comes out above the integer it should be, a prefix of length
    # n - ceil(t * n) + 1 is one token short and the pair is missed.
    subset_trap = any(math.ceil(0.56 * len(y)) > len(x) for x, y in _boundary_cases(0.56) if x <= y)
    index_trap = any(
        math.ceil(2 * 0.9 / 1.9 * len(x)) > len(x & y)
        for x, y in _boundary_cases(0.9)
        if len(x) == len(y)
    )
    assert subset_trap
    assert index_trap


def test_join_edge_cases() -> None:
    sets = [set(), {"a"}, {"a"}, set(), {"a", "b"}, {"b"}, {"c", "d", "e"}, {"c", "d", "e"}]
    assert similar_pairs(sets, 1.0) == {(1, 2), (6, 7)}
    assert similar_pairs(sets, 0.5) == {(1, 2), (1, 4), (2, 4), (4, 5), (6, 7)}
    for threshold in (0.3, 0.5, 0.51, 1.0):
        assert similar_pairs(sets, threshold) == brute_force_pairs(sets, threshold)
    assert similar_pairs([set(), set()], 0.5) == set()


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.01])
def test_join_refuses_thresholds_outside_0_1(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        similar_pairs([{"a"}], threshold)


@settings(max_examples=200, deadline=None)
@given(
    sets=st.lists(st.sets(st.integers(0, 12).map(str), max_size=10), max_size=25),
    fraction=st.tuples(st.integers(1, 12), st.integers(1, 12)).filter(lambda f: f[0] <= f[1]),
)
def test_join_matches_brute_force_on_random_sets(
    sets: list[set[str]], fraction: tuple[int, int]
) -> None:
    # Thresholds p / q are exactly the Jaccard values small sets reach.
    threshold = fraction[0] / fraction[1]
    assert similar_pairs(sets, threshold) == brute_force_pairs(sets, threshold)


# --- quality ------------------------------------------------------------------------------

# A ~ B and B ~ C in the truth, A and C too far apart; D is alone.
KEYS = ["A", "B", "C", "D"]
CHAIN = {(0, 1), (1, 2)}


@pytest.mark.parametrize(
    ("kept", "removed", "lost_rate", "residual_pair_rate"),
    [
        ({"A", "B", "C", "D"}, 0, 0.0, 1.0),
        ({"A", "C", "D"}, 1, 0.0, 0.0),  # B has A and C in its place
        ({"B", "D"}, 2, 0.0, 0.0),  # A and C have B
        ({"A", "B", "D"}, 1, 0.0, 0.5),  # C has B; A ~ B both kept
        ({"A", "D"}, 2, 0.5, 0.0),  # B has A, C has only B, removed
        ({"D"}, 3, 1.0, 0.0),
        ({"A", "B", "C"}, 1, 1.0, 1.0),  # D had no near-duplicate
    ],
)
def test_quality_on_a_chain(
    kept: set[str], removed: int, lost_rate: float, residual_pair_rate: float
) -> None:
    figures = quality(KEYS, kept, CHAIN, [["A", "B", "C"], ["D"]])
    assert figures["removed"] == removed
    assert figures["lost_rate"] == lost_rate
    assert figures["residual_pair_rate"] == residual_pair_rate
    assert figures["pairs"] == 2
    assert figures["largest_cluster"] == 3
    assert figures["clustered_share"] == 0.75


def test_quality_without_pairs_clusters_or_removals() -> None:
    figures = quality(KEYS, set(KEYS), set(), [])
    assert figures["lost_rate"] == 0.0
    assert figures["residual_pair_rate"] == 0.0
    assert figures["largest_cluster"] == 0
    assert figures["clustered_share"] == 0.0


def test_quality_counts_only_scored_keys_in_clusters() -> None:
    # E is not among the keys (too few tokens, say): it does not count as clustered.
    figures = quality(KEYS, set(KEYS), CHAIN, [["A", "E"], ["B", "C", "E"]])
    assert figures["clustered_share"] == 0.75
    assert figures["largest_cluster"] == 3


def test_format_report_has_a_column_per_method() -> None:
    report = format_report({"ref": {"removed": 1234, "lost_rate": 0.5}, "spark": {"removed": 7}})
    lines = report.splitlines()
    assert lines[0].split() == ["ref", "spark"]
    assert lines[1].split() == ["removed", "1,234", "7"]
    assert lines[2].split() == ["lost_rate", "0.5", "-"]
    assert len(lines) == 3


# --- the reference: CodeParrot's near-dedup -----------------------------------------------


def _module(name: str, lines: int = 70) -> str:
    """A file of `lines` assignments, three tokens each, all of them containing `name`."""
    return "".join(f"{name}_value_{i} = {name}_make_{i}({name}_arg_{i})\n" for i in range(lines))


def _edited(content: str, line: int) -> str:
    """The content with the assigned name on one line changed: Jaccard 209/211 to the original."""
    return content.replace(f"_value_{line} =", f"_changed_{line} =")


def _row(name: str, content: str) -> dict:
    return raw_row("user/repo", f"{name}.py", content)


def test_reference_collapses_a_near_duplicate_cluster() -> None:
    base = _module("alpha")
    rows = [
        _row("a0", base),
        _row("a1", _edited(base, 3)),
        _row("other", _module("beta")),
        _row("a2", _edited(base, 10)),
        _row("tiny", "x = 1\n"),  # under MIN_TOKENS: never near-deduplicated
        _row("a3", _edited(_edited(base, 20), 30)),
    ]
    result = reference_near_dedup(rows, processes=2)
    key = {row["path"][:-3]: (row["repo_name"], row["path"]) for row in rows}
    assert result.clusters == [[key["a0"], key["a1"], key["a2"], key["a3"]]]
    assert result.removed == {key["a1"], key["a2"], key["a3"]}
    assert result.kept == {key["a0"], key["other"], key["tiny"]}


def test_reference_refuses_repeated_keys() -> None:
    with pytest.raises(ValueError, match="distinct"):
        reference_near_dedup([_row("a", _module("a")), _row("a", _module("b"))])


def test_cluster_extremes_are_greedy_in_cluster_order() -> None:
    # A ~ B and B ~ C, but A and C are further apart.
    a = {b"t%d" % i for i in range(100)}
    b = a - {b"t%d" % i for i in range(10)}
    c = b - {b"t%d" % i for i in range(10, 20)}
    sets = [a, b, c]
    assert jaccard(a, b) >= THRESHOLD and jaccard(b, c) >= THRESHOLD > jaccard(a, c)
    assert cluster_extremes([0, 1, 2], sets, THRESHOLD) == [0, 2]
    assert cluster_extremes([1, 0, 2], sets, THRESHOLD) == [1]


def test_duplicate_clusters_follow_codeparrots_index() -> None:
    # Signatures made to collide in chosen LSH bands (13 bands of 19 rows): "mix" shares the
    # first 7 bands with A and the rest with B; A and B, of disjoint sets, share none.
    a = minhash_signature({b"a%d" % i for i in range(50)})
    b = minhash_signature({b"b%d" % i for i in range(50)})
    mix = LeanMinHash(
        seed=a.seed, hashvalues=[*a.hashvalues[:133], *b.hashvalues[133:]], scheme=a.scheme
    )
    clusters = duplicate_clusters([a, b, mix, b, a, mix])
    # 2 finds 0 and 1, neither a base yet: it joins 0, the first. 3 finds 1 and 2: 2 is in a
    # cluster but not its base, so 1 becomes one. 4 and 5 join 0, the first base they find.
    assert clusters == [[0, 2, 4, 5], [1, 3]]


def test_reference_pipeline_on_a_raw_dump(tmp_path: Path) -> None:
    base = _module("alpha")
    rows = [
        _row("a0", base),
        _row("a0_spaced", base.replace(" = ", "=")),  # exact duplicate: same content_key
        _row("other", _module("beta")),
        _row("a1", _edited(base, 3)),
        raw_row("user/repo", "empty.py", ""),
        raw_row("user/repo", "", _module("gamma")),
        _row("tiny", "x = 1\n"),
        _row("a2", _edited(base, 10)),
    ]
    write_jsonl_gz(tmp_path / "dump/file-000001.json.gz", rows[:4])
    write_jsonl_gz(tmp_path / "dump/file-000002.json.gz", rows[4:])
    counts = reference_pipeline(tmp_path / "dump", tmp_path / "out", processes=2)
    phases = counts.pop("seconds")
    assert list(phases) == ["read_and_exact_dedup", "near_dedup", "write"]
    assert all(seconds > 0 for seconds in phases.values())
    assert counts == {
        "rows": 8,
        "bytes": sum(len(row["content"].encode("utf-8")) for row in rows),
        "kept": 3,
        "near_removed": 2,
    }
    written = pq.read_table(tmp_path / "out/part-00000.parquet")
    assert sorted(written.column("path").to_pylist()) == ["a0.py", "other.py", "tiny.py"]
    assert written.column_names == list(rows[0])


# --- corpus helpers -----------------------------------------------------------------------


def test_exact_dedup_keeps_the_first_in_key_order() -> None:
    rows = [
        raw_row("b", "x.py", "a = 1"),
        raw_row("a", "y.py", "a=1"),
        raw_row("a", "x.py", "b = 2"),
    ]
    assert [(r["repo_name"], r["path"]) for r in exact_dedup_rows(rows)] == [
        ("a", "x.py"),
        ("a", "y.py"),
    ]


def test_token_sets_skip_files_under_min_tokens() -> None:
    rows = [raw_row("r", "a.py", "a b c d e f g h i"), raw_row("r", "b.py", "a a a a a a a a a a")]
    positions, sets = token_sets(rows)
    assert positions == [1]
    assert sets == [{b"a"}]
