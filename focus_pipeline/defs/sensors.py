"""Polling OCI for new or changed FOCUS reports, and healing what went wrong.

Each tick, in order:

1. Copy runs that recorded no progress for ``FOCUS_STALLED_RUN_SECONDS`` are marked failed:
   their processes are gone, which the default run launcher cannot see.
2. The day folders of the lookback window are listed, compared with the event log using the
   same pure diff the asset uses, and a run is requested for each day with work, unless a run
   of it is active, or its last run failed and its retry wait has not passed
   (``FOCUS_FAILED_DAY_RETRY_SECONDS``, doubling up to a day).
3. Every ``FOCUS_FULL_SCAN_HOURS`` the same is done for every day since ``FOCUS_START_DATE``,
   a chunk of days per tick within a time budget, so a day that broke and left the window is
   still healed.

Cost per tick outside a full scan: one OCI list call per page per day of the window, and a few
event-log and run-storage queries whatever the number of objects.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from focus_pipeline.defs import checks, runs, state
from focus_pipeline.defs.alerts import AlertsResource
from focus_pipeline.defs.checks import HEALTH_JOB_NAME
from focus_pipeline.defs.jobs import COPY_JOB_NAME, focus_copy_job
from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
from focus_pipeline.lib.errors import OciAccessError
from focus_pipeline.lib.healing import FullScan, decide
from focus_pipeline.lib.health import ERROR, HealthState, UpToDate, up_to_date
from focus_pipeline.lib.plan import folder_digest, plan_day
from focus_pipeline.settings import FocusSettings

SENSOR_NAME = "oci_focus_reports_sensor"
# Days compared per step of a full scan, and the part of a tick's 60 s a scan may use.
SCAN_CHUNK_DAYS = 31
SCAN_BUDGET_SECONDS = 20.0


def clock() -> float:
    """Epoch seconds as the sensor judges waits and ages; the one seam tests move."""
    return time.time()


def lookback_days(today: dt.date, lookback: int, first_day: dt.date) -> list[dt.date]:
    """Today and the ``lookback - 1`` days before it, never before the first partition."""
    days = [today - dt.timedelta(days=i) for i in range(lookback)]
    return [d for d in days if d >= first_day]


@dataclass
class TickResult:
    """What one tick found: runs to request, events to record, and each day's health."""

    health: HealthState
    late_after_seconds: float
    run_requests: list[dg.RunRequest] = field(default_factory=list)
    events: list[dg.AssetMaterialization] = field(default_factory=list)
    turned_late: list[UpToDate] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    listed_days: int = 0

    def judge(self, key: str, pending: int, observed_since: float | None, now: float) -> None:
        """Record the day's ``day_up_to_date`` verdict; report it when it changed."""
        since = self.health.differs_since.get(key, observed_since)
        verdict = up_to_date(key, pending, since, now, self.late_after_seconds)
        if verdict.differs_since is None:
            self.health.differs_since.pop(key, None)
        else:
            self.health.differs_since[key] = verdict.differs_since
        before = self.health.verdicts.get(key)
        if before == verdict.verdict:
            return
        self.health.verdicts[key] = verdict.verdict
        if verdict.passed and before != ERROR:
            return  # a fine day first seen, or fixed by a copy that recorded the pass itself
        self.run_requests.append(
            dg.RunRequest(
                job_name=HEALTH_JOB_NAME,
                partition_key=key,
                run_key=f"health:{key}:{verdict.verdict}:{now:.0f}",
                tags={
                    checks.DIFFERS_SINCE_TAG: str(verdict.differs_since or ""),
                    checks.JUDGED_AT_TAG: f"{now:.3f}",
                },
            )
        )
        if verdict.verdict == ERROR:
            self.turned_late.append(verdict)
        elif verdict.passed and before == ERROR:
            self.recovered.append(key)


