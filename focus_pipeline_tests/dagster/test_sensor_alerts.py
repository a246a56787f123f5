"""The OCI sensor's own alerts: a day turned late and its recovery, and a dead run, each told
once to a real local receiver."""

from __future__ import annotations

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions, runs, sensors
from focus_pipeline.defs.state import today_utc
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.dagster.test_alerts import assert_no_secret, exactly
from focus_pipeline_tests.dagster.test_sensors import put, tick
from focus_pipeline_tests.support.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def clock(monkeypatch):
    offset = [0.0]
    monkeypatch.setattr(sensors, "clock", lambda: __import__("time").time() + offset[0])
    return offset


def test_a_late_day_and_its_recovery_are_each_told_once(
    focus_env, oci_emulator, monkeypatch, receiver, clock
) -> None:
    for name, value in {
        "FOCUS_ALERT_URLS": receiver.url,
        "FOCUS_LATE_AFTER_MINUTES": "60",
        "FOCUS_FULL_SCAN_HOURS": "0",
        "FOCUS_FAILED_DAY_RETRY_SECONDS": "0",
        "FOCUS_LOOKBACK_DAYS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(load_settings())
    day = today_utc()
    put(oci_emulator, day, "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        tick(defs, instance)  # WARN: not late yet, nothing said
        clock[0] += 3601
        tick(defs, instance)
        tick(defs, instance)  # still late: said once
        [late] = exactly(receiver, 1)
        assert day.isoformat() in late.title + late.message and "late" in late.text.lower()

        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key=day.isoformat(),
            instance=instance,
            resources=defs.resources,
        )
        assert result.success
        tick(defs, instance)
        [_, recovered] = exactly(receiver, 2)
        assert day.isoformat() in recovered.title + recovered.message
        assert_no_secret(late.text, recovered.text)


def test_a_dead_run_is_told_once(focus_env, oci_emulator, monkeypatch, receiver, clock) -> None:
    monkeypatch.setenv("FOCUS_ALERT_URLS", receiver.url)
    monkeypatch.setenv("FOCUS_STALLED_RUN_SECONDS", "100")
    monkeypatch.setenv("FOCUS_FULL_SCAN_HOURS", "0")
    defs = build_definitions(load_settings())
    day = today_utc().isoformat()
    with dg.instance_for_test() as instance:
        dead = instance.add_run(
            dg.DagsterRun(
                job_name="focus_copy_job",
                run_id="dead-run-1",
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/partition": day},
            )
        )
        clock[0] += 101
        tick(defs, instance)
        tick(defs, instance)
        [message] = exactly(receiver, 1)
        assert dead.run_id in message.text and day in message.text
        assert instance.get_run_by_id(dead.run_id).tags[runs.DEAD_RUN_TAG] == "true"
