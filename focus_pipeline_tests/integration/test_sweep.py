"""The sweep of multipart uploads that killed runs left open.

moto 5.2 stamps every upload ``Initiated: 2010-11-10T20:48:33Z`` (a constant in its response
template), so against moto every upload looks years old; parts carry real ``LastModified``
times. The tests move the sweep's clock instead of the uploads.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import dagster as dg
import pytest
from botocore.exceptions import ClientError

from focus_pipeline.defs import build_definitions
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.sweep import list_prefix, sweep_stale_uploads
from focus_pipeline.lib.transfer import MIB
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY

AGE = dt.timedelta(hours=24)
MOTO_INITIATED = dt.datetime(2010, 11, 10, 20, 48, 33, tzinfo=dt.timezone.utc)
FAST = RetryPolicy(2, 0.01)


def open_uploads(s3_client: Any, bucket: str) -> set[str]:
    return {u["Key"] for u in s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}


def start_upload(s3_client: Any, bucket: str, key: str, parts: int = 0) -> str:
    upload_id = s3_client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    for number in range(1, parts + 1):
        s3_client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=b"x" * 10
        )
    return upload_id


def test_only_idle_uploads_under_the_prefix_are_aborted(s3_client, s3_bucket) -> None:
    start_upload(s3_client, s3_bucket, "byod/acct-1/2024-11-01_killed.csv.gz")
    start_upload(s3_client, s3_bucket, "byod/acct-1/2024-11-02_running.csv.gz", parts=1)
    start_upload(s3_client, s3_bucket, "byod/acct-10/2024-11-01_other-account.csv.gz")
    start_upload(s3_client, s3_bucket, "elsewhere/2024-11-01_not-ours.csv.gz")

    result = sweep_stale_uploads(s3_client, s3_bucket, "byod/acct-1", AGE, retry=FAST)

    assert result.aborted == ["byod/acct-1/2024-11-01_killed.csv.gz"]
    assert (result.listed, result.kept_recent, result.denied) == (2, 1, None)
    # The running copy (a part landed just now) and everything outside the prefix survive.
    assert open_uploads(s3_client, s3_bucket) == {
        "byod/acct-1/2024-11-02_running.csv.gz",
        "byod/acct-10/2024-11-01_other-account.csv.gz",
        "elsewhere/2024-11-01_not-ours.csv.gz",
    }


def test_uploads_younger_than_the_age_are_kept(s3_client, s3_bucket) -> None:
    start_upload(s3_client, s3_bucket, "byod/acct-1/2024-11-01_young.csv.gz")
    young = MOTO_INITIATED + dt.timedelta(hours=23, minutes=59)
    old = MOTO_INITIATED + dt.timedelta(hours=24, minutes=1)

    kept = sweep_stale_uploads(s3_client, s3_bucket, "byod/acct-1", AGE, retry=FAST, now=young)
    assert kept.aborted == [] and kept.kept_recent == 1
    assert open_uploads(s3_client, s3_bucket) == {"byod/acct-1/2024-11-01_young.csv.gz"}

    swept = sweep_stale_uploads(s3_client, s3_bucket, "byod/acct-1", AGE, retry=FAST, now=old)
    assert swept.aborted == ["byod/acct-1/2024-11-01_young.csv.gz"]
    assert open_uploads(s3_client, s3_bucket) == set()


class FakeS3:
    """S3's paging of ListMultipartUploads (moto returns one page whatever MaxUploads says)."""

    def __init__(self, keys: list[str], ignore_prefix: bool = False) -> None:
        self.uploads = [
            {"Key": k, "UploadId": f"id-{i:05d}", "Initiated": MOTO_INITIATED}
            for i, k in enumerate(sorted(keys))
        ]
        self.ignore_prefix = ignore_prefix
        self.list_calls: list[dict[str, Any]] = []
        self.aborted: list[str] = []

    def list_multipart_uploads(self, **kw: Any) -> dict[str, Any]:
        self.list_calls.append(kw)
        prefix = "" if self.ignore_prefix else kw.get("Prefix", "")
        rows = [u for u in self.uploads if u["Key"].startswith(prefix)]
        if kw.get("KeyMarker"):
            marker = (kw["KeyMarker"], kw.get("UploadIdMarker", ""))
            rows = [u for u in rows if (u["Key"], u["UploadId"]) > marker]
        page = rows[: kw["MaxUploads"]]
        truncated = len(rows) > len(page)
        out: dict[str, Any] = {"Uploads": page, "IsTruncated": truncated}
        if truncated:
            out.update(NextKeyMarker=page[-1]["Key"], NextUploadIdMarker=page[-1]["UploadId"])
        return out

    def list_parts(self, **kw: Any) -> dict[str, Any]:
        return {"Parts": [], "IsTruncated": False}

    def abort_multipart_upload(self, **kw: Any) -> dict[str, Any]:
        self.aborted.append(kw["Key"])
        return {}


