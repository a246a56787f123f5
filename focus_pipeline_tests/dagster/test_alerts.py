"""The alert sensors against a real instance, the OCI emulator, moto and a local webhook
receiver: one message per failed copy run, one when the OCI sensor keeps failing and one when
it recovers, none that names a URL or a token, and nothing that fails when the receiver is
down. The daemon itself drives them in e2e/test_alerts_daemon.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
import uuid

import dagster as dg
import pytest

# Private Dagster types, in the tests only: ticks are recorded here exactly as the sensor
# daemon records them (the package itself reads them through the instance's public methods).
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    SensorInstigatorData,
    TickData,
    TickStatus,
)
from dagster._utils.error import serializable_error_info_from_exc_info

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.alerts import RUN_FAILURE_SENSOR, TICK_WATCH_SENSOR, run_days
from focus_pipeline.defs.jobs import COPY_JOB_NAME
from focus_pipeline.defs.resources import AlertsResource
from focus_pipeline.defs.runs import DEAD_RUN_TAG
from focus_pipeline.defs.sensors import SENSOR_NAME
from focus_pipeline.defs.state import BYOD_ASSET, today_utc
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY
from focus_pipeline_tests.support.receiver import FAKE_TOKEN, Receiver, closed_port_url
from oci_emulator import Fault

UI = "https://dagster.example.com"
LOCATION = "focus_pipeline"
REPOSITORY = "__repository__"
# Long enough for a second, unwanted message to arrive if one were sent.
QUIET_SECONDS = 1.0


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def alerting_defs(monkeypatch, urls: str, **env: str) -> dg.Definitions:
    monkeypatch.setenv("FOCUS_ALERT_URLS", urls)
    monkeypatch.setenv("FOCUS_UI_URL", UI)
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "0")
    # Ticks list two day folders and no more: a full scan since FOCUS_START_DATE is not
    # what these tests are about.
    monkeypatch.setenv("FOCUS_LOOKBACK_DAYS", "2")
    monkeypatch.setenv("FOCUS_FULL_SCAN_HOURS", "0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return build_definitions(load_settings())


def exactly(receiver: Receiver, count: int) -> list:
    received = receiver.wait_for(count)
    time.sleep(QUIET_SECONDS)
    assert len(receiver.received) == count, [r.title for r in receiver.received]
    return received


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert FAKE_TOKEN not in text and "json://" not in text
        assert "FOCUS_ALERT_URLS" not in text


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("focus_pipeline")
    ]


def test_alert_sensors_exist_only_with_urls_and_run_by_default(focus_env, monkeypatch) -> None:
    monkeypatch.delenv("FOCUS_ALERT_URLS", raising=False)
    quiet = build_definitions(load_settings())
    names = {s.name for s in quiet.sensors}
    assert RUN_FAILURE_SENSOR not in names and TICK_WATCH_SENSOR not in names
    assert not quiet.resources["alerts"].enabled()

    defs = alerting_defs(monkeypatch, "json://127.0.0.1:9/hooks/x")
    for name in (RUN_FAILURE_SENSOR, TICK_WATCH_SENSOR):
        sensor = defs.get_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.required_resource_keys == {"alerts"}
    # The URLs reach Dagster as a reference to the variable, never as a value.
    urls = defs.resources["alerts"].urls
    assert isinstance(urls, dg.EnvVar) and urls.env_var_name == "FOCUS_ALERT_URLS"


# --- failed copy runs ------------------------------------------------------------------------


def failed_copy(defs: dg.Definitions, instance: dg.DagsterInstance, day: dt.date, job: str):
    """A copy of ``day`` that fails: the destination bucket does not exist."""
    if job == COPY_JOB_NAME:
        result = defs.resolve_job_def(COPY_JOB_NAME).execute_in_process(
            partition_key=day.isoformat(), instance=instance, raise_on_error=False
        )
    else:  # launched from the asset's page: Dagster's implicit asset job
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            partition_key=day.isoformat(),
            instance=instance,
            asset_selection=[BYOD_ASSET],
            raise_on_error=False,
        )
    assert not result.success
    return result


def evaluate_run_failure_sensor(defs, instance, result) -> None:
    """One evaluation, as the daemon makes it for each failed run of the code location."""
    context = dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE_SENSOR,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.dagster_run.run_id),
        dagster_event=result.get_run_failure_event(),
        resources={"alerts": defs.resources["alerts"]},
    )
    assert defs.get_sensor_def(RUN_FAILURE_SENSOR)(context) is None


@pytest.mark.parametrize("job", [COPY_JOB_NAME, "__ASSET_JOB"])
def test_a_failed_copy_run_is_one_message_naming_day_reason_run_and_link(
    focus_env, oci_emulator, monkeypatch, receiver, job
) -> None:
    day = today_utc() - dt.timedelta(days=1)
    oci_emulator.put_object(TENANCY, f"FOCUS Reports/{day:%Y/%m/%d}/0001-00001.csv.gz", b"x")
    defs = alerting_defs(
        monkeypatch, receiver.url, FOCUS_S3_BUCKET=f"byod-missing-{uuid.uuid4().hex[:8]}"
    )
    with dg.instance_for_test() as instance:
        result = failed_copy(defs, instance, day, job)
        evaluate_run_failure_sensor(defs, instance, result)
        [message] = exactly(receiver, 1)
    run_id = result.dagster_run.run_id
    assert day.isoformat() in message.title and "failed" in message.title
    assert f"Day: {day.isoformat()}" in message.message
    assert f"Run: {run_id}" in message.message
    assert f"Link: {UI}/runs/{run_id}" in message.message
    assert "byod-missing-" in message.message  # the reason: the bucket the copy could not use
    assert message.body["type"] == "failure"
    assert_no_secret(message.text)


def test_dead_runs_and_other_jobs_get_no_run_failure_message(
    focus_env, oci_emulator, monkeypatch, receiver
) -> None:
    day = today_utc()
    oci_emulator.put_object(TENANCY, f"FOCUS Reports/{day:%Y/%m/%d}/0001-00001.csv.gz", b"x")
    defs = alerting_defs(
        monkeypatch, receiver.url, FOCUS_S3_BUCKET=f"byod-missing-{uuid.uuid4().hex[:8]}"
    )
    with dg.instance_for_test() as instance:
        dead = failed_copy(defs, instance, day, COPY_JOB_NAME)
        # The OCI sensor marks a dead run so, and sends the dead-run message itself.
        instance.add_run_tags(dead.dagster_run.run_id, {DEAD_RUN_TAG: "true"})
        evaluate_run_failure_sensor(defs, instance, dead)
        check = defs.resolve_job_def("check_connectivity").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert not check.success
        evaluate_run_failure_sensor(defs, instance, check)
    exactly(receiver, 0)


def test_a_receiver_that_is_down_fails_nothing_and_leaves_one_warning(
    focus_env, oci_emulator, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.INFO)
    day = today_utc()
    oci_emulator.put_object(TENANCY, f"FOCUS Reports/{day:%Y/%m/%d}/0001-00001.csv.gz", b"x")
    url = closed_port_url()
    defs = alerting_defs(monkeypatch, url, FOCUS_S3_BUCKET=f"byod-missing-{uuid.uuid4().hex[:8]}")
    with dg.instance_for_test() as instance:
        result = failed_copy(defs, instance, day, COPY_JOB_NAME)
        caplog.clear()
        evaluate_run_failure_sensor(defs, instance, result)  # returns, does not raise
    [warning] = our_warnings(caplog)
    assert "copy run failed" in warning and "json://…" in warning
    assert FAKE_TOKEN not in caplog.text and url not in caplog.text


def test_a_range_run_names_every_day() -> None:
    tags = {
        "dagster/asset_partition_range_start": "2024-11-01",
        "dagster/asset_partition_range_end": "2024-11-30",
    }
    assert run_days(tags) == [f"2024-11-{d:02d}" for d in range(1, 31)]
    assert run_days({"dagster/partition": "2024-11-28"}) == ["2024-11-28"]
    assert run_days({}) == []


def test_without_urls_the_resource_does_nothing(receiver) -> None:
    quiet = AlertsResource(urls=None)
    assert not quiet.enabled()
    assert quiet.run_failed(["2024-11-28"], "boom", "run-1") is False
    assert quiet.day_late("2024-11-28", "late") is False
    assert quiet.day_recovered("2024-11-28") is False
    assert quiet.dead_run("run-1", "2024-11-28", "dead") is False
    assert quiet.sensor_failing(3, "boom") is False
    assert quiet.sensor_recovered() is False
    exactly(receiver, 0)


def test_the_resource_sends_late_recovered_and_dead_run_messages(receiver) -> None:
    loud = AlertsResource(urls=receiver.url, ui_url=UI)
    assert loud.day_late("2024-11-28", "2 of 5 reports missing")
    assert loud.day_recovered("2024-11-28")
    assert loud.dead_run("run-1", "2024-11-28", "No progress recorded for 900s")
    late, recovered, dead = exactly(receiver, 3)
    assert "2024-11-28 is late" in late.title and late.body["type"] == "warning"
    assert "2024-11-28 recovered" in recovered.title and recovered.body["type"] == "success"
    assert f"{UI}/runs/run-1" in dead.message
    assert_no_secret(late.text, recovered.text, dead.text)


# --- the OCI sensor's ticks ------------------------------------------------------------------


class TickRecorder:
    """Evaluates the OCI sensor and records each tick's outcome in the instance as the sensor
    daemon does: under the sensor's instigator state, origin id and selector id."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, location: str):
        self.defs, self.instance = defs, instance
        self.code_location = RegisteredCodeLocationOrigin(location)
        origin = RemoteRepositoryOrigin(self.code_location, REPOSITORY).get_instigator_origin(
            SENSOR_NAME
        )
        state = InstigatorState(
            origin,
            InstigatorType.SENSOR,
            InstigatorStatus.DECLARED_IN_CODE,
            SensorInstigatorData(min_interval=1, last_sensor_start_timestamp=time.time()),
        )
        instance.add_instigator_state(state)
        self.origin_id, self.selector_id = state.instigator_origin_id, state.selector_id

    def tick(self) -> None:
        sensor = self.defs.get_sensor_def(SENSOR_NAME)
        error = None
        try:
            with dg.build_sensor_context(
                instance=self.instance, resources=self.defs.resources
            ) as context:
                result = sensor(context)
            status = TickStatus.SUCCESS if result.run_requests else TickStatus.SKIPPED
        except Exception:
            status, error = (
                TickStatus.FAILURE,
                serializable_error_info_from_exc_info(sys.exc_info()),
            )
        self.instance.create_tick(
            TickData(
                instigator_origin_id=self.origin_id,
                instigator_name=SENSOR_NAME,
                instigator_type=InstigatorType.SENSOR,
                status=status,
                timestamp=time.time(),
                selector_id=self.selector_id,
                error=error,
                skip_reason="nothing to copy" if status == TickStatus.SKIPPED else None,
            )
        )


