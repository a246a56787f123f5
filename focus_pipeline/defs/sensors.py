"""Polling OCI for new or changed FOCUS reports.

Each tick lists the day folders of the lookback window, compares them with the event log using
the same pure diff the asset uses, and requests one run per day that has work. Cost per tick:
one OCI list call per page per day, and three event-log/run-storage queries whatever the
number of objects.
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from focus_pipeline.defs import state
from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource, naming_for
from focus_pipeline.lib.errors import OciAccessError, describe_oci_error
from focus_pipeline.lib.plan import folder_digest, plan_day

SENSOR_NAME = "oci_focus_reports_sensor"
# Concurrent list calls per tick; OCI's per-tenancy request limits are far above this.
LIST_THREADS = 8


def lookback_days(today: dt.date, lookback: int, first_day: dt.date) -> list[dt.date]:
    """Today and the ``lookback - 1`` days before it, never before the first partition."""
    days = [today - dt.timedelta(days=i) for i in range(lookback)]
    return [d for d in days if d >= first_day]


def build_sensor(
    byod_asset: dg.AssetsDefinition,
    partitions_def: dg.TimeWindowPartitionsDefinition,
    interval_seconds: int,
    lookback: int,
) -> dg.SensorDefinition:
    first_day = partitions_def.start.date()

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        target=[byod_asset],
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
        naming = naming_for(oci, s3)
        days = lookback_days(state.today_utc(), lookback, first_day)
        keys = [d.isoformat() for d in days]
        source = oci.source()
        try:
            # Day folders are listed concurrently: at 100-200 ms per call to a remote region, a
            # long window listed one by one would eat into the 60 s sensor timeout.
            with ThreadPoolExecutor(min(LIST_THREADS, len(days) or 1)) as pool:
                folders = pool.map(lambda d: source.list(naming.day_folder(d)), days)
                listings = dict(zip(keys, folders, strict=True))
        except Exception as exc:
            raise OciAccessError(describe_oci_error(exc, oci.namespace, oci.bucket)) from None

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
            plan = plan_day(day, listing, copied[key], naming)
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