def test_listing_follows_every_page() -> None:
    keys = [f"byod/acct-1/2024-11-01_{i:05d}.csv.gz" for i in range(2500)]
    fake = FakeS3(keys)
    result = sweep_stale_uploads(fake, "b", "byod/acct-1", AGE, retry=FAST, page_size=1000)
    assert len(fake.list_calls) == 3
    assert all(c["Prefix"] == "byod/acct-1/" for c in fake.list_calls)
    assert sorted(result.aborted) == keys and sorted(fake.aborted) == keys


def test_keys_outside_the_prefix_are_never_aborted_even_if_the_server_lists_them() -> None:
    fake = FakeS3(["byod/acct-1/a.csv.gz", "byod/acct-10/b.csv.gz", "x/c.csv.gz"], True)
    result = sweep_stale_uploads(fake, "b", "byod/acct-1", AGE, retry=FAST)
    assert fake.aborted == ["byod/acct-1/a.csv.gz"] and result.aborted == fake.aborted


def test_a_refused_listing_is_reported_not_raised() -> None:
    class Denied(FakeS3):
        def list_multipart_uploads(self, **kw: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListMultipartUploads"
            )

    result = sweep_stale_uploads(Denied([]), "b", "byod/acct-1", AGE, retry=FAST)
    assert result.denied == "AccessDenied" and result.aborted == []


def test_prefix_forms_and_a_zero_age_is_refused() -> None:
    assert list_prefix("byod/acct-1") == list_prefix("/byod/acct-1/") == "byod/acct-1/"
    assert list_prefix("") == ""
    with pytest.raises(ValueError, match="positive"):
        sweep_stale_uploads(FakeS3([]), "b", "p", dt.timedelta(0))


@pytest.mark.parametrize("hours", ["24", "0"])
def test_the_asset_sweeps_before_it_copies_unless_turned_off(
    hours, monkeypatch, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    """A run killed outright left an upload open; the next run of any day aborts it."""
    monkeypatch.setenv("FOCUS_STALE_UPLOAD_HOURS", hours)
    killed = "byod/acct-1/2024-11-27_0001000002103533-00001.csv.gz"
    start_upload(s3_client, s3_bucket, killed)
    data = os.urandom(6 * MIB)
    oci_emulator.put_object(TENANCY, "FOCUS Reports/2024/11/28/f.csv.gz", data)
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key="2024-11-28",
            instance=instance,
            resources=defs.resources,
        )
        assert result.success
        meta = result.asset_materializations_for_node("byod_focus_reports")[-1].metadata
        logs = [e.message for e in instance.all_logs(result.run_id)]
    if hours == "0":
        assert open_uploads(s3_client, s3_bucket) == {killed}
        assert meta["stale_uploads_aborted"].value == 0
    else:
        assert open_uploads(s3_client, s3_bucket) == set()
        assert meta["stale_uploads_aborted"].value == 1
        assert any("Aborted 1 multipart upload(s)" in m and killed in m for m in logs)
    # The day's own copy is unaffected.
    body = s3_client.get_object(Bucket=s3_bucket, Key="byod/acct-1/2024-11-28_f.csv.gz")
    assert body["Body"].read() == data
