"""Duplication statistics on a workdir whose duplication profile is known by construction."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import load_job
from nbclient import NotebookClient

from dataprep.cli import MissingInput
from dataprep.sample import CONCENTRATION_ANCHORS, copy_counts
from dataprep.stats import (
    CURVE_PERCENTS,
    PLOTS,
    TABLES,
    format_headline,
    load_stats,
    top_k,
    write_stats,
)

N_UNIQUE = 1000
COUNTS = copy_counts(N_UNIQUE)  # most-copied first
CLUSTER_SIZES = (2, 2, 3, 5)
JOB = load_job("dup_stats.py")


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).astype({"id": "int64", "exact_copies": "int64"})


def _write(folder: Path, rows: list[dict]) -> None:
    folder.mkdir(parents=True)
    _frame(rows).to_parquet(folder / "part-00000.parquet", index=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """W/filtered and W/rejected as the pipeline leaves them, with COUNTS copies per file.

    Every 10th unique file is rejected by a filter (its copies still count), a few kept files
    are also near_duplicate rejects (rows of filtered already), and read rejects (not counted)
    carry a hash too. Copies differ in whitespace, so their bytes differ.
    """
    root = tmp_path_factory.mktemp("stats_work")
    kept, duplicates, filtered_out, near, unread = [], [], [], [], []
    for i, copies in enumerate(COUNTS.tolist()):
        # Hash order unrelated to rank, so ties in copies are broken by hash, not by i.
        key = hashlib.md5(f"u{i}".encode()).hexdigest()
        for j in range(copies):
            row = {
                "repo_name": f"user{(i + j) % 7}/repo{j % 3}",
                "path": f"pkg/m{i}.py",
                "size": 0,
                "content": f"x = {i}\n" + " " * ((i * 7 + j) % 40),
                "hash": key,
                "id": i * 10_000 + j,
                "exact_copies": copies,
            }
            if j:
                duplicates.append(row | {"kept_id": i * 10_000})
            elif i % 10 == 3:
                filtered_out.append(row)
            else:
                kept.append(row)
                if i % 50 == 7:
                    near.append(row | {"kept_id": 1})
    for n in range(5):
        unread.append(kept[n] | {"id": -1 - n, "hash": hashlib.md5(b"big").hexdigest()})
    _write(root / "filtered", kept)
    _write(root / "rejected/reason=exact_duplicate", duplicates)
    _write(root / "rejected/reason=line_max", filtered_out)
    _write(root / "rejected/reason=near_duplicate", near)
    _write(root / "rejected/reason=too_large", unread)

    clusters, cluster_id = [], 0
    for size in CLUSTER_SIZES:
        cluster_id += 100
        clusters += [
            {"id": cluster_id + m, "cluster_id": cluster_id, "cluster_size": size}
            for m in range(size)
        ]
    (root / "near_dup_clusters").mkdir()
    pd.DataFrame(clusters).to_parquet(root / "near_dup_clusters/part-0.parquet", index=False)
    funnel = {
        "stages": [
            {
                "stage": "exact_dedup",
                "in": {"files": 10, "bytes": 100},
                "rejected": {"exact_duplicate": {"files": 4, "bytes": 40}},
                "out": {"files": 6, "bytes": 60},
            },
            {
                "stage": "split",
                "in": {"files": 6, "bytes": 60},
                "out": {"train": {"files": 5, "bytes": 50}, "valid": {"files": 1, "bytes": 10}},
            },
        ]
    }
    (root / "funnel.json").write_text(json.dumps(funnel))
    return root


@pytest.fixture(scope="module")
def summary(spark, workdir) -> dict:
    return write_stats(spark, str(workdir))


@pytest.fixture(scope="module")
def counted(workdir) -> pd.DataFrame:
    """The counted rows read back with pandas alone: kept + exact-duplicate + filter rejects."""
    parts = [pd.read_parquet(workdir / "filtered")]
    parts += [
        pd.read_parquet(workdir / f"rejected/reason={r}") for r in ("exact_duplicate", "line_max")
    ]
    rows = pd.concat(parts, ignore_index=True)
    return rows.assign(nbytes=rows["content"].str.encode("utf-8").str.len())


def test_summary_matches_construction(summary):
    n_files = int(COUNTS.sum())
    assert summary["n_files"] == n_files == round(3.125 * N_UNIQUE)
    assert summary["n_unique"] == N_UNIQUE
    assert summary["duplicate_fraction"] == pytest.approx(1 - N_UNIQUE / n_files)
    expected = {
        key: COUNTS[: max(1, round(fraction * N_UNIQUE))].sum() / n_files
        for key, fraction in (("0.1", 0.001), ("1", 0.01), ("10", 0.1))
    }
    assert summary["top_unique_share"] == pytest.approx(expected, abs=1e-12)
    # copy_counts reproduces CodeParrot's curve to within a file
    for (_, share), key in zip(CONCENTRATION_ANCHORS, ("0.1", "1", "10"), strict=True):
        assert abs(summary["top_unique_share"][key] - share) <= 1.5 / n_files, key


def test_shares_of_less_than_a_file_are_not_stated(spark, tmp_path):
    # 7 unique files, no duplicates: "the top 0.1%" would be one file, 14% of them.
    rows = [
        {"repo_name": "u/r", "path": f"m{i}.py", "size": 0, "content": f"x = {i}\n",
         "hash": hashlib.md5(f"u{i}".encode()).hexdigest(), "id": i, "exact_copies": 1}
        for i in range(7)
    ]  # fmt: skip
    _write(tmp_path / "filtered", rows)
    summary = write_stats(spark, str(tmp_path))
    assert set(summary["top_unique_share"]) == {"10"}  # 0.7 of a file: rounds to one
    assert summary["top_unique_count"] == {"10": 1}
    assert "top 10% of unique files (1 of 7): 14.3% of files" in format_headline(summary, "s")
    assert "top 0.1%" not in format_headline(summary, "s")


def test_histogram_and_clusters(summary, workdir):
    stats = load_stats(workdir)
    values, numbers = np.unique(COUNTS, return_counts=True)
    histogram = stats.copies_histogram
    assert histogram["copies"].tolist() == values.tolist()
    assert histogram["unique_files"].tolist() == numbers.tolist()
    assert (histogram["files"] == histogram["copies"] * histogram["unique_files"]).all()
    clusters = stats.cluster_sizes.set_index("cluster_size")
    assert clusters["clusters"].to_dict() == {2: 2, 3: 1, 5: 1}
    assert clusters["files"].to_dict() == {2: 4, 3: 3, 5: 5}


def test_figures_agree_with_pandas(summary, workdir, counted):
    stats = load_stats(workdir)
    unique = (
        counted.groupby("hash")
        .agg(copies=("id", "size"), nbytes=("nbytes", "sum"))
        .reset_index()
        .sort_values(["copies", "hash"], ascending=[False, True], ignore_index=True)
    )
    files, nbytes = unique["copies"].cumsum(), unique["nbytes"].cumsum()
    curve = stats.concentration
    assert curve["percent"].tolist() == sorted(CURVE_PERCENTS)
    for point in curve.itertuples():
        k = top_k(point.percent, len(unique))
        assert point.top_unique == k
        assert point.files == files[k - 1]
        assert point.bytes == nbytes[k - 1], point.percent
        assert point.bytes_share == pytest.approx(nbytes[k - 1] / nbytes.iloc[-1])
    assert summary["bytes"] == counted["nbytes"].sum()
    assert summary["top_unique_bytes_share"]["1"] == pytest.approx(
        nbytes[top_k(1, len(unique)) - 1] / nbytes.iloc[-1]
    )

    top = stats.top_files
    assert top["hash"].tolist() == unique["hash"][:20].tolist()
    kept = counted.sort_values("id").drop_duplicates("hash").set_index("hash")
    assert top["path"].tolist() == kept.loc[top["hash"], "path"].tolist()
    assert top["repo_name"].tolist() == kept.loc[top["hash"], "repo_name"].tolist()
    assert top["size"].tolist() == kept.loc[top["hash"], "nbytes"].tolist()

    duplicates = counted[counted["kept_id"].notna()]
    repos = (
        duplicates.groupby("repo_name")["nbytes"]
        .agg(["size", "sum"])
        .reset_index()
        .sort_values(["sum", "repo_name"], ascending=[False, True], ignore_index=True)
    )
    assert stats.top_repos["repo_name"].tolist() == repos["repo_name"][:20].tolist()
    assert stats.top_repos["bytes"].tolist() == repos["sum"][:20].tolist()
    assert stats.top_repos["files"].tolist() == repos["size"][:20].tolist()


def test_load_stats_tables_funnel_and_plots(summary, workdir):
    stats = load_stats(workdir)
    assert stats.summary == summary
    for name in TABLES:
        assert isinstance(getattr(stats, name), pd.DataFrame), name
    steps = stats.funnel[["stage", "step", "name"]].itertuples(index=False, name=None)
    assert list(steps) == [
        ("exact_dedup", "in", None),
        ("exact_dedup", "rejected", "exact_duplicate"),
        ("exact_dedup", "out", None),
        ("split", "in", None),
        ("split", "out", "train"),
        ("split", "out", "valid"),
    ]
    assert stats.funnel["files"].tolist() == [10, 4, 6, 6, 5, 1]
    for name in PLOTS:
        assert (workdir / "stats" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not list(workdir.glob("_tmp-*"))


def test_job_rerun_is_identical(spark, summary, workdir, capsys):
    before = (workdir / "stats/summary.json").read_text()
    JOB.main(spark, JOB.DupStatsJob(workdir=str(workdir)))
    out = capsys.readouterr().out
    assert f"{summary['n_files']:,} files, {N_UNIQUE:,} unique" in out
    assert "CodeParrot: 15% of files" in out
    assert (workdir / "stats/summary.json").read_text() == before
    assert (workdir / "stats/_SUCCESS").exists()


def test_load_stats_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"jobs/dup_stats\.py"):
        load_stats(tmp_path)


def test_a_folder_that_is_no_workdir_is_refused(spark, tmp_path):
    with pytest.raises(MissingInput, match=r"no filtered/\): run jobs/pipeline\.py"):
        write_stats(spark, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_notebook_runs_top_to_bottom(summary, workdir, monkeypatch):
    path = Path(__file__).resolve().parents[2] / "notebooks/duplication_stats.ipynb"
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not any(cell.outputs for cell in code), "the notebook is stored without outputs"
    monkeypatch.setenv("DUP_STATS_WORKDIR", str(workdir))
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    client.execute()
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # concentration, copies, cluster sizes
