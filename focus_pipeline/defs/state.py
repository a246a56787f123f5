"""Transfer state, kept in Dagster's event log and nowhere else.

The only module that reads or writes it; the asset, the sensor and the status command all ask
here. Two kinds of events carry it:

* ``byod_focus_reports`` checkpoints (``focus_event=files_copied``): observations listing the
  files that landed, logged as they land (the first at once, then at most every half second,
  see ``copy_all``). They are stored immediately and survive a later failure of the run, so a
  retry copies only what is missing. A day's copied set is the newest entry per object name.
* ``oci_focus_reports`` runless materializations, one per day folder whose content changed,
  recorded by the sensor with the folder digest as data version, so the UI shows OCI's side
  and a stale copy (releases before recorded observations; both are read).

Reads are batched per call (all partitions of a window in one query, paged by 10,000 records),
so their number does not grow with the number of objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import dagster as dg

from focus_pipeline.defs.metadata import values
from focus_pipeline.lib.naming import S3Layout
from focus_pipeline.lib.plan import (
    RECORD_S3_BUCKET,
    RECORD_S3_ENDPOINT,
    CopiedFile,
    OciObject,
    folder_digest,
)
from focus_pipeline.lib.transfer import CopyResult

OCI_ASSET = dg.AssetKey("oci_focus_reports")
BYOD_ASSET = dg.AssetKey("byod_focus_reports")

# Dagster's own tags: the partition of a run, and the data version of an observation (the tag
# its observable source assets write; `AssetObservation.data_version` reads it back).
PARTITION_TAG = "dagster/partition"
DATA_VERSION_TAG = "dagster/data_version"

# A checkpoint is an observation with EVENT_KEY = FILES_COPIED listing its files as records
# (``CopiedFile.to_record``). Its counts are named apart from the materialization's metrics
# (``files_copied``, ``bytes_copied``) so that Insights does not count a file twice.
EVENT_KEY = "focus_event"
FILES_COPIED = "files_copied"
FILES = "files"
FILES_LANDED = "files_landed"
BYTES_LANDED = "bytes_landed"
# The destination of records written before copies named theirs (see copied_files).
LEGACY_DESTINATION = "legacy_destination"
# An OCI folder observation.
FOLDER_FILES = "files"
FOLDER_BYTES = "bytes"
FOLDER_DIGEST = "folder_digest"
# Dagster caps one fetch at 10,000 records.
_PAGE = 10_000


def files_copied_event(
    day: str, results: Sequence[CopyResult], s3: S3Layout
) -> dg.AssetObservation:
    """The checkpoint for files of ``day`` that landed together in ``s3``'s destination."""
    return dg.AssetObservation(
        asset_key=BYOD_ASSET,
        partition=day,
        metadata={
            EVENT_KEY: FILES_COPIED,
            FILES_LANDED: len(results),
            BYTES_LANDED: sum(r.source.size for r in results),
            FILES: dg.MetadataValue.json(
                [
                    r.copied_file(s3.bucket, s3.endpoint).to_record(seconds=r.seconds)
                    for r in results
                ]
            ),
        },
    )


def _copied(meta: dict[str, object], copied_at: float | None = None) -> Iterator[CopiedFile]:
    """The files one checkpoint records; nothing for any other observation."""
    if meta.get(EVENT_KEY) != FILES_COPIED:
        return
    for record in meta.get(FILES) or []:  # type: ignore[attr-defined]
        yield CopiedFile.from_record(record, copied_at=copied_at)


def _records(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    partitions: Sequence[str],
    materializations: bool = False,
) -> Iterator[dg.EventLogRecord]:
    fetch = instance.fetch_materializations if materializations else instance.fetch_observations
    cursor = None
    while True:
        result = fetch(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=list(partitions)),
            limit=_PAGE,
            cursor=cursor,
        )
        yield from result.records
        if not result.has_more:
            return
        cursor = result.cursor


def _meta(obs: dg.AssetObservation | None) -> dict[str, object]:
    return values(obs.metadata) if obs is not None else {}


