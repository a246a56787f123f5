"""The metadata of a copied day, as the UI shows it and the command line reads it back.

Keys are snake_case facts, each named once here; :func:`day_metadata` is a pure function of the
day's outcome, unit-tested without an instance.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.outcome import DayOutcome
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
        MANIFEST: dg.MetadataValue.json([f.to_record() for f in outcome.manifest]),
    }
    if outcome.skipped:
        metadata[SKIPPED_OBJECTS] = dg.MetadataValue.json(
            [{"name": s.name, "reason": s.reason} for s in outcome.skipped]
        )
    if not outcome.listing:
        metadata[NOTE] = "OCI holds no reports for this day (yet)."
    return metadata


def values(metadata: dict[str, Any]) -> dict[str, Any]:
    """Plain values of stored metadata (``MetadataValue`` unwrapped)."""
    return {k: getattr(v, "value", v) for k, v in metadata.items()}
