"""Shared fixtures: a moto S3 server and the OCI emulator, both spoken to over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from focus_pipeline_tests.oci_helpers import make_oci_config
from oci_emulator import OciEmulator

TENANCY = "ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq"
NAMESPACE = "bling"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture(scope="session", autouse=True)
def _aws_test_credentials() -> Iterator[None]:
    """Fake credentials, so nothing can ever reach a real AWS account from a test."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", REGION)
    mp.delenv("AWS_PROFILE", raising=False)
    yield
    mp.undo()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


@pytest.fixture
def s3_bucket(s3_client) -> str:  # type: ignore[no-untyped-def]
    """A fresh, empty destination bucket per test."""
    name = f"byod-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def oci_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config_file, _ = make_oci_config(tmp_path_factory.mktemp("oci"))
    return config_file


@pytest.fixture
def oci_emulator(tmp_path: Path) -> Iterator[OciEmulator]:
    emu = OciEmulator(data_dir=tmp_path / "oci-data", namespace=NAMESPACE).start()
    emu.create_bucket(TENANCY)
    yield emu
    emu.stop()


@pytest.fixture
def focus_env(
    monkeypatch: pytest.MonkeyPatch,
    oci_emulator: OciEmulator,
    oci_config_file: Path,
    s3_endpoint: str,
    s3_bucket: str,
) -> dict[str, str]:
    """The pipeline's environment, pointing at the two local servers."""
    env = {
        "FOCUS_OCI_NAMESPACE": NAMESPACE,
        "FOCUS_OCI_BUCKET": TENANCY,
        "FOCUS_OCI_CONFIG_FILE": str(oci_config_file),
        "FOCUS_OCI_ENDPOINT": oci_emulator.endpoint,
        "FOCUS_S3_BUCKET": s3_bucket,
        "FOCUS_S3_PREFIX": "byod/acct-1",
        "FOCUS_S3_REGION": REGION,
        "FOCUS_S3_ENDPOINT_URL": s3_endpoint,
        "FOCUS_START_DATE": "2024-11-01",
        "FOCUS_RETRY_BACKOFF_SECONDS": "0.05",
        "FOCUS_PART_SIZE_MB": "5",
        "FOCUS_STEP_RETRIES": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def s3_contents(s3_client, bucket: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every key in the bucket with the base64 MD5 of its bytes (read back, not the ETag)."""
    out = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            body = s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out[obj["Key"]] = b64md5(body)
    return out


def open_uploads(s3_client, bucket: str) -> list[str]:  # type: ignore[no-untyped-def]
    resp = s3_client.list_multipart_uploads(Bucket=bucket)
    return [u["Key"] for u in resp.get("Uploads", [])]
