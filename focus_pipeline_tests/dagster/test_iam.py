"""Least privilege: the documented BYOD policy is all the pipeline needs to copy a day.

Against the IAM-enforcing moto server of ``support.iam`` (``iam_s3``): a day runs through
Dagster with a key holding exactly the documented policy, and with one lacking
``s3:ListBucketMultipartUploads``. The connectivity check with the same keys:
integration/test_connectivity.py; the policy in the docs against the deployed file:
unit/test_deploy_files_and_docs.py.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
import pytest
from botocore.exceptions import ClientError

from focus_pipeline.defs import build_definitions
from focus_pipeline.lib.transfer import MIB
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY, b64md5
from focus_pipeline_tests.support.iam import BUCKET, PREFIX, IamS3


def run_day(
    monkeypatch: pytest.MonkeyPatch, iam_s3: IamS3, user: str, day: str
) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    key_id, secret = iam_s3.keys[user]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("FOCUS_S3_BUCKET", BUCKET)
    monkeypatch.setenv("FOCUS_S3_PREFIX", PREFIX)
    monkeypatch.setenv("FOCUS_S3_ENDPOINT_URL", iam_s3.endpoint)
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key=day,
            instance=instance,
            resources=defs.resources,
            raise_on_error=False,
        )
        messages = [e.message or "" for e in instance.all_logs(result.run_id)]
    return result, messages


def seed_day(oci_emulator: Any, day: str) -> dict[str, bytes]:
    folder = f"FOCUS Reports/{day.replace('-', '/')}/"
    files = {"0001-00001.csv.gz": os.urandom(70_000), "0001-00002.csv.gz": os.urandom(6 * MIB)}
    for name, data in files.items():
        oci_emulator.put_object(TENANCY, folder + name, data)
    return {f"{PREFIX}/{day}_{name}": b64md5(data) for name, data in files.items()}


def contents(admin: Any) -> dict[str, str]:
    out = {}
    for obj in admin.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        out[obj["Key"]] = b64md5(admin.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
    return out


def uploads(admin: Any) -> set[str]:
    return {u["Key"] for u in admin.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])}


def denied(call: Any) -> bool:
    try:
        call()
    except ClientError as exc:
        # HEAD answers carry no body, so their code is the bare status.
        return exc.response["Error"]["Code"] in ("AccessDenied", "403")
    return False


def test_the_documented_policy_copies_a_day_and_sweeps(
    iam_s3, monkeypatch, focus_env, oci_emulator
) -> None:
    admin = iam_s3.client("admin")
    orphan = f"{PREFIX}/2024-11-01_killed-run.csv.gz"
    admin.create_multipart_upload(Bucket=BUCKET, Key=orphan)
    expected = seed_day(oci_emulator, "2024-11-28")

    result, messages = run_day(monkeypatch, iam_s3, "pipeline", "2024-11-28")

    assert result.success, [m for m in messages if "rror" in m][-5:]
    assert contents(admin) == expected
    assert uploads(admin) == set()  # the orphan was swept with the key's own rights
    assert any("Aborted 1 multipart upload(s)" in m for m in messages)

    # The enforcement is real: the same key can neither read nor list the destination, nor
    # write outside its prefix.
    pipeline = iam_s3.client("pipeline")
    some_key = next(iter(expected))
    assert denied(lambda: pipeline.get_object(Bucket=BUCKET, Key=some_key))
    assert denied(lambda: pipeline.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX))
    assert denied(lambda: pipeline.head_object(Bucket=BUCKET, Key=some_key))
    assert denied(lambda: pipeline.put_object(Bucket=BUCKET, Key="other/x", Body=b"x"))


def test_without_list_uploads_the_sweep_warns_and_the_copy_goes_on(
    iam_s3, monkeypatch, focus_env, oci_emulator
) -> None:
    admin = iam_s3.client("admin")
    orphan = f"{PREFIX}/2024-11-02_killed-run.csv.gz"
    admin.create_multipart_upload(Bucket=BUCKET, Key=orphan)
    expected = seed_day(oci_emulator, "2024-11-29")

    result, messages = run_day(monkeypatch, iam_s3, "pipeline-nolist", "2024-11-29")

    assert result.success, [m for m in messages if "rror" in m][-5:]
    landed = contents(admin)
    assert {k: landed[k] for k in expected} == expected
    warnings = [m for m in messages if "Could not list multipart uploads" in m]
    assert len(warnings) == 1 and "AccessDenied" in warnings[0]
    assert "s3:ListBucketMultipartUploads" in warnings[0]
    assert orphan in uploads(admin)  # left for a key that may list uploads
    admin.abort_multipart_upload(
        Bucket=BUCKET,
        Key=orphan,
        UploadId=next(
            u["UploadId"]
            for u in admin.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
            if u["Key"] == orphan
        ),
    )
