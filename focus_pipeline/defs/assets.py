"""The two assets users see: OCI's day folders and their copies in the BYOD bucket."""

import time

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
from focus_pipeline.lib.errors import describe_failure, describe_oci_error
from focus_pipeline.lib.plan import CopiedFile, folder_digest, manifest_digest, plan_day
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

        def checkpoint(result: CopyResult) -> None:
            context.log_event(state.file_copied_event(day_key, result))
            context.log.info(
                f"Copied {result.source.name} -> s3://{s3.bucket}/{result.s3_key} "
                f"({result.source.size} bytes, {result.parts} parts, {result.seconds:.2f}s)"
            )

        s3_client = s3.get_client()
        results, failures = copy_all(
            source, s3_client, s3.bucket, plan.to_copy, transfer.options(), on_copied=checkpoint
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
