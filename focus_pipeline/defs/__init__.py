"""Dagster definitions, laid out by role (partitions, resources, assets, checks, sensors, state)."""

from __future__ import annotations

import dagster as dg

from focus_pipeline.defs.alerts import build_alert_sensors
from focus_pipeline.defs.assets import (
    Catalog,
    build_byod_focus_reports,
    day_retry_policy,
    oci_focus_reports_spec,
)
from focus_pipeline.defs.checks import build_health_job
from focus_pipeline.defs.jobs import check_connectivity, focus_copy_job
from focus_pipeline.defs.partitions import daily_partitions
from focus_pipeline.defs.resources import build_resources
from focus_pipeline.defs.sensors import build_sensor
from focus_pipeline.lib.healing import progress_interval
from focus_pipeline.settings import FocusSettings


def catalog(settings: FocusSettings) -> Catalog:
    s3_path = f"{settings.s3_prefix}/" if settings.s3_prefix else ""
    return Catalog(
        oci_uri=f"oci://{settings.oci_namespace}@{settings.oci_bucket}/{settings.oci_prefix}",
        s3_uri=f"s3://{settings.s3_bucket}/{s3_path}",
        owners=tuple(settings.owner_list),
        freshness_fail_hours=settings.freshness_fail_hours,
    )


def build_definitions(settings: FocusSettings) -> dg.Definitions:
    partitions = daily_partitions(settings.start_date)
    about = catalog(settings)
    health_job = build_health_job(partitions, settings.late_after_minutes * 60)
    byod = build_byod_focus_reports(
        partitions,
        about,
        day_retry_policy(settings.step_retries, settings.step_retry_delay_seconds),
        progress_interval(settings.stalled_run_seconds),
    )
    assets = dg.with_source_code_references([oci_focus_reports_spec(partitions, about), byod])
    # Alerting is on by default once there is somewhere to send alerts to.
    alert_sensors = build_alert_sensors(settings) if settings.alert_urls else []
    return dg.Definitions(
        assets=assets,
        sensors=[build_sensor(partitions, settings, health_job), *alert_sensors],
        resources=build_resources(settings),
        jobs=[focus_copy_job, health_job, check_connectivity],
    )