class Watcher:
    """Evaluates the tick watcher as the daemon does: in the code location, with its cursor."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, location) -> None:
        self.defs, self.instance, self.location = defs, instance, location
        self.cursor: str | None = None

    def look(self) -> None:
        with dg.SensorEvaluationContext(
            instance_ref=None,
            instance=self.instance,
            cursor=self.cursor,
            repository_name=REPOSITORY,
            sensor_name=TICK_WATCH_SENSOR,
            resources=self.defs.resources,
            code_location_origin=self.location,
        ) as context:
            result = self.defs.get_sensor_def(TICK_WATCH_SENSOR)(context)
            assert isinstance(result, dg.SkipReason)
            self.cursor = context.cursor


def test_n_failed_ticks_are_one_message_and_recovery_one_more(
    focus_env, oci_emulator, monkeypatch, receiver
) -> None:
    defs = alerting_defs(monkeypatch, receiver.url, FOCUS_ALERT_AFTER_FAILED_TICKS="3")
    with dg.instance_for_test() as instance:
        ours = TickRecorder(defs, instance, LOCATION)
        # The same sensor in another code location of the instance, failing: not ours.
        other = TickRecorder(defs, instance, "another_location")
        watcher = Watcher(defs, instance, ours.code_location)

        oci_emulator.faults.add(Fault(op="ListObjects", status=401))
        for _ in range(2):
            ours.tick()
            watcher.look()
        other.tick()
        exactly(receiver, 0)  # two failures are not yet an alert

        for _ in range(4):  # the third failure alerts; the ones after do not
            ours.tick()
            watcher.look()
        [failing] = exactly(receiver, 1)

        oci_emulator.faults.clear()
        for _ in range(3):
            ours.tick()
            watcher.look()
        failing_again, recovered = exactly(receiver, 2)
    assert failing_again == failing
    assert "failed 3 ticks in a row" in failing.title
    assert SENSOR_NAME in failing.message and "401 NotAuthenticated" in failing.message
    assert "OciAccessError: " in failing.message and "focus_pipeline.lib" not in failing.message
    assert failing.body["type"] == "failure"
    assert "recovered" in recovered.title and recovered.body["type"] == "success"
    assert_no_secret(failing.text, recovered.text)


def test_the_watcher_says_nothing_before_the_sensor_ticks(focus_env, monkeypatch, receiver):
    defs = alerting_defs(monkeypatch, receiver.url)
    with dg.instance_for_test() as instance:
        Watcher(defs, instance, RegisteredCodeLocationOrigin(LOCATION)).look()
    exactly(receiver, 0)


def test_an_undelivered_sensor_alert_is_tried_again_and_never_fails_the_tick(
    focus_env, oci_emulator, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.INFO)
    url = closed_port_url()
    defs = alerting_defs(monkeypatch, url, FOCUS_ALERT_AFTER_FAILED_TICKS="1")
    oci_emulator.faults.add(Fault(op="ListObjects", status=401))
    with dg.instance_for_test() as instance:
        ours = TickRecorder(defs, instance, LOCATION)
        watcher = Watcher(defs, instance, ours.code_location)
        ours.tick()
        caplog.clear()
        watcher.look()
        assert len(our_warnings(caplog)) == 1
        assert "sensor failing" in our_warnings(caplog)[0]
        assert FAKE_TOKEN not in caplog.text and url not in caplog.text

        # The receiver is back: the alert that could not be delivered goes out now, once.
        with Receiver() as back:
            monkeypatch.setenv("FOCUS_ALERT_URLS", back.url)
            watcher.defs = build_definitions(load_settings())
            watcher.look()
            watcher.look()
            [message] = exactly(back, 1)
    assert "failed 1 ticks in a row" in message.title
