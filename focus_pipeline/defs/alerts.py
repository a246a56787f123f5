"""Alerts, self-hosted: a failed copy run, and an OCI sensor that keeps failing, told through
Apprise to wherever ``FOCUS_ALERT_URLS`` points (Slack, Teams, email, PagerDuty, webhooks).

* :class:`AlertsResource` (resource key ``alerts``) sends one message per event; with no URLs
  it does nothing, so any code may call it unconditionally. The late-day and dead-run
  messages are sent by the OCI sensor through it.
* ``focus_copy_failure_alerts``: Dagster's own run-failure hook (the daemon calls it once per
  failed run, from a cursor it keeps), for copy runs: runs of ``focus_copy_job`` and runs of
  the implicit asset job that materialise ``byod_focus_reports`` (UI, ``dg launch``).
* ``oci_sensor_tick_alerts``: reads the OCI sensor's recent ticks from the instance and says
  once that it is failing, after ``FOCUS_ALERT_AFTER_FAILED_TICKS`` failed ticks in a row,
  and once that it recovered; its cursor remembers which it said last.

Both sensors are defined only when ``FOCUS_ALERT_URLS`` is set, and run by default. Dagster+
users can use its alert policies instead (``deploy/dagster-plus/alert_policies.yaml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg

from focus_pipeline.defs.resources import AlertsResource
from focus_pipeline.defs.runs import DEAD_RUN_TAG, targets_copy
from focus_pipeline.defs.state import PARTITION_TAG
from focus_pipeline.lib import alerts as lib_alerts
from focus_pipeline.settings import FocusSettings

RUN_FAILURE_SENSOR = "focus_copy_failure_alerts"
TICK_WATCH_SENSOR = "oci_sensor_tick_alerts"
# Dagster's tags on a run that covers a range of partitions (a backfill run of several days).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
# The implicit job Dagster runs assets in when they are launched without a named job.
ASSET_JOB_PREFIX = "__ASSET_JOB"
# How often the alert sensors look (never less often than the OCI sensor ticks): a failure is
# told within this long; each look is a couple of storage queries.
ALERT_INTERVAL_SECONDS = 30
# A range run's days are listed from its start and end tags: bounded, whatever the tags say.
MAX_RANGE_DAYS = 3660


# --- what a failed run or tick says ----------------------------------------------------------


def is_copy_run(run: dg.DagsterRun, copy_job: str) -> bool:
    """A run that copies days: the named job, or the implicit asset job on the copy asset."""
    if run.job_name == copy_job:
        return True
    return run.job_name.startswith(ASSET_JOB_PREFIX) and targets_copy(run)


def run_days(tags: Mapping[str, str]) -> list[str]:
    """The days a run copies: its partition, or every day of its partition range."""
    if tags.get(PARTITION_TAG):
        return [tags[PARTITION_TAG]]
    start, end = tags.get(PARTITION_RANGE_START_TAG), tags.get(PARTITION_RANGE_END_TAG)
    if not (start and end):
        return []
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return [start, end]
    count = min((last - first).days + 1, MAX_RANGE_DAYS)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range(max(count, 1))]


def error_text(error: Any) -> str:
    """An error's innermost cause (the user's exception, not Dagster's wrapper), as text."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return str(getattr(error, "message", "") or "").strip()


def failure_reason(context: dg.RunFailureSensorContext) -> str:
    """Why the run failed: each failed step's description or exception, else the run's
    failure message (a run that died before any step, or was failed by run monitoring)."""
    lines = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        user = getattr(data, "user_failure_data", None)
        text = (getattr(user, "description", None) or "").strip() or error_text(data.error)
        lines.append(f"{event.step_key}: {text}" if event.step_key else text)
    if not lines:
        lines.append(context.failure_event.message or "")
        data = context.failure_event.event_specific_data
        cause = error_text(getattr(data, "error", None))
        if cause:
            lines.append(cause)
    return "\n".join(lines)


