"""The two assets users see: OCI's day folders and their copies in the BYOD bucket."""

import datetime as dt
import time
from dataclasses import dataclass

import dagster as dg
from pydantic import Field

from focus_pipeline.defs import checks, runs, state
from focus_pipeline.defs import metadata as meta
from focus_pipeline.defs.partitions import partition_day
from focus_pipeline.defs.resources import (
    ByodS3Resource,
    OciFocusReportsResource,
    TransferResource,
)
from focus_pipeline.lib import errors
from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.outcome import day_outcome, failure_text, landed_lines, progress_line
from focus_pipeline.lib.plan import DayPlan, plan_day
from focus_pipeline.lib.transfer import PROGRESS_SECONDS, CopyFailure, CopyResult, copy_all

CODE_VERSION = "1"
# Dagster's metadata key for where an asset's data lives (shown in the catalog).
URI = "dagster/uri"


def day_retry_policy(retries: int, delay_seconds: int) -> dg.RetryPolicy | None:
    """Dagster retries a failed day once per-request retries are spent; by then the fault is
    not a blip, so the default waits a minute, then longer. Only missing files are copied again.
    """
    if retries <= 0:
        return None
    return dg.RetryPolicy(
        max_retries=retries,
        delay=delay_seconds,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


class CopyConfig(dg.Config):
    force: bool = Field(
        default=False,
        description="Copy every report of the day again, even those already copied unchanged.",
    )


@dataclass(frozen=True)
class Catalog:
    """What the catalog shows of both assets: where the data is and who owns it."""

    oci_uri: str
    s3_uri: str
    owners: tuple[str, ...] = ()
    freshness_fail_hours: float = 30.0

    @property
    def freshness(self) -> dg.FreshnessPolicy:
        fail = dt.timedelta(hours=self.freshness_fail_hours)
        return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=fail / 2)


def oci_focus_reports_spec(
    partitions_def: dg.PartitionsDefinition, catalog: Catalog
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=state.OCI_ASSET,
        partitions_def=partitions_def,
        group_name="focus",
        kinds={"oracle"},
        owners=list(catalog.owners),
        metadata={URI: catalog.oci_uri},
        description=(
            "FOCUS cost reports as Oracle writes them: one folder per day under "
            "`FOCUS Reports/YYYY/MM/DD/` in namespace `bling`, bucket = your tenancy OCID. "
            "External to Dagster: the sensor records each day folder it finds with its file "
            "count and bytes, so a day shows as present; a day never seen shows as missing."
        ),
    )


