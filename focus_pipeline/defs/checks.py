"""Checks of each day, shown in the UI next to the day they judge.

Every check is partitioned like the asset, so a failed day stays red until that day passes,
whatever later days do. All four are computed from the same plan and results as the copy
itself, so they cost no extra request to OCI or S3 (the destination may not even allow reading).

``day_up_to_date`` is also judged by the sensor on every tick for every day it lists; when a
day's verdict changes between copies it launches ``focus_health_job`` for that day, which
records it (a sensor cannot record a partitioned check result itself more than once per day in
Dagster 1.13: the second runless evaluation of a partition violates a unique index).
"""

import datetime as dt
import time

import dagster as dg

from focus_pipeline.defs import state
from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.lib.health import ERROR, UpToDate, up_to_date
from focus_pipeline.lib.outcome import DayOutcome
from focus_pipeline.lib.plan import plan_day

ALL_REPORTS_COPIED = "all_reports_copied"
NO_UNEXPECTED_OBJECTS = "no_unexpected_objects"
REPORTS_ARE_FOCUS = "reports_are_focus"
DAY_UP_TO_DATE = "day_up_to_date"


def check_specs(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    def spec(name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            name, asset=BYOD_ASSET, description=description, partitions_def=partitions_def
        )

    return [
        spec(
            ALL_REPORTS_COPIED,
            "Every report in the OCI day folder is in S3 in its current version.",
        ),
        spec(
            NO_UNEXPECTED_OBJECTS,
            "The OCI day folder holds only objects that fit the FOCUS layout; others are "
            "skipped and listed here.",
        ),
        spec(
            DAY_UP_TO_DATE,
            "What was copied matches OCI's folder now: WARN while a difference is younger "
            "than FOCUS_LATE_AFTER_MINUTES, ERROR once older. Recorded by every copy and, when "
            "the sensor sees a day's verdict change between copies, by focus_health_job.",
        ),
        spec(
            REPORTS_ARE_FOCUS,
            "Each file copied that day is gzip with a FOCUS header: OCI's column set or a "
            "released FOCUS version (1.0-1.3), read from the first bytes of the copy. The copy "
            "itself stays byte-exact and is not blocked.",
        ),
    ]


DAY_UP_TO_DATE_KEY = dg.AssetCheckKey(BYOD_ASSET, DAY_UP_TO_DATE)
HEALTH_JOB_NAME = "focus_health_job"
# Run tags: since when the sensor has seen the day differ from OCI, and when it judged it
# (epoch seconds): the run judges the day at that time or later, never earlier.
DIFFERS_SINCE_TAG = "focus_pipeline/differs_since"
JUDGED_AT_TAG = "focus_pipeline/judged_at"


def judge_day(
    instance: dg.DagsterInstance,
    day_key: str,
    oci: OciFocusReportsResource,
    s3: ByodS3Resource,
    differs_since: float | None,
    late_after_seconds: float,
    now: float,
) -> tuple[UpToDate, list[str]]:
    """The day's verdict now, and the reports still to copy: lists the folder, compares."""
    day = dt.date.fromisoformat(day_key)
    try:
        listing = oci.source().list(oci.layout().day_folder(day))
    except Exception as exc:
        raise dg.Failure(description=oci.describe_error(exc)) from None
    copied = state.copied_files(instance, [day_key], s3.layout())[day_key]
    plan = plan_day(day, listing, copied, oci.layout(), s3.layout())
    if differs_since is None:
        observed = state.observed_folders(instance, [day_key]).get(day_key)
        differs_since = observed[1] if observed else None
    verdict = up_to_date(day_key, len(plan.to_copy), differs_since, now, late_after_seconds)
    return verdict, [p.source.name for p in plan.to_copy]


def _severity(verdict: UpToDate) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if verdict.verdict == ERROR else dg.AssetCheckSeverity.WARN


def _metadata(verdict: UpToDate, to_copy: list[str]) -> dict[str, object]:
    return {"pending": verdict.pending, "verdict": verdict.verdict, "to_copy": to_copy[:20]}


def build_health_job(
    partitions_def: dg.PartitionsDefinition, late_after_seconds: float
) -> dg.JobDefinition:
    """The job the sensor launches to record a day's changed ``day_up_to_date`` verdict (launch
    it for any day from the UI to judge it now): an op job that logs the check's evaluation
    within a run, since a sensor cannot record it itself more than once per day."""

    @dg.op(name="record_day_up_to_date")
    def record(
        context: dg.OpExecutionContext, oci: OciFocusReportsResource, s3: ByodS3Resource
    ) -> None:
        tags = context.run.tags
        since = float(tags[DIFFERS_SINCE_TAG]) if tags.get(DIFFERS_SINCE_TAG) else None
        now = max(time.time(), float(tags.get(JUDGED_AT_TAG) or 0))
        day_key = context.partition_key
        verdict, to_copy = judge_day(
            context.instance, day_key, oci, s3, since, late_after_seconds, now
        )
        context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=BYOD_ASSET,
                check_name=DAY_UP_TO_DATE,
                passed=verdict.passed,
                severity=_severity(verdict),
                partition=day_key,
                description=verdict.describe(now),
                metadata=_metadata(verdict, to_copy),
            )
        )

    @dg.job(
        name=HEALTH_JOB_NAME,
        partitions_def=partitions_def,
        executor_def=dg.in_process_executor,  # one short step: no process per step
        description="Records a day's day_up_to_date verdict; the sensor launches it when the "
        "verdict changes.",
    )
    def focus_health_job() -> None:
        record()

    return focus_health_job


def check_results(outcome: DayOutcome) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=ALL_REPORTS_COPIED,
            asset_key=BYOD_ASSET,
            passed=not outcome.missing,
            metadata={
                "missing": outcome.missing,
                "reports": len(outcome.listing) - len(outcome.skipped),
            },
        ),
        dg.AssetCheckResult(
            check_name=NO_UNEXPECTED_OBJECTS,
            asset_key=BYOD_ASSET,
            passed=not outcome.skipped,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"skipped": [{"name": s.name, "reason": s.reason} for s in outcome.skipped]},
        ),
        reports_are_focus(outcome),
        dg.AssetCheckResult(
            check_name=DAY_UP_TO_DATE,
            asset_key=BYOD_ASSET,
            passed=not outcome.missing,
            # A file left missing by this copy failed it: the run's failure says why, and the
            # sensor turns the day late if it stays so.
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"pending": len(outcome.missing), "to_copy": outcome.missing[:20]},
        ),
    ]


def reports_are_focus(outcome: DayOutcome) -> dg.AssetCheckResult:
    """Fails (ERROR) naming every copied file whose header is not FOCUS; files copied before
    headers were read are listed as unread, not judged."""
    bad = [f for f in outcome.manifest if f.header_read and f.focus_header is None]
    unread = [f.name for f in outcome.manifest if not f.header_read]
    return dg.AssetCheckResult(
        check_name=REPORTS_ARE_FOCUS,
        asset_key=BYOD_ASSET,
        passed=not bad,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(f"{f.name}: {f.header_problem}" for f in bad[:10]) or None,
        metadata={
            "not_focus": [{"name": f.name, "problem": f.header_problem} for f in bad],
            "matched": {f.name: f.focus_header for f in outcome.manifest if f.focus_header},
            "unread": unread,
        },
    )
