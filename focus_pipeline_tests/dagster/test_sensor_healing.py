"""The sensor heals: dead runs are failed, failed days retried with backoff, and days outside
the window compared by the full scan."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions, runs, sensors
from focus_pipeline.defs.state import today_utc
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.dagster.test_sensors import copy_requests, put, requested, tick

DAY = today_utc()


def defs_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dg.Definitions:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return build_definitions(load_settings())


def add_run(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus, **tags: str
) -> dg.DagsterRun:
    run = dg.DagsterRun(
        job_name="focus_copy_job",
        run_id=f"run-{len(instance.get_runs())}",
        status=status,
        tags={"dagster/partition": DAY.isoformat(), **tags},
    )
    return instance.add_run(run)


def digest_requested_by(defs: dg.Definitions, instance: dg.DagsterInstance) -> str:
    [request] = copy_requests(tick(defs, instance))
    return request.tags[runs.DIGEST_TAG]


class Clock:
    """The sensor's clock, moved by the test instead of sleeping: waits are judged the same
    however slow the machine is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        monkeypatch.setattr(sensors, "clock", lambda: time.time() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def test_a_run_that_stopped_recording_progress_is_failed_and_its_day_requested(
    focus_env, oci_emulator, monkeypatch
) -> None:
    clock = Clock(monkeypatch)
    defs = defs_with(monkeypatch, FOCUS_STALLED_RUN_SECONDS="100", FOCUS_FULL_SCAN_HOURS="0")
    put(oci_emulator, DAY, "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        digest = digest_requested_by(defs, instance)
        dead = add_run(
            instance,
            dg.DagsterRunStatus.STARTED,
            **{runs.DIGEST_TAG: digest, runs.ATTEMPT_TAG: "0"},
        )
        clock.advance(101)
        result = tick(defs, instance)
        run = instance.get_run_by_id(dead.run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert run.tags[runs.DEAD_RUN_TAG] == "true"
        failure = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "No progress recorded for" in failure[-1].dagster_event.message
        [request] = copy_requests(result)
        assert request.partition_key == DAY.isoformat()
        assert request.tags[runs.ATTEMPT_TAG] == "1"
        assert request.run_key == f"{DAY.isoformat()}:{digest}:1"


def test_a_live_run_is_left_alone(focus_env, oci_emulator, monkeypatch) -> None:
    defs = defs_with(monkeypatch, FOCUS_STALLED_RUN_SECONDS="60", FOCUS_FULL_SCAN_HOURS="0")
    put(oci_emulator, DAY, "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        live = add_run(instance, dg.DagsterRunStatus.STARTED)
        assert requested(tick(defs, instance)) == []
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED])
def test_a_failed_or_cancelled_day_is_requested_again_after_its_wait(
    focus_env, oci_emulator, monkeypatch, status
) -> None:
    clock = Clock(monkeypatch)
    defs = defs_with(monkeypatch, FOCUS_FAILED_DAY_RETRY_SECONDS="100", FOCUS_FULL_SCAN_HOURS="0")
    put(oci_emulator, DAY, "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        digest = digest_requested_by(defs, instance)
        add_run(instance, status, **{runs.DIGEST_TAG: digest, runs.ATTEMPT_TAG: "0"})
        assert requested(tick(defs, instance)) == []  # within the wait
        clock.advance(101)
        [request] = copy_requests(tick(defs, instance))
        assert request.tags[runs.ATTEMPT_TAG] == "1"
        # The second failure waits twice as long.
        add_run(instance, status, **{runs.DIGEST_TAG: digest, runs.ATTEMPT_TAG: "1"})
        assert requested(tick(defs, instance)) == []  # 101 s after it ended: not 200 yet
        clock.advance(100)
        assert copy_requests(tick(defs, instance))[0].tags[runs.ATTEMPT_TAG] == "2"


def test_the_full_scan_finds_a_day_outside_the_window_then_waits(
    focus_env, oci_emulator, monkeypatch
) -> None:
    clock = Clock(monkeypatch)
    old = DAY - dt.timedelta(days=10)
    monkeypatch.setenv("FOCUS_START_DATE", (DAY - dt.timedelta(days=40)).isoformat())
    defs = defs_with(monkeypatch, FOCUS_LOOKBACK_DAYS="3", FOCUS_FULL_SCAN_HOURS="1")
    put(oci_emulator, old, "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        oci_emulator.clear_requests()
        assert requested(tick(defs, instance)) == [old.isoformat()]
        # Every day from the start date was compared exactly once, the window included.
        assert oci_emulator.count(op="ListObjects") == 41
        oci_emulator.clear_requests()
        clock.advance(3500)
        assert requested(tick(defs, instance)) == []  # the scan is done for its period
        assert oci_emulator.count(op="ListObjects") == 3
        clock.advance(200)
        assert requested(tick(defs, instance)) == [old.isoformat()]  # no run copied it yet


def test_a_scan_spreads_over_ticks_when_one_cannot_hold_it(
    focus_env, oci_emulator, monkeypatch
) -> None:
    from focus_pipeline.defs import sensors

    monkeypatch.setattr(sensors, "SCAN_BUDGET_SECONDS", 0)  # one chunk per tick
    monkeypatch.setenv("FOCUS_START_DATE", (DAY - dt.timedelta(days=70)).isoformat())
    defs = defs_with(monkeypatch, FOCUS_LOOKBACK_DAYS="3", FOCUS_FULL_SCAN_HOURS="24")
    oldest, middle = DAY - dt.timedelta(days=70), DAY - dt.timedelta(days=35)
    put(oci_emulator, oldest, "a.csv.gz")
    put(oci_emulator, middle, "a.csv.gz")
    with dg.instance_for_test() as instance:
        found = [requested(tick(defs, instance)) for _ in range(4)]
    assert found[0] == [oldest.isoformat()]  # days 70..40 ago
    assert found[1] == [middle.isoformat()]  # days 39..9 ago
    assert found[2] == [] and found[3] == []  # the rest, then done until tomorrow
