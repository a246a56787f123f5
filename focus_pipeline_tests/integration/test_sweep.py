"""The sweep of multipart uploads that killed runs left open, against moto.

moto 5.2 stamps every upload ``Initiated: 2010-11-10T20:48:33Z`` (a constant in its response
template), so against moto every upload looks years old; parts carry real ``LastModified``
times. The tests move the sweep's clock instead of the uploads. S3's paging and a refused
listing, through a fake client: unit/test_sweep.py; the asset's sweep: dagster/test_sweep.py.
"""

from __future__ import annotations

import datetime as dt

from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.sweep import sweep_stale_uploads
from focus_pipeline_tests.support import open_upload_keys, start_upload

AGE = dt.timedelta(hours=24)
MOTO_INITIATED = dt.datetime(2010, 11, 10, 20, 48, 33, tzinfo=dt.timezone.utc)
FAST = RetryPolicy(2, 0.01)


def test_only_idle_uploads_under_the_prefix_are_aborted(s3_client, s3_bucket) -> None:
    start_upload(s3_client, s3_bucket, "byod/acct-1/2024-11-01_killed.csv.gz")
    start_upload(s3_client, s3_bucket, "byod/acct-1/2024-11-02_running.csv.gz", parts=1)
    start_upload(s3_client, s3_bucket, "byod/acct-10/2024-11-01_other-account.csv.gz")
    start_upload(s3_client, s3_bucket, "elsewhere/2024-11-01_not-ours.csv.gz")

    result = sweep_stale_uploads(s3_client, s3_bucket, "byod/acct-1", AGE, retry=FAST)

    assert result.aborted == ["byod/acct-1/2024-11-01_killed.csv.gz"]
    assert (result.listed, result.kept_recent, result.denied) == (2, 1, None)
    # The running copy (a part landed just now) and everything outside the prefix survive.
    assert open_upload_keys(s3_client, s3_bucket) == {
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
    assert open_upload_keys(s3_client, s3_bucket) == {"byod/acct-1/2024-11-01_young.csv.gz"}

    swept = sweep_stale_uploads(s3_client, s3_bucket, "byod/acct-1", AGE, retry=FAST, now=old)
    assert swept.aborted == ["byod/acct-1/2024-11-01_young.csv.gz"]
    assert open_upload_keys(s3_client, s3_bucket) == set()
