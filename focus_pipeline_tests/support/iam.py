"""An S3 that enforces IAM, with keys holding the documented BYOD policy and variants of it.

A separate moto server enforces IAM (``INITIAL_NO_AUTH_ACTION_COUNT``: the first requests,
which create the bucket, the users, their keys and policies, are free; every later one is
signed and checked). It runs in its own process because moto keeps that switch and the request
count in module globals, which the shared in-process server of the other tests must not see.

Users: ``pipeline`` holds exactly the policy docs/reliability.md prints (the same as
deploy/aws/byod-iam-policy.json, which a unit test checks); ``pipeline-nolist`` the same
without ``s3:ListBucketMultipartUploads``; ``putonly`` only ``s3:PutObject``; ``admin``
``s3:*``, to plant uploads and read back what landed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from focus_pipeline_tests.support.constants import REGION, ROOT
from focus_pipeline_tests.support.helpers import WAIT_SECONDS, free_port, wait_for_port

MOTO_SERVER = os.path.join(os.path.dirname(sys.executable), "moto_server")
POLICY_FILE = ROOT / "deploy" / "aws" / "byod-iam-policy.json"
BUCKET = "byod-iam"
PREFIX = "byod/acct-1"
USERS = ("pipeline", "pipeline-nolist", "putonly", "admin")
# create_bucket, then create_user + create_access_key + put_user_policy per user.
SETUP_REQUESTS = 1 + 3 * len(USERS)


def fill(policy: str) -> dict[str, Any]:
    """A policy document with the test bucket and path in place of the placeholders."""
    return json.loads(policy.replace("YOUR-BYOD-BUCKET", BUCKET).replace("YOUR/BYOD/PATH", PREFIX))


def documented_policy() -> dict[str, Any]:
    """The minimal policy exactly as docs/reliability.md gives it."""
    text = (ROOT / "docs" / "reliability.md").read_text()
    block = re.search(r"<!-- minimal-policy.*?```json\n(.*?)```", text, re.DOTALL)
    assert block, "docs/reliability.md lost its minimal-policy block"
    return fill(block.group(1))


def user_policies() -> dict[str, dict[str, Any]]:
    policy = documented_policy()
    return {
        "pipeline": policy,
        "pipeline-nolist": {
            **policy,
            "Statement": [
                s for s in policy["Statement"] if s["Action"] != "s3:ListBucketMultipartUploads"
            ],
        },
        "putonly": {
            **policy,
            "Statement": [{**policy["Statement"][0], "Action": ["s3:PutObject"]}],
        },
        "admin": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        },
    }


@dataclass
class IamS3:
    endpoint: str
    keys: dict[str, tuple[str, str]]

    def credentials(self, user: str) -> dict[str, str]:
        """``user``'s key as boto3 client arguments."""
        key_id, secret = self.keys[user]
        return {"aws_access_key_id": key_id, "aws_secret_access_key": secret}

    def client(self, user: str) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, **self.credentials(user)
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
        wait_for_port(port, proc)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name=REGION).create_bucket(Bucket=BUCKET)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION)
        policies = user_policies()
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
        try:
            proc.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
