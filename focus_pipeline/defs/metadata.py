"""The metadata of a copied day, as the UI shows it and the command line reads it back.

Keys are snake_case facts, each named once here; :func:`day_metadata` is a pure function of the
day's outcome, unit-tested without an instance.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.outcome import DayOutcome
from focus_pipeline.lib.plan import (
    RECORD_BYTES,
    RECORD_COLUMNS,
    RECORD_ETAG,
    RECORD_FOCUS_HEADER,
    RECORD_MD5,
    RECORD_NAME,
    RECORD_S3_BUCKET,
    RECORD_S3_ENDPOINT,
    RECORD_S3_KEY,
    CopiedFile,
)
from focus_pipeline.lib.sweep import SweepResult

OCI_FOLDER = "oci_folder"
FILES_TOTAL = "files_total"
FILES_COPIED = "files_copied"
FILES_UNCHANGED = "files_unchanged"
FILES_SKIPPED = "files_skipped"
FILES_FAILED = "files_failed"
BYTES_COPIED = "bytes_copied"
BYTES_TOTAL = "bytes_total"
SECONDS = "seconds"
MB_PER_S = "mb_per_s"
OCI_LIST_REQUESTS = "oci_list_requests"
OCI_GET_REQUESTS = "oci_get_requests"
STALE_UPLOADS_ABORTED = "stale_uploads_aborted"
SOURCE_DIGEST = "source_digest"
MANIFEST = "manifest"
SKIPPED_OBJECTS = "skipped_objects"
NOTE = "note"


def day_metadata(
    outcome: DayOutcome,
    oci_folder: str,
    seconds: float,
    source: OciReportSource,
    swept: SweepResult | None,
) -> dict[str, Any]:
    """The materialization's metadata for one day: ``source`` counted the run's OCI requests,
    ``swept`` is what the sweep of stale uploads did (None when it did not run)."""
    bytes_copied = outcome.bytes_copied
    metadata: dict[str, Any] = {
        OCI_FOLDER: oci_folder,
        FILES_TOTAL: len(outcome.manifest),
        FILES_COPIED: len(outcome.copied),
        FILES_UNCHANGED: len(outcome.unchanged),
        FILES_SKIPPED: len(outcome.skipped),
        BYTES_COPIED: bytes_copied,
        BYTES_TOTAL: outcome.bytes_total,
        SECONDS: round(seconds, 3),
        MB_PER_S: round(bytes_copied / 1e6 / seconds, 2) if seconds > 0 else 0.0,
        OCI_LIST_REQUESTS: source.list_calls,
        OCI_GET_REQUESTS: source.get_calls,
        STALE_UPLOADS_ABORTED: len(swept.aborted) if swept else 0,
        SOURCE_DIGEST: outcome.source_digest,
        MANIFEST: manifest_table(outcome.manifest),
    }
    if outcome.skipped:
        metadata[SKIPPED_OBJECTS] = dg.MetadataValue.json(
            [{"name": s.name, "reason": s.reason} for s in outcome.skipped]
        )
    if not outcome.listing:
        metadata[NOTE] = "OCI holds no reports for this day (yet)."
    return metadata


# The manifest's columns: a copied-file record's keys (``CopiedFile.to_record``), in this order.
MANIFEST_COLUMNS = (
    (RECORD_NAME, "string", "OCI object name"),
    (RECORD_S3_KEY, "string", "S3 key it was copied to"),
    (RECORD_BYTES, "int", "size in bytes"),
    (RECORD_MD5, "string", "base64 MD5 of the bytes copied"),
    (RECORD_ETAG, "string", "OCI etag of the version copied"),
    (RECORD_FOCUS_HEADER, "string", "column set of its header: oci, or a FOCUS version"),
    (RECORD_COLUMNS, "int", "columns in its header"),
    (RECORD_S3_BUCKET, "string", "destination bucket"),
    (RECORD_S3_ENDPOINT, "string", "destination endpoint (empty: AWS)"),
)


def manifest_table(files: list[CopiedFile]) -> dg.TableMetadataValue:
    """What S3 holds for the day, one row per file, as the catalog shows tables."""
    names = [name for name, _, _ in MANIFEST_COLUMNS]
    return dg.MetadataValue.table(
        # A table's rows need the same fields: "" where a record has no value.
        records=[
            dg.TableRecord({name: record.get(name, "") for name in names})
            for record in (f.to_record() for f in files)
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn(name, type_, description=about)
                for name, type_, about in MANIFEST_COLUMNS
            ]
        ),
    )


def manifest_files(value: Any) -> list[CopiedFile]:
    """The manifest read back: the one parser of ``manifest_table`` (and of older JSON lists)."""
    rows = [r.data for r in value.records] if hasattr(value, "records") else list(value)
    return [CopiedFile.from_record({k: v for k, v in row.items() if v != ""}) for row in rows]


def values(metadata: dict[str, Any]) -> dict[str, Any]:
    """Plain values of stored metadata (``MetadataValue`` unwrapped)."""
    return {k: getattr(v, "value", v) for k, v in metadata.items()}
