"""Checks per day: a failed day stays red while later days pass; `day_up_to_date` turns WARN,
then ERROR, then passes after the copy."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions, checks, sensors, state
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.dagster.test_sensors import put, tick

OLD_DAY, NEXT_DAY = "2024-11-27", "2024-11-28"


def latest_by_partition(instance: dg.DagsterInstance, name: str) -> dict[str, bool]:
    """The newest recorded result of check ``name`` for each day, read from the instance."""
    key = dg.AssetCheckKey(state.BYOD_ASSET, name)
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=100)
    latest: dict[str, bool] = {}
    for record in history:  # newest first
        if record.partition not in latest and record.evaluation is not None:
            latest[record.partition] = record.evaluation.passed
    return latest


def materialize(defs: dg.Definitions, instance: dg.DagsterInstance, day: str) -> bool:
    return dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=day,
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    ).success


def test_a_failed_day_stays_failed_while_the_next_day_passes(focus_env, oci_emulator) -> None:
    defs = build_definitions(load_settings())
    for day in (OLD_DAY, NEXT_DAY):
        put(oci_emulator, dt.date.fromisoformat(day), "0001-00001.csv.gz")
    put(oci_emulator, dt.date.fromisoformat(OLD_DAY), "sub/not-a-report.csv.gz")
    with dg.instance_for_test() as instance:
        assert materialize(defs, instance, OLD_DAY)
        assert materialize(defs, instance, NEXT_DAY)
        results = latest_by_partition(instance, checks.NO_UNEXPECTED_OBJECTS)
        assert results == {OLD_DAY: False, NEXT_DAY: True}
        assert latest_by_partition(instance, checks.ALL_REPORTS_COPIED) == {
            OLD_DAY: True,
            NEXT_DAY: True,
        }


def test_day_up_to_date_warns_then_errors_then_passes(
    focus_env, oci_emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sensors, "clock", lambda: time.time() + offset[0])
    offset = [0.0]  # the sensor's clock, moved instead of sleeping
    monkeypatch.setenv("FOCUS_LATE_AFTER_MINUTES", "60")
    monkeypatch.setenv("FOCUS_FULL_SCAN_HOURS", "0")
    monkeypatch.setenv("FOCUS_FAILED_DAY_RETRY_SECONDS", "0")
    defs = build_definitions(load_settings())
    today = state.today_utc()
    day = today.isoformat()
    health_job = defs.resolve_job_def("focus_health_job")

    def run_health(request: dg.RunRequest) -> None:
        result = health_job.execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags
        )
        assert result.success

    def health_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
        return [r for r in result.run_requests if r.job_name == "focus_health_job"]

    with dg.instance_for_test() as instance:
        assert health_requests(tick(defs, instance)) == []  # fine days are not reported
        put(oci_emulator, today, "0001-00001.csv.gz")
        [warn] = health_requests(tick(defs, instance))
        run_health(warn)
        assert latest_by_partition(instance, checks.DAY_UP_TO_DATE)[day] is False
        record = instance.event_log_storage.get_asset_check_execution_history(
            checks.DAY_UP_TO_DATE_KEY, limit=1
        )[0]
        assert record.evaluation.severity == dg.AssetCheckSeverity.WARN

        assert health_requests(tick(defs, instance)) == []  # still WARN: nothing new to say
        offset[0] += 3601
        [error] = health_requests(tick(defs, instance))
        run_health(error)
        record = instance.event_log_storage.get_asset_check_execution_history(
            checks.DAY_UP_TO_DATE_KEY, limit=1
        )[0]
        assert record.evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert "(late)" in (record.evaluation.description or "")

        assert materialize(defs, instance, day)
        [recovered] = health_requests(tick(defs, instance))
        run_health(recovered)
        assert latest_by_partition(instance, checks.DAY_UP_TO_DATE)[day] is True
