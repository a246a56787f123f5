"""The sweep's paging, its prefix and a refused listing, through a fake client (moto returns
one page whatever MaxUploads says; the sweep against moto: integration/test_sweep.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.sweep import list_prefix, sweep_stale_uploads

AGE = dt.timedelta(hours=24)
MOTO_INITIATED = dt.datetime(2010, 11, 10, 20, 48, 33, tzinfo=dt.timezone.utc)
FAST = RetryPolicy(2, 0.01)


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
