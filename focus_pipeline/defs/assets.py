"""The two assets users see: OCI's day folders and their copies in the BYOD bucket."""

import datetime as dt
import time
from typing import Any

import dagster as dg
from pydantic import Field

from focus_pipeline.defs import checks, state
from focus_pipeline.defs.partitions import partition_day
from focus_pipeline.defs.resources import (
    ByodS3Resource,
    OciFocusReportsResource,
    TransferResource,
    naming_for,
)
from focus_pipeline.lib.errors import describe_failure, describe_oci_error, describe_s3_error
from focus_pipeline.lib.plan import CopiedFile, folder_digest, manifest_digest, plan_day
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.sweep import SweepResult, list_prefix, sweep_stale_uploads
from focus_pipeline.lib.transfer import CopyResult, copy_all

CODE_VERSION = "1"


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


def sweep_stale_uploads_of_killed_runs(
    log: Any, s3: ByodS3Resource, s3_client: Any, s3_prefix: str, retry: RetryPolicy
) -> SweepResult | None:
    """Abort multipart uploads that killed runs left under the prefix.

    Housekeeping, so it never fails the day: a refused listing (a BYOD key without
    s3:ListBucketMultipartUploads) or an unreachable S3 is a warning, and the copy goes on.
    """
    hours = int(s3.stale_upload_hours)
    if hours <= 0:
        return None
    where = f"s3://{s3.bucket}/{list_prefix(s3_prefix)}"
    try:
        result = sweep_stale_uploads(
            s3_client, s3.bucket, s3_prefix, dt.timedelta(hours=hours), retry=retry
        )
    except Exception as exc:
        log.warning(
            f"Could not sweep stale multipart uploads under {where}: "
            f"{describe_s3_error(exc, s3.bucket)} The copy goes on."
        )
        return None
    if result.denied:
        log.warning(
            f"Could not list multipart uploads under {where} (ListMultipartUploads answered "
            f"{result.denied}), so uploads left open by killed runs are not aborted. Grant "
            "s3:ListBucketMultipartUploads (docs/reliability.md), or ask the bucket owner for "
            "an AbortIncompleteMultipartUpload lifecycle rule and set "
            "FOCUS_STALE_UPLOAD_HOURS=0. The copy goes on."
        )
    elif result.aborted or result.failed:
        log.warning(
            f"Aborted {len(result.aborted)} multipart upload(s) under {where} idle for more "
            f"than {hours} h (left by killed runs): {result.aborted[:10]}"
            + (f"; could not abort {result.failed[:10]}" if result.failed else "")
        )
    return result


class CopyConfig(dg.Config):
    force: bool = Field(
        default=False,
        description="Copy every report of the day again, even those already copied unchanged.",
    )


def oci_focus_reports_spec(partitions_def: dg.PartitionsDefinition) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=state.OCI_ASSET,
        partitions_def=partitions_def,
        group_name="focus",
        kinds={"oci"},
        description=(
            "FOCUS cost reports as Oracle writes them: one folder per day under "
            "`FOCUS Reports/YYYY/MM/DD/` in namespace `bling`, bucket = your tenancy OCID. "
            "External to Dagster: the sensor records what it sees here as observations."
        ),
    )


def build_byod_focus_reports(
    partitions_def: dg.PartitionsDefinition, retry_policy: dg.RetryPolicy | None = None
) -> dg.AssetsDefinition:
    @dg.asset(
        key=state.BYOD_ASSET,
        partitions_def=partitions_def,
        deps=[state.OCI_ASSET],
        group_name="focus",
        kinds={"s3"},
        code_version=CODE_VERSION,
        retry_policy=retry_policy,
        check_specs=checks.CHECK_SPECS,
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
        naming = naming_for(oci, s3)
        source = oci.source()
        started = time.monotonic()
        s3_client = s3.get_client()
        # Before this run opens uploads of its own: the sweep only ever sees other runs' uploads.
        swept = sweep_stale_uploads_of_killed_runs(
            context.log, s3, s3_client, naming.s3_prefix, oci.retry_policy()
        )
        try:
            listing = source.list(naming.day_folder(day))
        except Exception as exc:
            raise dg.Failure(
                description=describe_oci_error(exc, oci.namespace, oci.bucket), allow_retries=True
            ) from None

        recorded = state.copied_files(context.instance, [day_key])[day_key]
        plan = plan_day(day, listing, recorded, naming, force=config.force)
        for skipped in plan.skipped:
            context.log.warning(f"Skipped {skipped.name!r}: {skipped.reason}")
        context.log.info(
            f"{naming.day_folder(day)}: {len(listing)} objects, {len(plan.to_copy)} to copy, "
            f"{len(plan.unchanged)} unchanged, {len(plan.skipped)} skipped"
        )

        def checkpoint(landed: list[CopyResult]) -> None:
            context.log_event(state.files_copied_event(day_key, landed))
            context.log.info(
                "\n".join(
                    f"Copied {r.source.name} -> s3://{s3.bucket}/{r.s3_key} "
                    f"({r.source.size} bytes, {r.parts} parts, {r.seconds:.2f}s)"
                    for r in landed
                )
            )

        results, failures = copy_all(
            source, s3_client, s3.bucket, plan.to_copy, transfer.options(), on_landed=checkpoint
        )
        seconds = time.monotonic() - started

        if failures:
            lines = [
                f"{f.plan.source.name}: "
                f"{describe_failure(f.error, oci.namespace, oci.bucket, s3.bucket)}"
                for f in failures[:10]
            ]
            raise dg.Failure(
                description=(
                    f"{len(failures)} of {len(plan.to_copy)} reports of {day_key} failed to copy "
                    f"({len(results)} landed and will not be copied again):\n" + "\n".join(lines)
                ),
                metadata={"files_failed": len(failures), "files_copied": len(results)},
                allow_retries=True,
            )

        manifest: dict[str, CopiedFile] = {f.name: f for f in plan.unchanged}
        manifest.update({r.source.name: r.copied_file() for r in results})
        # A file replaced in OCI during the copy landed in its newer version: judge the day
        # against that version, not the listing taken before it changed.
        current = {o.name: o for o in listing}
        current.update({r.source.name: r.source for r in results})
        listing = sorted(current.values(), key=lambda o: o.name)
        bytes_copied = sum(r.source.size for r in results)
        metadata: dict[str, object] = {
            "oci_folder": naming.day_folder(day),
            "files_total": len(manifest),
            "files_copied": len(results),
            "files_unchanged": len(plan.unchanged),
            "files_skipped": len(plan.skipped),
            "bytes_copied": bytes_copied,
            "bytes_total": sum(f.size for f in manifest.values()),
            "seconds": round(seconds, 3),
            "mb_per_s": round(bytes_copied / 1e6 / seconds, 2) if seconds > 0 else 0.0,
            "oci_list_requests": source.list_calls,
            "oci_get_requests": source.get_calls,
            "stale_uploads_aborted": len(swept.aborted) if swept else 0,
            "source_digest": folder_digest(listing),
            "manifest": dg.MetadataValue.json(
                [f.as_dict() for f in sorted(manifest.values(), key=lambda f: f.name)]
            ),
        }
        if plan.skipped:
            metadata["skipped_objects"] = dg.MetadataValue.json(
                [{"name": s.name, "reason": s.reason} for s in plan.skipped]
            )
        if not listing:
            metadata["note"] = "OCI holds no reports for this day (yet)."
        return dg.MaterializeResult(
            metadata=metadata,
            data_version=dg.DataVersion(manifest_digest(manifest.values())),
            check_results=checks.check_results(plan, listing, manifest),
        )

    return byod_focus_reports
