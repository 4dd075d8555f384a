"""Where a Spark application's time went, by job description, from its event log.

    spark-submit --conf spark.eventLog.enabled=true --conf spark.eventLog.dir=DIR \
        --conf spark.eventLog.compress=false jobs/near_dedup.py ...
    .venv/bin/python bench/event_log.py DIR

The jobs label their steps (`dataprep.session.job_description`); each step's time is the wall
time its jobs cover, from each one's submission to its end (jobs that overlap count once). A
step's jobs also run the lazy steps before it (the first step of near dedup reads the dump).
What no job covers (the JVM's start, planning, the driver's own work between jobs) is shown
as such.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

UNLABELLED = "(jobs without a description)"
DESCRIPTION = "spark.job.description"


def event_log_settings(folder: Path) -> dict[str, str]:
    """The Spark settings (--conf) that log an application's events to `folder`, readably here."""
    return {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": folder.resolve().as_uri(),
        "spark.eventLog.compress": "false",
    }


@dataclass
class Step:
    """The jobs of one description, as (submitted, ended) times in ms since the epoch."""

    jobs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Wall seconds that at least one of the step's jobs was running."""
        covered, reached = 0, float("-inf")
        for start, end in sorted(self.jobs):
            covered += max(end - max(start, reached), 0)  # only what no earlier job covered
            reached = max(reached, end)
        return covered / 1000


def read_events(folder: Path) -> list[dict]:
    """The events of every (uncompressed) event log file under `folder`, in file name order.

    Spark 4 writes a folder per application (eventlog_v2_*) with the events in events_* files,
    beside an empty appstatus_* marker and Hadoop's .crc checksums, which are skipped.
    """
    events = []
    files = (p for p in folder.rglob("*") if p.is_file())
    for path in sorted(p for p in files if not p.name.startswith((".", "appstatus_"))):
        if path.suffix in (".zstd", ".lz4", ".snappy", ".lzf"):
            raise ValueError(
                f"{path} is compressed: run the application with spark.eventLog.compress=false"
            )
        with path.open() as lines:
            events.extend(json.loads(line) for line in lines if line.strip())
    return events


def job_steps(events: list[dict]) -> tuple[dict[str, Step], float]:
    """The steps by description, in the order they started, and the application's seconds."""
    described: dict[int, str] = {}
    submitted: dict[int, int] = {}
    ended: dict[int, int] = {}
    times = {}
    for event in events:
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            times["start"] = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            times["end"] = event["Timestamp"]
        elif kind == "SparkListenerJobStart":
            job = event["Job ID"]
            submitted[job] = event["Submission Time"]
            described[job] = (event.get("Properties") or {}).get(DESCRIPTION) or UNLABELLED
        elif kind == "SparkListenerJobEnd":
            ended[event["Job ID"]] = event["Completion Time"]
    if "start" not in times or "end" not in times:
        raise ValueError("the event log has no application start or end: did the job finish?")
    steps: dict[str, Step] = {}
    for job in sorted(submitted, key=submitted.get):
        interval = (submitted[job], ended.get(job, times["end"]))
        steps.setdefault(described[job], Step()).jobs.append(interval)
    return steps, (times["end"] - times["start"]) / 1000


def print_steps(folder: Path, indent: str = "  ") -> None:
    """Print each step's seconds and share of the application's, from the log in `folder`."""
    steps, total = job_steps(read_events(folder))
    rows = [(f"{name} ({_jobs(len(step.jobs))})", step.seconds) for name, step in steps.items()]
    rows.append(("outside any job", total - sum(seconds for _, seconds in rows)))
    print(f"{indent}where the Spark application's {total:.1f} s went (its event log):")
    for label, seconds in rows:
        share = seconds / total if total > 0 else 0.0
        print(f"{indent}  {seconds:6.1f} s {share:4.0%}  {label}")


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="spark.eventLog.dir of one application")
    print_steps(parser.parse_args().folder)