def recent_ticks(
    context: dg.SensorEvaluationContext, sensor: str, limit: int
) -> list[lib_alerts.Tick]:
    """The newest finished ticks of ``sensor`` in this code location, newest first.

    Ticks are stored under the sensor's origin and selector ids; its instigator state (which
    the daemon creates on its first tick) carries both. Evaluated outside the daemon (tests),
    the context knows no code location, and the instance's own state of that name is used.
    """
    instance = context.instance
    origin = context.code_location_origin
    if origin is not None and context.repository_name:
        selector = dg.RepositorySelector(
            location_name=origin.location_name, repository_name=context.repository_name
        )
        states = instance.all_instigator_state(repository_selector_id=selector.selector_id)
    else:
        states = instance.all_instigator_state()
    state = next((s for s in states if s.instigator_name == sensor), None)
    if state is None:  # the sensor has not ticked yet
        return []
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=limit)
    return [
        lib_alerts.Tick(failed=t.status.value == lib_alerts.TICK_FAILED, error=error_text(t.error))
        for t in ticks
        if t.status.value in lib_alerts.TICK_FINISHED
    ]


# --- the sensors -----------------------------------------------------------------------------


def build_run_failure_sensor(copy_job: str, interval: int) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name=RUN_FAILURE_SENSOR,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Sends one alert (FOCUS_ALERT_URLS) per failed copy run: runs of {copy_job} and "
            "asset runs of byod_focus_reports, naming the day, the reason and the run. Runs "
            "found dead are told by the OCI sensor instead."
        ),
    )
    def focus_copy_failure_alerts(
        context: dg.RunFailureSensorContext, alerts: AlertsResource
    ) -> None:
        # Returns nothing: a return value would end the tick after this run, and the daemon
        # hands this function each failed run of the code location, one call per run.
        run = context.dagster_run
        if not is_copy_run(run, copy_job) or run.tags.get(DEAD_RUN_TAG) == "true":
            return
        days = run_days(run.tags)
        sent = alerts.run_failed(days, failure_reason(context), run.run_id, run.job_name)
        if sent:
            context.log.info(f"Alert sent: run {run.run_id} of {', '.join(days)} failed")

    return focus_copy_failure_alerts


def build_tick_watcher(sensor: str, threshold: int, interval: int) -> dg.SensorDefinition:
    @dg.sensor(
        name=TICK_WATCH_SENSOR,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Sends one alert (FOCUS_ALERT_URLS) when the last {threshold} ticks of {sensor} "
            "failed, and one when it recovers; never one per tick."
        ),
    )
    def oci_sensor_tick_alerts(
        context: dg.SensorEvaluationContext, alerts: AlertsResource
    ) -> dg.SkipReason:
        said = lib_alerts.TickWatch.from_json(context.cursor)
        # One more than the streak: a tick in progress is not counted.
        ticks = recent_ticks(context, sensor, threshold + 1)
        verdict = lib_alerts.judge_ticks(said, ticks, threshold)
        # The state moves only once a message is delivered: an undelivered alert is tried
        # again on the next look (each failure to deliver is one warning line).
        now = said
        if verdict.event == "failing":
            if alerts.sensor_failing(verdict.failed_in_a_row, verdict.reason, sensor):
                now = lib_alerts.TickWatch(alerted=True)
        elif verdict.event == "recovered" and alerts.sensor_recovered(sensor):
            now = lib_alerts.TickWatch(alerted=False)
        context.update_cursor(now.to_json())
        return dg.SkipReason(
            f"{sensor}: {verdict.failed_in_a_row} failed tick(s) in a row; "
            + (f"alert '{verdict.event}' sent" if now != said else "no alert due")
        )

    return oci_sensor_tick_alerts


def build_alert_sensors(settings: FocusSettings) -> list[dg.SensorDefinition]:
    """The alert sensors, for ``build_definitions`` to add when ``FOCUS_ALERT_URLS`` is set."""
    # Imported here: ``jobs`` and ``sensors`` import ``resources``, which registers the
    # resource above, so importing them at the top would be circular.
    from focus_pipeline.defs.jobs import COPY_JOB_NAME
    from focus_pipeline.defs.sensors import SENSOR_NAME

    interval = min(ALERT_INTERVAL_SECONDS, settings.poll_interval_seconds)
    return [
        build_run_failure_sensor(COPY_JOB_NAME, interval),
        build_tick_watcher(SENSOR_NAME, settings.alert_after_failed_ticks, interval),
    ]
