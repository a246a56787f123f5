"""Small helpers shared by the tests: ports, checksums, what an S3 bucket holds, polling."""

from __future__ import annotations

import base64
import hashlib
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

from focus_pipeline_tests.support.constants import NAMESPACE, REGION, TENANCY

# Waits poll for an outcome until this deadline: generous, so that a loaded machine is slow
# but never fails. How fast things are is the bench's business, not the tests'.
WAIT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def s3_contents(s3_client: Any, bucket: str) -> dict[str, str]:
    """Every key in the bucket with the base64 MD5 of its bytes (read back, not the ETag)."""
    out = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = b64md5(body)
    return out


def open_uploads(s3_client: Any, bucket: str) -> list[str]:
    """The keys of the bucket's open multipart uploads, in S3's order."""
    resp = s3_client.list_multipart_uploads(Bucket=bucket)
    return [u["Key"] for u in resp.get("Uploads", [])]


def open_upload_keys(s3_client: Any, bucket: str) -> set[str]:
    """The keys of the bucket's open multipart uploads, as a set."""
    return set(open_uploads(s3_client, bucket))


def start_upload(s3_client: Any, bucket: str, key: str, parts: int = 0) -> str:
    """Open a multipart upload with ``parts`` 10-byte parts, as a killed copy leaves one."""
    upload_id = s3_client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    for number in range(1, parts + 1):
        s3_client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=b"x" * 10
        )
    return upload_id


def wait_until(
    predicate: Callable[[], bool],
    proc: subprocess.Popen | None = None,
    timeout: float = WAIT_SECONDS,
    interval: float = 0.05,
) -> bool:
    """Poll ``predicate`` until it holds (True), ``proc`` exits or ``timeout`` passes (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(interval)
    return False


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = WAIT_SECONDS) -> None:
    """Wait until a server ``proc`` started accepts TCP connections on ``port``.

    A bare TCP connect, not an HTTP probe: a moto server that enforces IAM counts every HTTP
    request against its free setup requests.
    """

    def accepts() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    if not wait_until(accepts, proc, timeout, interval=0.1):
        raise AssertionError(f"server on port {port} did not start (exit code {proc.poll()})")


def focus_environment(
    *, oci_endpoint: str, oci_config_file: str, s3_endpoint: str, s3_bucket: str
) -> dict[str, str]:
    """The pipeline's FOCUS_* variables for the tests, pointing at the given endpoints."""
    return {
        "FOCUS_OCI_NAMESPACE": NAMESPACE,
        "FOCUS_OCI_BUCKET": TENANCY,
        "FOCUS_OCI_CONFIG_FILE": oci_config_file,
        "FOCUS_OCI_ENDPOINT": oci_endpoint,
        "FOCUS_S3_BUCKET": s3_bucket,
        "FOCUS_S3_PREFIX": "byod/acct-1",
        "FOCUS_S3_REGION": REGION,
        "FOCUS_S3_ENDPOINT_URL": s3_endpoint,
        "FOCUS_START_DATE": "2024-11-01",
        "FOCUS_RETRY_BACKOFF_SECONDS": "0.05",
        "FOCUS_PART_SIZE_MB": "5",
        "FOCUS_STEP_RETRIES": "0",
    }
