"""A sample raw dump: GitHub-like JSON Lines shards made from this Python's standard library.

CodeParrot's input is a dump of GitHub Python files in which most files are copies of others:
ranking the unique files (distinct md5 of the content with all whitespace removed) by their
number of copies, the top 0.1% / 1% / 10% account for 15% / 35% / 66% of all files, and about
two thirds of all files are exact duplicates of another. `write_sample_dump` writes a dump of
the same format with the same profile, at any size and byte-identical for a given seed, so the
pipeline can be run, tested and benchmarked without downloading anything.

How it is built:

1. Unique files: this interpreter's standard library `*.py` files (de-duplicated, in a seeded
   order), then as many spliced files as the size needs. A spliced file is a fake module
   docstring naming a unique fake module, a block of lines from one stdlib file and a block
   from another, each block starting at a top-level statement at a random offset and at most
   half its source; no pair of sources is used twice, so spliced files are not near-copies of
   each other or of their sources. Every unique file has a distinct whitespace-free md5.
2. Copy counts: `copy_counts` (see there) gives the number of copies of each unique file.
3. Near-duplicates: a share of the single-copy unique files are a more-copied file with a one-
   or two-line edit (a string literal changed or a comment line added) rather than a file of
   their own, so near-dedup has work. Each is still a distinct exact key.
4. Size: the number of unique files is solved for so that copies x sizes meets `target_bytes`
   (raw UTF-8 content bytes) at the pool's mean size; files are then swapped between ranks of
   different copy counts until the total is within 0.5% of it (the copy counts stay as they
   are). Dumps of MIN_TARGET_BYTES (1 MB) and up land within about 1% of the target; smaller
   ones are refused, as their few files miss the target by up to 10% (400 kB) or far more.
5. Rows: every copy is a row of its own with a distinct (repo_name, path) in a fake repository;
   2% of copies have Windows line endings (same exact key). Rows are shuffled and written as
   gzip JSON Lines shards of about equal content bytes, at least one file each, streaming: the
   unique files are kept as recipes and rebuilt when written, so memory stays well below the
   dump's size.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
import math
import os
import re
import sys
import sysconfig
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from dataprep.cli import UsageError
from dataprep.features import content_key
from dataprep.storage import local_path

__all__ = ["MIN_TARGET_BYTES", "SampleSummary", "copy_counts", "write_sample_dump"]

# (fraction of unique files ranked by copies, share of all files they account for), GitHub dump
CONCENTRATION_ANCHORS = ((0.001, 0.15), (0.01, 0.35), (0.1, 0.66))
# Files per unique file: 1 - 1/3.125 = 68% of all files are exact duplicates of another.
MEAN_COPIES = 3.125
MAX_NEAR_DUPLICATE_FRACTION = 0.2  # single-copy files are about 23% of all files
# The smallest dump that lands within 1% of its size: 126 dumps of 1-3 MB (21 sizes, 6 seeds)
# missed by 0.56% at most, while 550 kB missed by 2.5% and 400 kB by 10%.
MIN_TARGET_BYTES = 1_000_000

_SHARD_BYTES = 64_000_000
_TOLERANCE = 0.005
_PROGRESS_MIN_BYTES = 100_000_000
_FILES_PER_REPO = 6
_CRLF_FRACTION = 0.02
_PREFIX_FRACTION = 0.25
_PREFIXES = ("src/", "lib/", "python/", "vendor/", "third_party/", "tools/", "app/", "external/")
# Lognormal size budgets of spliced files: they come out at a median of about 5 kB and a mean
# of about 7 kB with a long tail, not far from GitHub's Python files.
_SPLICE_MEDIAN_CHARS = 10000
_SPLICE_SIGMA = 1.0
_SPLICE_MAX_CHARS = 200_000
_SPLICE_MIN_LINES = 10
_LICENSES = {
    "mit": 0.38,
    "apache-2.0": 0.16,
    "gpl-3.0": 0.12,
    "gpl-2.0": 0.10,
    "bsd-3-clause": 0.08,
    "bsd-2-clause": 0.025,
    "lgpl-3.0": 0.02,
    "lgpl-2.1": 0.02,
    "agpl-3.0": 0.02,
    "mpl-2.0": 0.015,
    "isc": 0.01,
    "unlicense": 0.01,
    "cc0-1.0": 0.008,
    "epl-1.0": 0.007,
    "artistic-2.0": 0.005,
}
_WORDS = (
    "acorn", "amber", "anchor", "apex", "arbor", "arrow", "aspen", "atlas", "aurora", "badger",
    "basalt", "beacon", "birch", "bison", "blaze", "bramble", "breeze", "brook", "cactus",
    "canyon", "cedar", "cinder", "cipher", "cobalt", "comet", "copper", "coral", "cosmos",
    "crane", "crystal", "cypress", "dawn", "delta", "dune", "eagle", "ember", "falcon", "fern",
    "fjord", "flint", "forge", "fox", "frost", "galaxy", "garnet", "glacier", "granite", "grove",
    "harbor", "hazel", "heron", "hollow", "horizon", "indigo", "iris", "ivy", "jade", "jasper",
    "juniper", "kestrel", "lagoon", "lantern", "larch", "lark", "lotus", "lumen", "lynx",
    "magnet", "maple", "marble", "meadow", "mesa", "meteor", "mint", "mist", "nebula", "nimbus",
    "oak", "oasis", "onyx", "orbit", "orchid", "otter", "panda", "pebble", "pepper", "phoenix",
    "pine", "pixel", "plume", "polar", "prairie", "prism", "pulse", "quartz", "quill", "raven",
    "reef", "ridge", "river", "robin", "rocket", "saffron", "sage", "sierra", "signal", "slate",
    "sparrow", "spruce", "summit", "tango", "thistle", "thunder", "tidal", "timber", "topaz",
    "tundra", "umber", "valley", "vector", "velvet", "willow", "zephyr", "zinc",
)  # fmt: skip
# Lines that start a top-level statement: blocks begin there so spliced files read like code.
_TOP_LEVEL = re.compile(r"(?:def |class |async def |@|if __name__)")
_LITERAL = re.compile(r"""(["'])([A-Za-z][^"'\\\n]{0,60})\1""")
_INDENT = re.compile(r"[ \t]*")
_ADD_COMMENT, _CHANGE_LITERAL = 0, 1


@dataclass(frozen=True)
class SampleSummary:
    """What `write_sample_dump` wrote."""

    output_dir: Path
    shards: tuple[Path, ...]
    n_files: int
    n_unique: int
    n_near_duplicates: int
    total_bytes: int

    @property
    def n_shards(self) -> int:
        """Number of shards written."""
        return len(self.shards)


def copy_counts(n_unique: int) -> np.ndarray:
    """Copies of each of `n_unique` unique files, most-copied first, with GitHub's concentration.

    There are round(MEAN_COPIES * n_unique) files in all, each unique file has at least one
    copy, and the copies beyond the first ("extra") are spread by rank: with x = rank /
    n_unique, the share of all extra copies held by the top x of unique files, G(x), is a
    piecewise power law (linear in log-log) through the CONCENTRATION_ANCHORS, converted to
    shares of extras (top x holds s*T files = x*n one-per-file + G(x)*extras), and extended
    below 0.1% with its first segment's exponent. That makes the counts a Zipf curve per
    segment, c(x) - 1 ~ x^(slope - 1), whose slopes fall from segment to segment, so counts
    never rise with rank. Counts are differences of rounded cumulative extras, so the top x of
    unique files hold the anchor's share of all files up to one file.
    """
    if n_unique < 1:
        raise ValueError(f"n_unique must be at least 1, got {n_unique}")
    n_files = round(MEAN_COPIES * n_unique)
    extras = n_files - n_unique
    ranks = np.arange(n_unique + 1) / n_unique
    cumulative = np.rint(extras * _extra_share(ranks)).astype(np.int64)
    # Rounding can make a later count one more than an earlier one; sorting fixes the order.
    return np.sort(1 + np.diff(cumulative))[::-1]


def _extra_share(x: np.ndarray) -> np.ndarray:
    """G(x): share of all extra copies held by the top fraction x of unique files."""
    fractions = np.array([f for f, _ in CONCENTRATION_ANCHORS] + [1.0])
    shares = np.array([s for _, s in CONCENTRATION_ANCHORS] + [1.0])
    extra = (shares * MEAN_COPIES - fractions) / (MEAN_COPIES - 1)
    first_slope = math.log(extra[1] / extra[0]) / math.log(fractions[1] / fractions[0])
    head = x < fractions[0]
    result = np.empty_like(x)
    result[head] = extra[0] * (x[head] / fractions[0]) ** first_slope
    result[~head] = np.exp(np.interp(np.log(x[~head]), np.log(fractions), np.log(extra)))
    return result


@dataclass(frozen=True)
class _Source:
    """One stdlib file, split into lines for splicing."""

    path: str
    text: str
    lines: list[str]
    offsets: list[int]  # characters before each line, and the total at the end
    top_level: list[int]  # indices of lines that start a top-level statement, ascending
    top_offsets: list[int]  # characters before each of those lines


@cache
def _stdlib_sources() -> tuple[_Source, ...]:
    """The stdlib's *.py files (not site-packages), sorted, one per whitespace-free content."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    sources = []
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root)
        if "site-packages" in relative.parts or not file.is_file():
            continue
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        key = content_key(text)
        if not text.strip() or key in seen:
            continue
        seen.add(key)
        lines = text.splitlines(keepends=True)
        offsets = [0, *itertools.accumulate(len(line) for line in lines)]
        top = [i for i, line in enumerate(lines) if _TOP_LEVEL.match(line)]
        top_offsets = [offsets[i] for i in top]
        sources.append(_Source(relative.as_posix(), text, lines, offsets, top, top_offsets))
    return tuple(sources)


@dataclass(frozen=True)
class _Splice:
    """Recipe of a spliced file: two blocks of lines and the fake module that names it."""

    source_a: int
    lines_a: tuple[int, int]
    source_b: int
    lines_b: tuple[int, int]
    package: str
    module: str


class _Pool:
    """Unique files in a fixed order: stdlib files (seeded order), then spliced ones on demand."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._sources = _stdlib_sources()
        if not self._sources:
            raise RuntimeError("no readable *.py files in this Python's standard library")
        self._stdlib = [int(i) for i in rng.permutation(len(self._sources))]
        self._spliceable = [
            i for i, s in enumerate(self._sources) if len(s.lines) >= _SPLICE_MIN_LINES
        ]
        self._splices: list[_Splice] = []
        self._pairs: set[tuple[int, int]] = set()
        self.keys = {content_key(self._sources[i].text) for i in self._stdlib}
        self.sizes = [len(self._sources[i].text.encode("utf-8")) for i in self._stdlib]

    def extend_to(self, n: int) -> None:
        """Make sure the pool holds at least `n` unique files."""
        while len(self.sizes) < n:
            self._add_splice()

    def content(self, index: int) -> str:
        """Text of unique file `index`."""
        if index < len(self._stdlib):
            return self._sources[self._stdlib[index]].text
        return self._splice_text(self._splices[index - len(self._stdlib)])

    def path(self, index: int) -> str:
        """Path of unique file `index` inside its repository."""
        if index < len(self._stdlib):
            return self._sources[self._stdlib[index]].path
        splice = self._splices[index - len(self._stdlib)]
        return f"{splice.package}/{splice.module}.py"

    def _add_splice(self) -> None:
        rng = self._rng
        n = len(self._spliceable)
        if len(self._pairs) > n * (n - 1) // 4:
            raise ValueError("sample too large: this standard library has too few files to splice")
        while True:
            # Plain floats from one call: numpy's per-call overhead dominates at this size.
            u = rng.random(7).tolist()
            a = int(u[0] * n)
            b = (a + 1 + int(u[1] * (n - 1))) % n
            a, b = self._spliceable[a], self._spliceable[b]
            pair = (min(a, b), max(a, b))
            if pair in self._pairs:
                continue
            budget = rng.lognormal(math.log(_SPLICE_MEDIAN_CHARS), _SPLICE_SIGMA)
            budget = min(budget, _SPLICE_MAX_CHARS)
            words = [_WORDS[int(x * len(_WORDS))] for x in u[2:5]]
            splice = _Splice(
                a,
                self._block(a, budget / 2, u[5]),
                b,
                self._block(b, budget / 2, u[6]),
                words[0],
                f"{words[1]}_{words[2]}{len(self._splices)}",
            )
            text = self._splice_text(splice)
            key = content_key(text)
            if key not in self.keys:
                break
        self._pairs.add(pair)
        self._splices.append(splice)
        self.keys.add(key)
        self.sizes.append(len(text.encode("utf-8")))

    def _block(self, index: int, budget: float, u: float) -> tuple[int, int]:
        """Lines [start, end) of a source: about `budget` characters, at most half the file.

        The block starts at a top-level statement picked by `u` in [0, 1) among those that
        leave room for it, and ends before a top-level statement (or at the end of the file)
        near the budget, so it holds whole definitions, unless none is near enough.
        """
        source = self._sources[index]
        offsets, top, n_lines = source.offsets, source.top_level, len(source.lines)
        half = offsets[-1] / 2
        budget = min(budget, half)
        n_starts = bisect.bisect_right(source.top_offsets, offsets[-1] - budget)
        start = top[int(u * n_starts)] if n_starts else 0
        wanted = offsets[start] + budget
        first = bisect.bisect_right(top, start)
        i = bisect.bisect_left(source.top_offsets, wanted, lo=first)
        after = top[i] if i < len(top) else n_lines
        if offsets[after] - offsets[start] <= min(1.5 * budget, half):
            return start, after
        if i > first and offsets[top[i - 1]] - offsets[start] >= budget / 2:
            return start, top[i - 1]
        return start, min(max(bisect.bisect_left(offsets, wanted), start + 1), n_lines)

    def _splice_text(self, splice: _Splice) -> str:
        a = self._sources[splice.source_a].lines[slice(*splice.lines_a)]
        b = self._sources[splice.source_b].lines[slice(*splice.lines_b)]
        block_a = "".join(a)
        if not block_a.endswith("\n"):
            block_a += "\n"
        title = splice.module.rstrip("0123456789").replace("_", " ").capitalize()
        header = f'"""{title} helpers for {splice.package}."""\n\n'
        return header + block_a + "\n\n" + "".join(b)


_Edit = tuple[int, int, str]  # (line index, _ADD_COMMENT or _CHANGE_LITERAL, word)


def _apply_edits(content: str, edits: tuple[_Edit, ...]) -> str:
    """The content with each edit applied: a comment line inserted, or a literal lengthened."""
    lines = content.splitlines(keepends=True)
    # From the bottom up, so an inserted line never shifts a later edit's line.
    for line, kind, word in sorted(edits, reverse=True):
        if kind == _ADD_COMMENT:
            indent = _INDENT.match(lines[line]).group()
            lines.insert(line, f"{indent}# TODO: {word}\n")
        else:
            lines[line] = _LITERAL.sub(
                lambda m, w=word: f"{m[1]}{m[2]} {w}{m[1]}", lines[line], count=1
            )
    return "".join(lines)


def _draw_edits(content: str, rng: np.random.Generator) -> tuple[_Edit, ...]:
    """One or two small edits for a near-duplicate of `content`."""
    lines = content.splitlines(keepends=True)
    edits = []
    for _ in range(1 + int(rng.random() < 0.4)):
        word = _WORDS[int(rng.integers(len(_WORDS)))]
        line = int(rng.integers(len(lines)))
        # Half the edits change a string literal, on the first line from `line` that has one.
        if rng.random() < 0.5:
            with_literal = (i for i in range(line, len(lines)) if _LITERAL.search(lines[i]))
            literal_line = next(with_literal, None)
            if literal_line is not None:
                edits.append((literal_line, _CHANGE_LITERAL, word))
                continue
        edits.append((line, _ADD_COMMENT, word))
    return tuple(edits)


@dataclass(frozen=True)
class _Plan:
    """Unique files by rank (most copies first), and the rows, in the order they are written."""

    counts: np.ndarray  # copies per rank
    base: np.ndarray  # pool index per rank, -1 for a near-duplicate
    near: dict[int, tuple[int, tuple[_Edit, ...]]]  # rank -> (parent pool index, edits)
    sizes: np.ndarray  # UTF-8 bytes per rank
    paths: list[str]  # path per rank
    row_rank: np.ndarray
    row_repo: np.ndarray
    row_prefix: np.ndarray  # 0: none, i: _PREFIXES[i - 1]
    row_crlf: np.ndarray
    repos: list[str]
    licenses: list[str]


def _solve_n_unique(pool: _Pool, target_bytes: int, near_fraction: float) -> int:
    """Number of unique files whose copies, at the pool's mean file size, meet the target."""
    n_unique = max(1, round(target_bytes / (MEAN_COPIES * 8000)))
    tried = set()
    # Fixed-point iteration; the pool's mean size settles as it grows. Stop on a cycle.
    while n_unique not in tried:
        tried.add(n_unique)
        n_files = round(MEAN_COPIES * n_unique)
        n_base = n_unique - min(round(near_fraction * n_files), n_unique - 1)
        pool.extend_to(n_base)
        mean_size = float(np.mean(pool.sizes[:n_base]))
        n_unique = max(1, round(n_unique * target_bytes / (n_files * mean_size)))
    return n_unique


def _plan(pool: _Pool, target_bytes: int, near_fraction: float, rng: np.random.Generator) -> _Plan:
    """Decide every unique file, its copies and every row; files are kept as recipes."""
    solved = _solve_n_unique(pool, target_bytes, near_fraction)
    # Small dumps have so few files that the sizes may not fit one n_unique; try neighbours.
    tries = [n for step in range(9) for n in (solved + step, solved - step) if n >= 1]
    best = None
    for n_unique in dict.fromkeys(tries):
        ranks = _assign_ranks(pool, n_unique, target_bytes, near_fraction, rng)
        if best is None or abs(ranks.error) < abs(best.error):
            best = ranks
        if abs(best.error) <= _TOLERANCE * target_bytes:
            break
    counts, base, near_ranks, parents = best.counts, best.base, best.near_ranks, best.parents
    n_unique = len(counts)
    base_ranks = np.flatnonzero(base >= 0)

    sizes = np.zeros(n_unique, np.int64)
    sizes[base_ranks] = np.asarray(pool.sizes)[base[base_ranks]]
    paths = [pool.path(int(b)) if b >= 0 else "" for b in base]
    near = {}
    for rank, parent_rank in zip(near_ranks.tolist(), parents.tolist(), strict=True):
        parent = int(base[parent_rank])
        original = pool.content(parent)
        while True:
            edits = _draw_edits(original, rng)
            text = _apply_edits(original, edits)
            key = content_key(text)
            if key not in pool.keys:
                break
        pool.keys.add(key)
        near[rank] = (parent, edits)
        sizes[rank] = len(text.encode("utf-8"))
        paths[rank] = paths[parent_rank]

    row_rank = np.repeat(np.arange(n_unique), counts)
    n_files = len(row_rank)
    # Enough repositories that every copy of the most-copied file finds one without it.
    n_repos = max(n_files // _FILES_PER_REPO, 2 * int(counts[0]))
    repos = _repo_names(n_repos, rng)
    licenses = list(_LICENSES)
    weights = np.array(list(_LICENSES.values()))
    repo_license = rng.choice(len(licenses), n_repos, p=weights / weights.sum())
    row_prefix = np.where(
        rng.random(n_files) < _PREFIX_FRACTION, rng.integers(1, len(_PREFIXES) + 1, n_files), 0
    )
    row_repo = rng.integers(n_repos, size=n_files)
    # Two rows may not share (repo_name, path): draw another repository until they don't.
    taken: set[tuple[int, str]] = set()
    rows = zip(row_repo.tolist(), row_prefix.tolist(), row_rank.tolist(), strict=True)
    for i, (repo, prefix, rank) in enumerate(rows):
        path = _full_path(prefix, paths[rank])
        while (repo, path) in taken:
            repo = int(rng.integers(n_repos))
        row_repo[i] = repo
        taken.add((repo, path))
    order = rng.permutation(n_files)
    return _Plan(
        counts=counts,
        base=base,
        near=near,
        sizes=sizes,
        paths=paths,
        row_rank=row_rank[order],
        row_repo=row_repo[order],
        row_prefix=row_prefix[order],
        row_crlf=(rng.random(n_files) < _CRLF_FRACTION)[order],
        repos=repos,
        licenses=[licenses[i] for i in repo_license],
    )


@dataclass(frozen=True)
class _Ranks:
    """Copies per rank and which file holds each rank."""

    counts: np.ndarray
    base: np.ndarray  # pool index per rank, -1 for a near-duplicate
    near_ranks: np.ndarray  # ranks of the near-duplicates
    parents: np.ndarray  # rank of each near-duplicate's parent
    error: int  # content bytes (near-duplicates at their parent's size) minus the target


def _assign_ranks(
    pool: _Pool, n_unique: int, target_bytes: int, near_fraction: float, rng: np.random.Generator
) -> _Ranks:
    """Give each rank its copies and a file: near-duplicates among single copies, then the pool."""
    counts = copy_counts(n_unique)
    singles = np.flatnonzero(counts == 1)
    multi = np.flatnonzero(counts > 1)
    n_near = min(round(near_fraction * counts.sum()), len(singles)) if len(multi) else 0
    near_ranks = np.sort(rng.choice(singles, n_near, replace=False))
    parents = rng.choice(multi, n_near) if n_near else np.zeros(0, int)
    base_ranks = np.setdiff1d(np.arange(n_unique), near_ranks)
    pool.extend_to(len(base_ranks))
    base = np.full(n_unique, -1)
    base[base_ranks] = rng.permutation(len(base_ranks))
    # A near-duplicate is about its parent's size: count it as one more copy of the parent.
    weight = counts.copy()
    np.add.at(weight, parents, 1)
    sizes = np.asarray(pool.sizes)
    error = int((weight[base_ranks] * sizes[base[base_ranks]]).sum()) - target_bytes
    heavy = base_ranks[weight[base_ranks] > 1]
    # Swap files between ranks of different weights until the bytes are near the target; a
    # few passes, as small dumps have few files to swap.
    for rank in rng.permutation(np.tile(heavy, 4)):
        if abs(error) <= _TOLERANCE * target_bytes:
            break
        others = rng.choice(base_ranks, 32)
        gains = (weight[rank] - weight[others]) * (sizes[base[others]] - sizes[base[rank]])
        best = int(np.argmin(np.abs(error + gains)))
        if abs(error + gains[best]) < abs(error):
            other = others[best]
            base[rank], base[other] = base[other], base[rank]
            error += int(gains[best])
    return _Ranks(counts, base, near_ranks, parents, error)


def _repo_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct plausible repository names, about two per owner."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        missing = n - len(names)
        owners = rng.integers(max(1, n // 2), size=missing).tolist()
        words = rng.integers(len(_WORDS), size=(missing, 2)).tolist()
        for owner, (first, second) in zip(owners, words, strict=True):
            name = f"user{owner}/{_WORDS[first]}-{_WORDS[second]}"
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def _full_path(prefix: int, path: str) -> str:
    """The path with directory prefix number `prefix` in front (0: none)."""
    return _PREFIXES[prefix - 1] + path if prefix else path


def _rows(plan: _Plan, pool: _Pool, start: int, stop: int) -> Iterator[dict[str, str]]:
    """Rows start..stop-1 of the plan, contents rebuilt from their recipes."""

    @lru_cache(maxsize=1024)
    def content(rank: int) -> str:
        if rank in plan.near:
            parent, edits = plan.near[rank]
            return _apply_edits(pool.content(parent), edits)
        return pool.content(int(plan.base[rank]))

    for i in range(start, stop):
        rank = int(plan.row_rank[i])
        text = content(rank)
        if plan.row_crlf[i]:
            text = text.replace("\n", "\r\n")
        prefix = int(plan.row_prefix[i])
        repo = int(plan.row_repo[i])
        yield {
            "repo_name": plan.repos[repo],
            "path": _full_path(prefix, plan.paths[rank]),
            "copies": str(int(plan.counts[rank])),
            "size": str(len(text.encode("utf-8"))),
            "content": text,
            "license": plan.licenses[repo],
        }


class _Progress:
    """Content bytes written so far by all shard writers; a line on stderr every 10% if asked."""

    def __init__(self, target_bytes: int) -> None:
        self.total = 0
        self._tenth = target_bytes / 10  # 0: no report
        self._next = self._tenth
        self._lock = threading.Lock()

    def add(self, n_bytes: int) -> None:
        """Count `n_bytes` more."""
        with self._lock:
            self.total += n_bytes
            if self._tenth and self.total >= self._next:
                print(f"sample: {self.total / 1e6:,.0f} MB written", file=sys.stderr)
                while self._next <= self.total:
                    self._next += self._tenth


def _write_shard(path: Path, rows: Iterator[dict[str, str]], progress: _Progress) -> None:
    """Write rows as one gzip JSON Lines file whose header has no name and mtime 0."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) as out,
    ):
        lines: list[str] = []
        chars = content_bytes = 0
        for row in rows:
            lines.append(json.dumps(row))
            chars += len(lines[-1])
            content_bytes += int(row["size"])
            # Compress in batches of about 1 MB: fewer, longer stretches without the GIL.
            if chars >= 1 << 20:
                out.write(("\n".join(lines) + "\n").encode("ascii"))
                progress.add(content_bytes)
                lines, chars, content_bytes = [], 0, 0
        if lines:
            out.write(("\n".join(lines) + "\n").encode("ascii"))
            progress.add(content_bytes)


def _shard_bounds(sizes: np.ndarray, n_shards: int) -> list[int]:
    """Row bounds of `n_shards` shards of about equal content bytes, each of one row at least.

    The rows are cut at multiples of total / n; a file larger than a shard would leave the
    shards after it empty, so each cut moves on to at least one row past the one before.
    """
    n_rows = len(sizes)
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, n_shards) / n_shards, side="right")
    # With cut i less i, strictly rising cuts in [1, n_rows - 1] are non-decreasing values
    # in [0, n_rows - n_shards]; unchanged when the byte cuts already leave no shard empty.
    shifted = np.arange(1, n_shards)
    cuts = np.maximum.accumulate(np.clip(cuts - shifted, 0, n_rows - n_shards)) + shifted
    return [0, *cuts.tolist(), n_rows]


def write_sample_dump(
    output_dir: str | Path,
    target_bytes: int,
    *,
    seed: int = 0,
    n_shards: int | None = None,
    near_duplicate_fraction: float = 0.05,
    overwrite: bool = False,
) -> SampleSummary:
    """Write a GitHub-like dump of about `target_bytes` of content as gzip JSON Lines shards.

    Shards are `file-000001.json.gz`, ... in `output_dir`; each line is a JSON object with
    string fields repo_name, path, copies, size, content and license, as CodeParrot's GitHub
    dump. Same seed, size and Python -> byte-identical shards. `target_bytes` is at least
    MIN_TARGET_BYTES. `n_shards` defaults to one per 64 MB of content, at least 2, and may not
    exceed the number of files. A `near_duplicate_fraction` of the files are near-duplicates
    (at most MAX_NEAR_DUPLICATE_FRACTION). Refuses to write into a folder that already holds
    `*.json.gz` shards unless `overwrite`, which replaces them once the new ones are complete.
    """
    if target_bytes < MIN_TARGET_BYTES:
        raise ValueError(f"target_bytes must be at least {MIN_TARGET_BYTES:,}, got {target_bytes}")
    if not 0 <= near_duplicate_fraction <= MAX_NEAR_DUPLICATE_FRACTION:
        raise ValueError(
            f"near_duplicate_fraction must be in [0, {MAX_NEAR_DUPLICATE_FRACTION}], "
            f"got {near_duplicate_fraction}"
        )
    if n_shards is None:
        n_shards = max(2, round(target_bytes / _SHARD_BYTES))
    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    output_dir = local_path(output_dir)
    old = sorted(output_dir.glob("*.json.gz"))
    if old and not overwrite:
        raise UsageError(
            f"{output_dir} already holds {len(old)} *.json.gz shard(s): "
            "pass --overwrite to replace them"
        )

    # Independent streams, so growing the pool never changes the later draws.
    pool_rng, plan_rng = (np.random.default_rng([seed, stream]) for stream in (1, 2))
    report = target_bytes >= _PROGRESS_MIN_BYTES
    pool = _Pool(pool_rng)
    plan = _plan(pool, target_bytes, near_duplicate_fraction, plan_rng)
    n_files = len(plan.row_rank)
    if n_shards > n_files:
        raise UsageError(
            f"--shards {n_shards} is more than the {n_files:,} files of this sample: "
            f"ask for at most {n_files:,} shards, or a larger --size"
        )
    if report:
        print(f"sample: {len(plan.counts):,} unique files, {n_files:,} files", file=sys.stderr)
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(".file-*.json.gz.tmp"):
        stale.unlink()

    bounds = _shard_bounds(plan.sizes[plan.row_rank], n_shards)
    shards = [output_dir / f"file-{number:06d}.json.gz" for number in range(1, n_shards + 1)]
    temporary = [shard.with_name(f".{shard.name}.tmp") for shard in shards]
    progress = _Progress(target_bytes if report else 0)
    # zlib lets go of the GIL while compressing, so shards written in threads overlap.
    with ThreadPoolExecutor(min(n_shards, os.cpu_count() or 1)) as executor:
        jobs = [
            executor.submit(_write_shard, path, _rows(plan, pool, start, stop), progress)
            for path, start, stop in zip(temporary, bounds[:-1], bounds[1:], strict=True)
        ]
        for job in jobs:
            job.result()
    # Only complete shards get their final names, and all at the end.
    for stale in old:
        stale.unlink()
    for partial, final in zip(temporary, shards, strict=True):
        partial.rename(final)
    return SampleSummary(
        output_dir=output_dir,
        shards=tuple(shards),
        n_files=n_files,
        n_unique=len(plan.counts),
        n_near_duplicates=len(plan.near),
        total_bytes=progress.total,
    )
