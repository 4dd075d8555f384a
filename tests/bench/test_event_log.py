"""Where a Spark application's time went: job spans by description, from its event log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from event_log import UNLABELLED, Step, job_steps, read_events


def _job(job: int, start: int, end: int, description: str | None) -> list[dict]:
    properties = {"spark.job.description": description} if description else {}
    return [
        {"Event": "SparkListenerJobStart", "Job ID": job, "Submission Time": start,
         "Properties": properties},
        {"Event": "SparkListenerJobEnd", "Job ID": job, "Completion Time": end},
    ]  # fmt: skip


def test_a_steps_overlapping_jobs_count_once() -> None:
    assert Step([(0, 1000), (500, 1500), (3000, 3500)]).seconds == 2.0
    assert Step([(0, 4000), (1000, 2000)]).seconds == 4.0
    assert Step().seconds == 0.0


def test_job_steps_group_jobs_by_description_in_order(tmp_path: Path) -> None:
    events = [{"Event": "SparkListenerApplicationStart", "Timestamp": 0}]
    events += _job(0, 5000, 7000, "read") + _job(1, 7000, 8000, None)
    events += _job(2, 8000, 9000, "read") + _job(3, 9500, 12000, "write")
    events += [{"Event": "SparkListenerApplicationEnd", "Timestamp": 13000}]
    log = tmp_path / "eventlog_v2_app" / "events_1_app"
    log.parent.mkdir()
    log.write_text("\n".join(map(json.dumps, events)) + "\n")
    (log.parent / "appstatus_app").write_text("")  # what else Spark 4 writes there
    (log.parent / ".events_1_app.crc").write_bytes(b"crc\0\0")

    steps, seconds = job_steps(read_events(tmp_path))
    assert seconds == 13.0
    assert list(steps) == ["read", UNLABELLED, "write"]
    assert [step.seconds for step in steps.values()] == [3.0, 1.0, 2.5]
    assert len(steps["read"].jobs) == 2


def test_unfinished_or_compressed_logs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="did the job finish"):
        job_steps([{"Event": "SparkListenerApplicationStart", "Timestamp": 0}])
    (tmp_path / "app.zstd").write_bytes(b"\x28\xb5\x2f\xfd")
    with pytest.raises(ValueError, match="compress=false"):
        read_events(tmp_path)
