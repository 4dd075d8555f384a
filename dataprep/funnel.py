"""The funnel of a run: files and bytes in, kept and rejected per reason, per stage.

Built from the counts each stage recorded while writing, and checked: for every run,
rows in = rows kept + rows rejected, in files and in bytes.
"""

from __future__ import annotations

import sys
from typing import Any

from dataprep.decontaminate import DECONTAMINATION_REASONS
from dataprep.exact_dedup import EXACT_DEDUP_REASONS
from dataprep.filters import FILTER_REASONS
from dataprep.near_dedup.stage import NEAR_DEDUP_REASONS
from dataprep.read import READ_REASONS

STAGE_REASONS = (
    ("read", READ_REASONS),
    ("exact_dedup", EXACT_DEDUP_REASONS),
    ("decontaminate", DECONTAMINATION_REASONS),
    ("filters", FILTER_REASONS),
    ("near_dedup", NEAR_DEDUP_REASONS),
)


class FunnelMismatch(AssertionError):
    """Rows were lost or invented: the counts do not add up."""


def _zero() -> dict[str, int]:
    return {"files": 0, "bytes": 0}


def _minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a[k] - b[k] for k in ("files", "bytes")}


def build_funnel(
    records: list[dict[str, Any]], splits: dict[str, Any], skipped: dict[str, list[str]]
) -> dict:
    """The funnel of a pipeline run from its stages' records (in order) and the split counts.

    `skipped` names, per stage, what did not run (a filter without its tokenizer, a stage
    turned off).
    """
    rejected: dict[str, dict[str, int]] = {}
    for record in records:
        rejected.update(record["counts"].get("rejected", {}))
    stages = []
    flowing = records[0]["counts"]["in"]
    for name, reasons in STAGE_REASONS:
        out = flowing
        dropped = {}
        for reason in reasons:
            if reason in rejected:
                dropped[reason] = rejected[reason]
                out = _minus(out, rejected[reason])
        stage: dict[str, Any] = {"stage": name, "in": flowing, "rejected": dropped, "out": out}
        if name in skipped:
            stage["skipped"] = skipped[name]
        stages.append(stage)
        flowing = out
    stages.append({"stage": "split", "in": flowing, "out": splits})
    funnel = {
        "input": records[0]["counts"]["in"],
        "kept": {
            "files": sum(s["files"] for s in splits.values()),
            "bytes": sum(s["bytes"] for s in splits.values()),
        },
        "rejected": rejected,
        "stages": stages,
    }
    check_balance(funnel)
    return funnel


def check_balance(funnel: dict) -> None:
    """Raise FunnelMismatch unless input = kept + rejected, per stage and overall."""
    for unit in ("files", "bytes"):
        rejected = sum(r[unit] for r in funnel["rejected"].values())
        if funnel["input"][unit] != funnel["kept"][unit] + rejected:
            raise FunnelMismatch(
                f"{unit}: {funnel['input'][unit]} in, {funnel['kept'][unit]} kept, "
                f"{rejected} rejected"
            )
    split = funnel["stages"][-1]
    for unit in ("files", "bytes"):
        if split["in"][unit] != sum(s[unit] for s in split["out"].values()):
            raise FunnelMismatch(f"split stage {unit}: {split['in']} in, {split['out']} out")


def _skipped_note(stage: dict) -> str:
    """What of a stage did not run, for the terminal: all of it, or some of its checks."""
    skipped = stage.get("skipped")
    if not skipped:
        return ""
    if set(skipped) == set(dict(STAGE_REASONS)[stage["stage"]]):
        return "   (off)"
    return f"   (skipped: {', '.join(skipped)})"


def format_funnel(funnel: dict) -> str:
    """A short table of the funnel for the terminal."""
    lines = [f"{'stage / reason':<28}{'files':>12}{'MB':>12}"]

    def row(label: str, c: dict[str, int], note: str = "") -> None:
        lines.append(f"{label:<28}{c['files']:>12,}{c['bytes'] / 1e6:>12,.1f}{note}")

    row("input", funnel["input"])
    for stage in funnel["stages"]:
        for reason, c in stage.get("rejected", {}).items():
            if c["files"]:
                row(f"  - {reason}", c)
        if stage["stage"] == "split":
            for name, c in stage["out"].items():
                row(f"  = {name}", c)
        else:
            row(f"after {stage['stage']}", stage["out"], _skipped_note(stage))
    row("kept", funnel["kept"])
    return "\n".join(lines)


def warn_if_nothing_kept(counts: dict) -> None:
    """Warn on stderr when a run kept no file (the wrong input, most often).

    `counts` as a stage records them: files and bytes `in`, `kept`, and `rejected` per reason.
    """
    came_in, kept, rejected = counts["in"], counts["kept"], counts["rejected"]
    if kept["files"]:
        return
    if not came_in["files"]:
        print("warning: kept no files: the input holds no rows", file=sys.stderr)
        return
    reason, most = max(rejected.items(), key=lambda item: item[1]["files"])
    print(
        f"warning: kept no files: all {came_in['files']:,} were rejected, most as {reason} "
        f"({most['files']:,})",
        file=sys.stderr,
    )