def build_byod_focus_reports(
    partitions_def: dg.PartitionsDefinition,
    catalog: Catalog,
    retry_policy: dg.RetryPolicy | None = None,
    progress_seconds: float = PROGRESS_SECONDS,
) -> dg.AssetsDefinition:
    @dg.asset(
        key=state.BYOD_ASSET,
        partitions_def=partitions_def,
        deps=[state.OCI_ASSET],
        group_name="focus",
        kinds={"s3"},
        owners=list(catalog.owners),
        metadata={URI: catalog.s3_uri},
        freshness_policy=catalog.freshness,
        code_version=CODE_VERSION,
        retry_policy=retry_policy,
        check_specs=checks.check_specs(partitions_def),
        tags={"focus_pipeline/copy": "day"},
    )
    def byod_focus_reports(
        context: dg.AssetExecutionContext,
        config: CopyConfig,
        oci: OciFocusReportsResource,
        s3: ByodS3Resource,
        transfer: TransferResource,
    ) -> dg.MaterializeResult:
        """FOCUS reports of one day, copied byte for byte into the BYOD bucket.

        Each report lands as `<prefix>/<day>_<file>`. Only reports that are new or whose etag
        changed since their last copy are fetched; each copy is recorded in the event log as it
        lands, so a failed day resumes where it stopped. Run config `force: true` copies the
        whole day again.
        """
        day_key = context.partition_key
        day = partition_day(day_key)
        claim_day(context, day_key)
        folder = oci.layout().day_folder(day)
        started = time.monotonic()
        source, s3_client, s3_layout = oci.source(), s3.get_client(), s3.layout()
        # Before this run opens uploads of its own: the sweep only ever sees other runs' uploads.
        swept = s3.sweep_stale_uploads(s3_client, context.log)
        listing = list_folder(source, folder, oci)

        recorded = state.copied_files(context.instance, [day_key], s3_layout)[day_key]
        plan = plan_day(day, listing, recorded, oci.layout(), s3_layout, force=config.force)
        log_plan(context.log, folder, listing, plan)
        if plan.to_copy:  # this run alone writes the day: what is open was left by a dead one
            s3.abort_day_uploads(s3_client, day, {p.s3_key for p in plan.to_copy}, context.log)

        def checkpoint(landed: list[CopyResult]) -> None:
            context.log_event(state.files_copied_event(day_key, landed, s3_layout))
            context.log.info(landed_lines(landed, s3.bucket))

        results, failures = copy_all(
            source, s3_client, s3.bucket, plan.to_copy, transfer.options(),
            on_landed=checkpoint, s3_retry=s3.retry_policy(),
            on_progress=lambda p: context.log.info(progress_line(p)),
            progress_seconds=progress_seconds,
        )  # fmt: skip
        if failures:
            raise copy_failure(day_key, plan, results, failures, oci, s3)

        outcome = day_outcome(plan, listing, results, s3_layout)
        return dg.MaterializeResult(
            metadata=meta.day_metadata(outcome, folder, time.monotonic() - started, source, swept),
            data_version=dg.DataVersion(outcome.data_version),
            check_results=checks.check_results(outcome),
        )

    return byod_focus_reports


def claim_day(context: dg.AssetExecutionContext, day: str) -> None:
    """One day, one writer: stop before opening any upload if an earlier run is copying the
    day, however it was launched (UI, sensor, CLI, a DAGSTER_HOME without our queue limits)."""
    other = runs.earlier_writer(context.instance, day, context.run_id)
    if other is not None:
        raise dg.Failure(
            description=(
                f"Run {other.run_id} ({other.job_name}, {other.status.value}) is already "
                f"copying {day}. This run stopped before opening any upload so that one run "
                "writes each day; the sensor requests the day again if work is left."
            ),
            allow_retries=False,
        )


def list_folder(source: OciReportSource, folder: str, oci: OciFocusReportsResource) -> list:
    """The day folder's objects; a failure names what to check and lets Dagster retry."""
    try:
        return source.list(folder)
    except Exception as exc:
        raise dg.Failure(description=oci.describe_error(exc), allow_retries=True) from None


def log_plan(log: dg.DagsterLogManager, folder: str, listing: list, plan: DayPlan) -> None:
    for skipped in plan.skipped:
        log.warning(f"Skipped {skipped.name!r}: {skipped.reason}")
    log.info(
        f"{folder}: {len(listing)} objects, {len(plan.to_copy)} to copy, "
        f"{len(plan.unchanged)} unchanged, {len(plan.skipped)} skipped"
    )


def copy_failure(
    day: str,
    plan: DayPlan,
    results: list[CopyResult],
    failures: list[CopyFailure],
    oci: OciFocusReportsResource,
    s3: ByodS3Resource,
) -> dg.Failure:
    """The day's failure: each failed file named with what to check; landed files are kept.

    When every file failed for its setup (credentials, trust store, URL, permissions, the
    bucket), Dagster's step retries are turned off too: they would fail the same way after
    minutes of back-off, and hide the message a user must act on behind them.
    """

    def describe(exc: BaseException) -> str:
        return errors.describe_failure(exc, oci.namespace, oci.bucket, s3.bucket)

    setup_only = bool(failures) and all(errors.is_setup_error(f.error) for f in failures)
    return dg.Failure(
        description=failure_text(day, failures, len(plan.to_copy), len(results), describe),
        metadata={meta.FILES_FAILED: len(failures), meta.FILES_COPIED: len(results)},
        allow_retries=not setup_only,
    )
