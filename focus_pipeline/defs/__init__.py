"""Dagster definitions, laid out by role (partitions, resources, assets, checks, sensors, state)."""

from __future__ import annotations

import dagster as dg

from focus_pipeline.defs.alerts import build_alert_sensors
from focus_pipeline.defs.assets import (
    build_byod_focus_reports,
    day_retry_policy,
    oci_focus_reports_spec,
)
from focus_pipeline.defs.jobs import check_connectivity, focus_copy_job
from focus_pipeline.defs.partitions import daily_partitions
from focus_pipeline.defs.resources import build_resources
from focus_pipeline.defs.sensors import build_sensor
from focus_pipeline.lib.healing import progress_interval
from focus_pipeline.settings import FocusSettings


def build_definitions(settings: FocusSettings) -> dg.Definitions:
    partitions = daily_partitions(settings.start_date)
    byod = build_byod_focus_reports(
        partitions,
        day_retry_policy(settings.step_retries, settings.step_retry_delay_seconds),
        progress_interval(settings.stalled_run_seconds),
    )
    # Alerting is on by default once there is somewhere to send alerts to.
    alert_sensors = build_alert_sensors(settings) if settings.alert_urls else []
    return dg.Definitions(
        assets=[oci_focus_reports_spec(partitions), byod],
        sensors=[build_sensor(partitions, settings), *alert_sensors],
        resources=build_resources(settings),
        jobs=[focus_copy_job, check_connectivity],
    )
