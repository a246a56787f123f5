"""Reliability of the copy engine on the wire: every failure ends with the file in S3 byte for
byte, or not there at all.

What test_lib_transfer.py and dagster/test_assets.py already prove (a cut body re-read for its
range, a replaced object copied in its new version, a cancel aborting the upload, 3 failed
files of 10 copied again by the next run) is not repeated here. This module covers the S3 side
of the retries (through the fault proxy in front of moto), lost answers, OCI read timeouts and
the retry bounds. The same failures through Dagster, bad input and the fault-injection suite
quoted in docs/reliability.md: dagster/test_reliability.py; the retry policy itself:
unit/test_reliability.py.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from focus_pipeline.defs.resources import ByodS3Resource
from focus_pipeline.lib import oci_source
from focus_pipeline.lib.errors import describe_failure
from focus_pipeline.lib.oci_source import OciConnection, OciReportSource
from focus_pipeline.lib.plan import PlannedCopy
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.transfer import MIB, TransferOptions, copy_all
from focus_pipeline_tests.support import (
    NAMESPACE,
    REGION,
    TENANCY,
    S3Fault,
    b64md5,
    open_uploads,
    s3_contents,
)
from oci_emulator import Fault, OciEmulator

FOLDER = "FOCUS Reports/2024/11/28/"
OPTIONS = TransferOptions(part_size=5 * MIB, streams_per_file=3, max_concurrent_files=3)


def oci_source_for(emu: OciEmulator, config_file: Path, retry: RetryPolicy) -> OciReportSource:
    conn = OciConnection(config_file=str(config_file), endpoint=emu.endpoint)
    return OciReportSource(conn.build_client, NAMESPACE, TENANCY, retry)


def byod_client(endpoint: str) -> Any:
    """The S3 client exactly as the asset builds it."""
    return ByodS3Resource(bucket="unused", endpoint_url=endpoint, region_name=REGION).get_client()


def plans(source: OciReportSource) -> list[PlannedCopy]:
    return [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(FOLDER)]


# --- S3 retries ------------------------------------------------------------------------------


def test_s3_retries_have_one_layer_and_resend_the_same_part_bytes(
    oci_emulator, oci_config_file, proxy, s3_client, s3_bucket, retry_log
) -> None:
    """A part is retried by our policy alone (botocore's retries are off), and its bytearray
    body goes out whole again after a 503, a request cut half-way and a lost answer."""
    big, small = os.urandom(12 * MIB), os.urandom(3000)
    oci_emulator.put_object(TENANCY, FOLDER + "big.csv.gz", big)
    oci_emulator.put_object(TENANCY, FOLDER + "small.csv.gz", small)
    for kind in ("error", "cut_request", "lost_response"):
        proxy.add(
            S3Fault(op="UploadPart", part_number=2, kind=kind, status=503, code="SlowDown", times=1)
        )
    proxy.add(S3Fault(op="PutObject", status=500, code="InternalError", times=1))
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(3, 0.01))

    results, failures = copy_all(
        source,
        byod_client(proxy.endpoint),
        s3_bucket,
        plans(source),
        OPTIONS,
        s3_retry=source.retry,
    )

    assert failures == [] and len(results) == 2
    assert s3_contents(s3_client, s3_bucket) == {
        "k/big.csv.gz": b64md5(big),
        "k/small.csv.gz": b64md5(small),
    }
    parts = Counter(r.part_number for r in proxy.snapshot() if r.op == "UploadPart")
    assert parts == {1: 1, 2: 4, 3: 1}  # only the faulty part went again
    # Every retry was ours: botocore sent each request once.
    assert retry_log.retries == {"UploadPart": 3, "PutObject": 1}
    assert open_uploads(s3_client, s3_bucket) == []


def test_without_retries_one_s3_fault_fails_the_file_so_botocore_adds_none(
    oci_emulator, oci_config_file, proxy, s3_client, s3_bucket
) -> None:
    oci_emulator.put_object(TENANCY, FOLDER + "small.csv.gz", b"x" * 100)
    proxy.add(S3Fault(op="PutObject", status=503, code="SlowDown", times=1))
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(0, 0.01))
    client = byod_client(proxy.endpoint)
    assert client.meta.config.retries["total_max_attempts"] == 1

    _, failures = copy_all(source, client, s3_bucket, plans(source), OPTIONS, s3_retry=source.retry)

    assert len(failures) == 1
    assert proxy.requests_by_op()["PutObject"] == 1
    assert "503 SlowDown" in describe_failure(failures[0].error, NAMESPACE, TENANCY, s3_bucket)
    assert s3_contents(s3_client, s3_bucket) == {}


def test_lost_answers_to_create_and_abort_leave_no_upload_open(
    oci_emulator, oci_config_file, proxy, s3_client, s3_bucket, caplog
) -> None:
    """A CreateMultipartUpload whose answer is lost opened an upload nobody knows the id of;
    a lost AbortMultipartUpload answer turns the retry into NoSuchUpload. Neither may leave
    an upload open or log a failure."""
    data = os.urandom(11 * MIB)
    oci_emulator.put_object(TENANCY, FOLDER + "big.csv.gz", data)
    proxy.add(S3Fault(op="CreateMultipartUpload", kind="lost_response", times=1))
    proxy.add(S3Fault(op="AbortMultipartUpload", kind="lost_response", times=1))
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(3, 0.01))

    with caplog.at_level(logging.WARNING, logger="focus_pipeline"):
        results, failures = copy_all(
            source,
            byod_client(proxy.endpoint),
            s3_bucket,
            plans(source),
            OPTIONS,
            s3_retry=source.retry,
        )

    assert failures == [] and results[0].md5 == b64md5(data)
    assert s3_contents(s3_client, s3_bucket) == {"k/big.csv.gz": b64md5(data)}
    assert open_uploads(s3_client, s3_bucket) == []
    ops = proxy.requests_by_op()
    assert (ops["CreateMultipartUpload"], ops["AbortMultipartUpload"]) == (2, 2)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- OCI retries -----------------------------------------------------------------------------


def test_an_oci_read_timeout_is_retried(
    monkeypatch, oci_emulator, oci_config_file, s3_client, s3_bucket, retry_log
) -> None:
    # A read timeout a loaded machine's answers stay far below, and one answer held past it.
    monkeypatch.setattr(oci_source, "DEFAULT_TIMEOUT", (10.0, 2.0))
    data = os.urandom(50_000)
    oci_emulator.put_object(TENANCY, FOLDER + "slow.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=4.0, times=1))
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(2, 0.01))

    _, failures = copy_all(
        source, s3_client, s3_bucket, plans(source), OPTIONS, s3_retry=source.retry
    )

    assert failures == []
    assert s3_contents(s3_client, s3_bucket) == {"k/slow.csv.gz": b64md5(data)}
    assert retry_log.retries == {"reading": 1}


def test_retries_are_bounded_and_the_failure_says_what_to_do(
    oci_emulator, oci_config_file, s3_client, s3_bucket
) -> None:
    oci_emulator.put_object(TENANCY, FOLDER + "a.csv.gz", os.urandom(12 * MIB))
    oci_emulator.faults.add(
        Fault(op="GetObject", status=503, name_pattern="a.csv.gz", probability=1.0)
    )
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(3, 0.01))
    listed = plans(source)
    oci_emulator.clear_requests()

    _, failures = copy_all(source, s3_client, s3_bucket, listed, OPTIONS, s3_retry=source.retry)

    assert len(failures) == 1
    gets = Counter(r.headers.get("range") for r in oci_emulator.requests if r.op == "GetObject")
    # The first range failing for good stops the file: 1 + 3 retries for it, and the other
    # parts in flight stop at their own retries' end or at the cancel, never beyond 4.
    assert gets["bytes=0-5242879"] == 4 and max(gets.values()) == 4
    text = describe_failure(failures[0].error, NAMESPACE, TENANCY, s3_bucket)
    assert "503 ServiceUnavailable" in text and "next attempt will try again" in text
    assert s3_contents(s3_client, s3_bucket) == {} and open_uploads(s3_client, s3_bucket) == []
