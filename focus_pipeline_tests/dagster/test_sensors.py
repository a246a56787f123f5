"""The polling sensor, evaluated as the daemon would, against a real instance and the emulator."""

import datetime as dt
import os

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.state import BYOD_ASSET, OCI_ASSET, today_utc
from focus_pipeline.lib.errors import OciAccessError
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY
from oci_emulator import Fault, OciEmulator

SENSOR = "oci_focus_reports_sensor"


def day(offset: int) -> dt.date:
    return today_utc() - dt.timedelta(days=offset)


def put(emu: OciEmulator, d: dt.date, name: str, data: bytes = b"x") -> None:
    emu.put_object(TENANCY, f"FOCUS Reports/{d:%Y/%m/%d}/{name}", data)


@pytest.fixture
def defs(focus_env) -> dg.Definitions:
    return build_definitions(load_settings())


CURSORS: dict[int, str | None] = {}


def tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult:
    """One evaluation, storing its observations and cursor as the daemon does after a tick."""
    sensor = defs.get_sensor_def(SENSOR)
    with dg.build_sensor_context(
        instance=instance, resources=defs.resources, cursor=CURSORS.get(id(instance))
    ) as context:
        result = sensor(context)
    CURSORS[id(instance)] = result.cursor
    for event in result.asset_events:
        instance.report_runless_asset_event(event)
    return result


def folder_events(result: dg.SensorResult) -> list[str]:
    """Days whose OCI folder the tick recorded (as materializations of oci_focus_reports)."""
    return [
        e.partition
        for e in result.asset_events
        if isinstance(e, dg.AssetMaterialization) and e.asset_key == OCI_ASSET
    ]


def copy_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests if r.job_name == "focus_copy_job"]


def requested(result: dg.SensorResult) -> list[str]:
    """Days the tick asked to copy (health runs aside)."""
    return sorted(r.partition_key for r in copy_requests(result))


def copy_day(defs: dg.Definitions, instance: dg.DagsterInstance, d: dt.date) -> None:
    result = dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=d.isoformat(),
        instance=instance,
        resources=defs.resources,
    )
    assert result.success


def test_new_changed_and_late_files_request_exactly_their_days(defs, oci_emulator) -> None:
    put(oci_emulator, day(0), "0001-00001.csv.gz")
    put(oci_emulator, day(2), "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        first = tick(defs, instance)
        assert requested(first) == sorted([day(0).isoformat(), day(2).isoformat()])
        for request in copy_requests(first):
            digest = request.tags["focus_pipeline/folder_digest"]
            assert request.run_key == f"{request.partition_key}:{digest}:0"
            assert request.tags["focus_pipeline/attempt"] == "0"

        copy_day(defs, instance, day(0))
        copy_day(defs, instance, day(2))
        assert requested(tick(defs, instance)) == []  # quiet tick

        put(oci_emulator, day(5), "0001-00001.csv.gz")  # a late file for an older day
        put(oci_emulator, day(2), "0001-00001.csv.gz", b"rewritten")  # new etag
        put(oci_emulator, day(9), "0001-00001.csv.gz")  # outside the 7-day window
        third = tick(defs, instance)
        assert requested(third) == sorted([day(2).isoformat(), day(5).isoformat()])
        old_key = next(
            r.run_key for r in copy_requests(first) if r.partition_key == day(2).isoformat()
        )
        new_key = next(
            r.run_key for r in copy_requests(third) if r.partition_key == day(2).isoformat()
        )
        assert old_key != new_key


def test_ticks_record_oci_observations_only_for_changed_days(defs, oci_emulator) -> None:
    put(oci_emulator, day(1), "0001-00001.csv.gz", b"abc")
    put(oci_emulator, day(1), "0001-00002.csv.gz", b"defg")
    with dg.instance_for_test() as instance:
        first = tick(defs, instance)
        assert folder_events(first) == [day(1).isoformat()]
        obs = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=OCI_ASSET, asset_partitions=[day(1).isoformat()]),
            limit=10,
        ).records
        assert len(obs) == 1
        meta = obs[0].asset_materialization.metadata
        assert meta["files"].value == 2 and meta["bytes"].value == 7
        tags = obs[0].asset_materialization.tags
        assert tags["dagster/data_version"] == meta["folder_digest"].value

        assert folder_events(tick(defs, instance)) == []
        put(oci_emulator, day(1), "0001-00003.csv.gz")
        assert folder_events(tick(defs, instance)) == [day(1).isoformat()]


@pytest.mark.parametrize("selection", [frozenset({BYOD_ASSET}), frozenset(), None])
def test_a_day_with_an_active_run_is_not_requested_again(defs, oci_emulator, selection) -> None:
    """Whether launched by the sensor (asset selection) or by `dg.materialize` (none)."""
    put(oci_emulator, day(0), "0001-00001.csv.gz")
    with dg.instance_for_test() as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name="__ASSET_JOB",
                run_id="running-run-1",
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/partition": day(0).isoformat()},
                asset_selection=selection,
            )
        )
        assert requested(tick(defs, instance)) == []


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(op="ListObjects", status=401), "401 NotAuthenticated"),
        (Fault(op="ListObjects", status=404, code="BucketNotFound"), "cross-tenancy policy"),
        (Fault(op="ListObjects", status=429), "throttled"),
    ],
)
def test_oci_errors_fail_the_tick_with_one_actionable_sentence(
    defs, oci_emulator, monkeypatch, fault, expected
) -> None:
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "0")
    defs = build_definitions(load_settings())
    oci_emulator.faults.add(fault)
    with dg.instance_for_test() as instance, pytest.raises(OciAccessError) as err:
        tick(defs, instance)
    assert expected in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    oci_emulator.faults.clear()
    with dg.instance_for_test() as instance:
        assert requested(tick(defs, instance)) == []  # the next tick recovers on its own


def test_unreachable_oci_names_the_endpoint_setting(focus_env, monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_OCI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "0")
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance, pytest.raises(OciAccessError) as err:
        tick(defs, instance)
    assert "could not be reached" in str(err.value) and "FOCUS_OCI_ENDPOINT" in str(err.value)


def test_window_size_follows_the_lookback_setting(focus_env, oci_emulator, monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_LOOKBACK_DAYS", "2")
    monkeypatch.setenv("FOCUS_FULL_SCAN_HOURS", "0")
    defs = build_definitions(load_settings())
    put(oci_emulator, day(1), "a.csv.gz")
    put(oci_emulator, day(2), "a.csv.gz")
    oci_emulator.clear_requests()
    with dg.instance_for_test() as instance:
        assert requested(tick(defs, instance)) == [day(1).isoformat()]
    assert oci_emulator.count(op="ListObjects") == 2
    assert os.environ["FOCUS_LOOKBACK_DAYS"] == "2"