def evaluate_days(
    context: dg.SensorEvaluationContext,
    oci: OciFocusReportsResource,
    s3: ByodS3Resource,
    days: Sequence[dt.date],
    retry_seconds: float,
    out: TickResult,
) -> None:
    """List ``days``, record what changed in OCI, and request the days that need a run."""
    if not days:
        return
    oci_layout, s3_layout = oci.layout(), s3.layout()
    keys = [d.isoformat() for d in days]
    try:
        folders = oci.source().list_folders([oci_layout.day_folder(d) for d in days])
    except Exception as exc:
        raise OciAccessError(oci.describe_error(exc)) from None
    copied = state.copied_files(context.instance, keys, s3_layout)
    observed = state.observed_folders(context.instance, keys)
    latest = runs.latest_run_records(context.instance, keys)
    now = clock()
    for day in days:
        key = day.isoformat()
        listing = folders[oci_layout.day_folder(day)]
        digest = folder_digest(listing)
        seen = observed.get(key)
        if listing and (seen is None or seen[0] != digest):
            out.events.append(state.oci_folder_event(key, listing))
            seen = (digest, now)
        plan = plan_day(day, listing, copied[key], oci_layout, s3_layout)
        out.judge(key, len(plan.to_copy), seen[1] if seen else None, now)
        decision = decide(
            plan.needs_copy, runs.last_run(latest.get(key)), digest, retry_seconds, now
        )
        if not decision.request:
            if plan.needs_copy:
                context.log.info(f"{key}: {len(plan.to_copy)} to copy; {decision.reason}")
            continue
        out.run_requests.append(
            dg.RunRequest(
                partition_key=key,
                job_name=COPY_JOB_NAME,
                run_key=f"{key}:{digest}:{decision.attempt}",
                tags={runs.DIGEST_TAG: digest, runs.ATTEMPT_TAG: str(decision.attempt)},
            )
        )
        context.log.info(f"{key}: requested ({decision.reason})")
    out.listed_days += len(days)


def build_sensor(
    partitions_def: dg.TimeWindowPartitionsDefinition, settings: FocusSettings, health_job: Any
) -> dg.SensorDefinition:
    first_day = partitions_def.start.date()
    interval, lookback = settings.poll_interval_seconds, settings.lookback_days
    scan_every = settings.full_scan_hours * 3600

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        jobs=[focus_copy_job, health_job],
        description=(
            f"Every {interval}s, re-lists the last {lookback} OCI day folders and requests a "
            "run for each day with new or changed reports; fails runs that died, retries "
            "failed days with backoff, and compares every day since the start date every "
            f"{settings.full_scan_hours:g} h."
        ),
    )
    def oci_focus_reports_sensor(
        context: dg.SensorEvaluationContext,
        oci: OciFocusReportsResource,
        s3: ByodS3Resource,
        alerts: AlertsResource,
    ) -> dg.SensorResult:
        started = time.monotonic()
        for run, idle in runs.stalled_runs(context.instance, settings.stalled_run_seconds, clock()):
            message = runs.mark_dead(context.instance, run, idle)
            context.log.warning(f"Run {run.run_id} failed: {message}")
            alerts.dead_run(run.run_id, run.tags.get(state.PARTITION_TAG, "?"), message)

        today = state.today_utc()
        window = lookback_days(today, lookback, first_day)
        health = HealthState.from_json(context.cursor)
        out = TickResult(health, settings.late_after_minutes * 60)
        evaluate_days(context, oci, s3, window, settings.failed_day_retry_seconds, out)

        scan = FullScan.from_json(context.cursor)
        if scan.due(clock(), scan_every):
            scan = FullScan(next_day=first_day, finished_at=scan.finished_at)
        last_scanned = today - dt.timedelta(days=lookback)  # the window covers the rest
        while scan.next_day:  # a chunk per step; at least one per tick, then within budget
            end = min(last_scanned, scan.next_day + dt.timedelta(days=SCAN_CHUNK_DAYS - 1))
            chunk = [
                scan.next_day + dt.timedelta(days=i) for i in range((end - scan.next_day).days + 1)
            ]
            evaluate_days(context, oci, s3, chunk, settings.failed_day_retry_seconds, out)
            following = end + dt.timedelta(days=1)
            scan = (
                FullScan(next_day=following, finished_at=scan.finished_at)
                if following <= last_scanned
                else FullScan(next_day=None, finished_at=clock())
            )
            if time.monotonic() - started >= SCAN_BUDGET_SECONDS:
                break
        context.log.info(
            f"Compared {out.listed_days} day folders with OCI; requested "
            f"{len(out.run_requests)} runs"
            + (f"; full scan resumes at {scan.next_day}" if scan.next_day else "")
        )
        for late in out.turned_late:
            context.log.warning(f"{late.day} is late: {late.describe(clock())}")
            alerts.day_late(late.day, late.describe(clock()))
        for day in out.recovered:
            alerts.day_recovered(day)
        return dg.SensorResult(
            run_requests=out.run_requests,
            asset_events=out.events,
            cursor=json.dumps({**scan.to_dict(), **health.to_dict()}),
        )

    return oci_focus_reports_sensor