def copied_files(
    instance: dg.DagsterInstance, days: Iterable[str], s3: S3Layout | None = None
) -> dict[str, dict[str, CopiedFile]]:
    """For each day, the newest recorded copy of each object name.

    Records written before copies named their destination count for the destination
    configured when they were first read (``s3``): that destination is pinned in the event
    log once, so an upgrade copies nothing again and a later change of bucket still does.
    """
    days = list(days)
    state: dict[str, dict[str, CopiedFile]] = {d: {} for d in days}
    if not days:
        return state
    pinned: tuple[str | None, str | None] | None = None
    for record in _records(instance, BYOD_ASSET, days):  # newest first
        copied = state.get(record.partition_key or "")
        if copied is None:
            continue
        for f in _copied(_meta(record.asset_observation), copied_at=record.timestamp):
            if f.s3_bucket is None and s3 is not None:
                pinned = pinned or _pinned_destination(instance, s3)
                f = dataclasses.replace(f, s3_bucket=pinned[0], s3_endpoint=pinned[1])
            copied.setdefault(f.name, f)
    return state


def _pinned_destination(
    instance: dg.DagsterInstance, s3: S3Layout
) -> tuple[str | None, str | None]:
    """The destination of records that name none: pinned by the first reader, then fixed."""
    result = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=BYOD_ASSET), limit=_PAGE)
    for record in result.records:
        meta = _meta(record.asset_observation)
        if record.partition_key is None and meta.get(EVENT_KEY) == LEGACY_DESTINATION:
            return meta.get(RECORD_S3_BUCKET), meta.get(RECORD_S3_ENDPOINT)  # type: ignore[return-value]
    instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=BYOD_ASSET,
            description="Copies recorded before copies named their destination landed here.",
            metadata={
                EVENT_KEY: LEGACY_DESTINATION,
                RECORD_S3_BUCKET: s3.bucket,
                RECORD_S3_ENDPOINT: s3.endpoint,
            },
        )
    )
    return s3.bucket, s3.endpoint


def oci_folder_event(day: str, listing: Sequence[OciObject]) -> dg.AssetMaterialization:
    """What the sensor found in one OCI day folder, recorded as a runless materialization of
    the external asset: the catalog then shows the day present with its files and bytes (an
    observation would leave it "missing"), and the digest is its data version."""
    digest = folder_digest(listing)
    return dg.AssetMaterialization(
        asset_key=OCI_ASSET,
        partition=day,
        # The data-version tag is how an external asset tells Dagster the source changed,
        # which marks the copied day stale in the UI.
        tags={DATA_VERSION_TAG: digest},
        metadata={
            FOLDER_FILES: len(listing),
            FOLDER_BYTES: sum(o.size for o in listing),
            FOLDER_DIGEST: digest,
        },
    )


def observed_folders(
    instance: dg.DagsterInstance, days: Sequence[str]
) -> dict[str, tuple[str, float]]:
    """The newest folder digest the sensor recorded for each day, and when it first saw it.

    Recorded as materializations; instances upgraded from releases that recorded observations
    are read too, for days with no materialization yet.
    """
    found: dict[str, tuple[str, float]] = {}
    for materializations in (True, False):
        wanted = [d for d in days if d not in found]
        if not wanted:
            break
        for record in _records(instance, OCI_ASSET, wanted, materializations):
            day = record.partition_key
            event = record.asset_materialization if materializations else record.asset_observation
            digest = values(event.metadata).get(FOLDER_DIGEST) if event else None
            if day is not None and day not in found and digest:
                found[day] = (str(digest), record.timestamp)
    return found


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def daemon_heartbeats(instance: dg.DagsterInstance) -> dict[str, float]:
    """Epoch seconds of each daemon's last heartbeat; empty when no daemon ever ran here."""
    return {name: hb.timestamp for name, hb in instance.get_daemon_heartbeats().items()}


def files_copied_in(result: dg.ExecuteInProcessResult) -> list[CopiedFile]:
    """The files one in-process run copied, in the order they landed (for `focus-pipeline
    sync`), read from the run's own checkpoint events rather than a new query."""
    files = []
    for event in result.get_asset_observation_events():
        obs = event.asset_observation_data.asset_observation
        if obs.asset_key == BYOD_ASSET:
            files.extend(_copied(_meta(obs)))
    return files
