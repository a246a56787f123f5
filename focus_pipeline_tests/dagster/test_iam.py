"""Least privilege: the documented BYOD policy is all the pipeline needs.

A separate moto server enforces IAM (``INITIAL_NO_AUTH_ACTION_COUNT``: the first requests,
which create the bucket, the users, their keys and policies, are free; every later one is
signed and checked). It runs in its own process because moto keeps that switch and the request
count in module globals, which the shared in-process server of the other tests must not see.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import dagster as dg
import pytest
from botocore.exceptions import ClientError

from focus_pipeline.defs import build_definitions
from focus_pipeline.lib.transfer import MIB
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import REGION, ROOT, TENANCY, b64md5, free_port

MOTO_SERVER = os.path.join(os.path.dirname(sys.executable), "moto_server")
BUCKET = "byod-iam"
PREFIX = "byod/acct-1"
USERS = ("pipeline", "pipeline-nolist", "admin")
# create_bucket, then create_user + create_access_key + put_user_policy per user.
SETUP_REQUESTS = 1 + 3 * len(USERS)


def fill(policy: str) -> dict[str, Any]:
    return json.loads(policy.replace("YOUR-BYOD-BUCKET", BUCKET).replace("YOUR/BYOD/PATH", PREFIX))


def documented_policy() -> dict[str, Any]:
    """The minimal policy exactly as docs/reliability.md gives it."""
    text = (ROOT / "docs" / "reliability.md").read_text()
    block = re.search(r"<!-- minimal-policy.*?```json\n(.*?)```", text, re.DOTALL)
    assert block, "docs/reliability.md lost its minimal-policy block"
    return fill(block.group(1))


def test_the_documented_policy_is_the_one_deployed() -> None:
    deployed = ROOT / "deploy" / "aws" / "byod-iam-policy.json"
    assert documented_policy() == fill(deployed.read_text())


@dataclass
class IamS3:
    endpoint: str
    keys: dict[str, tuple[str, str]]

    def client(self, user: str) -> Any:
        key_id, secret = self.keys[user]
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )


@pytest.fixture(scope="module")
def iam_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamS3]:
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # a bare TCP connect: an HTTP probe would use up a free request
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "moto_server failed"
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(Bucket=BUCKET)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION)
        policy = documented_policy()
        policies = {
            "pipeline": policy,
            "pipeline-nolist": {
                **policy,
                "Statement": [
                    s for s in policy["Statement"] if s["Action"] != "s3:ListBucketMultipartUploads"
                ],
            },
            "admin": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
        }
        keys = {}
        for user in USERS:
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (key["AccessKeyId"], key["SecretAccessKey"])
            iam.put_user_policy(
                UserName=user, PolicyName="byod", PolicyDocument=json.dumps(policies[user])
            )
        yield IamS3(endpoint, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


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
