"""Shared fixtures: a moto S3 server and the OCI emulator, both spoken to over real HTTP, the
S3 fault proxy, the retry counter and the IAM-enforcing S3 (from ``support``).

Fixtures only: constants and helpers live in ``focus_pipeline_tests.support``, and test files
import them from there, never from this module.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from focus_pipeline_tests.support import (
    NAMESPACE,
    REGION,
    TENANCY,
    RetryLog,
    S3FaultProxy,
    focus_environment,
    free_port,
    make_oci_config,
)
from focus_pipeline_tests.support.iam import iam_s3  # noqa: F401 (a fixture, registered here)
from oci_emulator import OciEmulator


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
    env = focus_environment(
        oci_endpoint=oci_emulator.endpoint,
        oci_config_file=str(oci_config_file),
        s3_endpoint=s3_endpoint,
        s3_bucket=s3_bucket,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    """The S3 fault proxy in front of the shared moto server."""
    p = S3FaultProxy(s3_endpoint, seed=7).start()
    yield p
    p.stop()


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("focus_pipeline.lib.retry")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
