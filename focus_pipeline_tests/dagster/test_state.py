"""Transfer state in the event log: what deployed instances already hold must still count."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from focus_pipeline.defs import state
from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.plan import OciObject, plan_day

DAY = dt.date(2024, 11, 28)
NAME = "FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz"
KEY = "byod/acct-1/2024-11-28_0001000002103533-00001.csv.gz"


def test_a_checkpoint_in_the_released_shape_reads_back_as_copied() -> None:
    # Metadata exactly as the released pipeline wrote its checkpoints.
    released = dg.AssetObservation(
        asset_key=dg.AssetKey("byod_focus_reports"),
        partition=DAY.isoformat(),
        metadata={
            "focus_event": "files_copied",
            "files_copied": 1,
            "bytes": 123,
            "files": dg.MetadataValue.json(
                [
                    {
                        "object_name": NAME,
                        "etag": "etag-1",
                        "bytes": 123,
                        "md5": "bWQ1",
                        "s3_key": KEY,
                        "seconds": 0.25,
                    }
                ]
            ),
        },
    )
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(released)
        copied = state.copied_files(instance, [DAY.isoformat()])[DAY.isoformat()]
        assert list(copied) == [NAME]
        assert (copied[NAME].etag, copied[NAME].size, copied[NAME].s3_key) == ("etag-1", 123, KEY)
        assert copied[NAME].copied_at is not None

        listing = [OciObject(NAME, 123, "etag-1", "bWQ1")]
        plan = plan_day(DAY, listing, copied, OciLayout(), S3Layout("byod/acct-1"))
        assert plan.to_copy == [] and [f.name for f in plan.unchanged] == [NAME]


def test_the_newest_checkpoint_of_a_name_wins() -> None:
    with dg.instance_for_test() as instance:
        for etag in ("old", "new"):
            record = {"object_name": NAME, "etag": etag, "bytes": 1, "md5": "x", "s3_key": KEY}
            instance.report_runless_asset_event(
                dg.AssetObservation(
                    asset_key=state.BYOD_ASSET,
                    partition=DAY.isoformat(),
                    metadata={
                        state.EVENT_KEY: state.FILES_COPIED,
                        state.FILES: dg.MetadataValue.json([record]),
                    },
                )
            )
        copied = state.copied_files(instance, [DAY.isoformat()])[DAY.isoformat()]
        assert copied[NAME].etag == "new"


def test_the_folder_event_carries_its_digest_as_data_version() -> None:
    listing = [OciObject(NAME, 1, "e")]
    obs = state.oci_folder_event(DAY.isoformat(), listing)
    assert obs.tags[state.DATA_VERSION_TAG] == obs.metadata[state.FOLDER_DIGEST].value
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(obs)
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=state.OCI_ASSET, asset_partitions=[DAY.isoformat()]),
            limit=1,
        ).records
        assert record.asset_materialization.metadata[state.FOLDER_FILES].value == 1
