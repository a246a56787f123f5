"""Polling OCI for new or changed FOCUS reports.

Each tick lists the day folders of the lookback window, compares them with the event log using
the same pure diff the asset uses, and requests one run per day that has work. Cost per tick:
one OCI list call per page per day, and three event-log/run-storage queries whatever the
number of objects.
"""

import datetime as dt

import dagster as dg

from focus_pipeline.defs import state
from focus_pipeline.defs.jobs import focus_copy_job
from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
from focus_pipeline.lib.errors import OciAccessError
from focus_pipeline.lib.plan import folder_digest, plan_day

SENSOR_NAME = "oci_focus_reports_sensor"


def lookback_days(today: dt.date, lookback: int, first_day: dt.date) -> list[dt.date]:
    """Today and the ``lookback - 1`` days before it, never before the first partition."""
    days = [today - dt.timedelta(days=i) for i in range(lookback)]
    return [d for d in days if d >= first_day]


def build_sensor(
    partitions_def: dg.TimeWindowPartitionsDefinition,
    interval_seconds: int,
    lookback: int,
) -> dg.SensorDefinition:
    first_day = partitions_def.start.date()

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        target=focus_copy_job,
        description=(
            f"Every {interval_seconds}s, re-lists the last {lookback} OCI day folders and "
            "requests a run for each day with new or changed reports. Late files and "
            "rewritten objects are caught while their day is in the window."
        ),
    )
    def oci_focus_reports_sensor(
        context: dg.SensorEvaluationContext,
        oci: OciFocusReportsResource,
        s3: ByodS3Resource,
    ) -> dg.SensorResult:
        oci_layout, s3_layout = oci.layout(), s3.layout()
        days = lookback_days(state.today_utc(), lookback, first_day)
        keys = [d.isoformat() for d in days]
        source = oci.source()
        try:
            folders = source.list_folders([oci_layout.day_folder(d) for d in days])
        except Exception as exc:
            raise OciAccessError(oci.describe_error(exc)) from None
        listings = {d.isoformat(): folders[oci_layout.day_folder(d)] for d in days}

        copied = state.copied_files(context.instance, keys)
        observed = state.observed_folder_digests(context.instance, keys)
        active = state.days_with_active_runs(context.instance)

        run_requests: list[dg.RunRequest] = []
        events: list[dg.AssetObservation] = []
        for day in days:
            key = day.isoformat()
            listing = listings[key]
            digest = folder_digest(listing)
            if listing and observed.get(key) != digest:
                events.append(state.oci_folder_observation(key, listing))
            plan = plan_day(day, listing, copied[key], oci_layout, s3_layout)
            if not plan.needs_copy:
                continue
            if key in active:
                context.log.info(f"{key}: {len(plan.to_copy)} to copy; a run is already active")
                continue
            run_requests.append(
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"{key}:{digest}",
                    tags={"focus_pipeline/folder_digest": digest},
                )
            )
        context.log.info(
            f"Listed {len(days)} day folders in {source.list_calls} calls; "
            f"requested {len(run_requests)} runs"
        )
        return dg.SensorResult(run_requests=run_requests, asset_events=events)

    return oci_focus_reports_sensor
