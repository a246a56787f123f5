""" "Copied" means "in this destination": a changed bucket copies the day again; an upgrade
does not."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions, state
from focus_pipeline.defs import metadata as m
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY, b64md5, s3_contents

DAY = "2024-11-28"
NAME = "FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz"
KEY = f"byod/acct-1/{DAY}_0001000002103533-00001.csv.gz"


def materialize(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    return dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=DAY,
        instance=instance,
        resources=defs.resources,
    )


def copied_count(result: dg.ExecuteInProcessResult) -> int:
    [mat] = result.asset_materializations_for_node("byod_focus_reports")
    return m.values(mat.metadata)[m.FILES_COPIED]


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def released_checkpoint(etag: str, md5: str, size: int) -> dg.AssetObservation:
    """A checkpoint exactly as the released pipeline wrote it: no destination in it."""
    record = {"object_name": NAME, "etag": etag, "bytes": size, "md5": md5, "s3_key": KEY}
    return dg.AssetObservation(
        asset_key=state.BYOD_ASSET,
        partition=DAY,
        metadata={
            "focus_event": "files_copied",
            "files_copied": 1,
            "bytes": size,
            "files": dg.MetadataValue.json([{**record, "seconds": 0.1}]),
        },
    )


def test_a_changed_bucket_copies_the_day_into_the_new_one(
    focus_env, oci_emulator, s3_client, s3_bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(20_000)
    oci_emulator.put_object(TENANCY, NAME, data)
    with dg.instance_for_test() as instance:
        assert copied_count(materialize(instance)) == 1
        again = materialize(instance)
        assert copied_count(again) == 0 and checks(again)["all_reports_copied"]

        moved = f"{s3_bucket}-new"
        s3_client.create_bucket(Bucket=moved)
        monkeypatch.setenv("FOCUS_S3_BUCKET", moved)
        after = materialize(instance)
        assert copied_count(after) == 1 and checks(after)["all_reports_copied"]
        assert s3_contents(s3_client, moved) == {KEY: b64md5(data)}


def test_checkpoints_of_the_released_shape_count_after_an_upgrade_then_pin(
    focus_env, oci_emulator, s3_client, s3_bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(20_000)
    obj = oci_emulator.put_object(TENANCY, NAME, data)
    s3_client.put_object(Bucket=s3_bucket, Key=KEY, Body=data)  # what the old release copied
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(released_checkpoint(obj["etag"], b64md5(data), 20_000))
        upgraded = materialize(instance)
        assert copied_count(upgraded) == 0  # the upgrade copies nothing again
        assert checks(upgraded)["all_reports_copied"]

        # The old records were pinned to the bucket configured when first read.
        moved = f"{s3_bucket}-new"
        s3_client.create_bucket(Bucket=moved)
        monkeypatch.setenv("FOCUS_S3_BUCKET", moved)
        assert copied_count(materialize(instance)) == 1
        assert s3_contents(s3_client, moved) == {KEY: b64md5(data)}
