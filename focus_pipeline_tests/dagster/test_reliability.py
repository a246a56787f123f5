"""Reliability: every failure ends with the file in S3 byte for byte, or not there at all.

What test_lib_transfer.py and test_assets.py already prove (a cut body re-read for its range,
a replaced object copied in its new version, a cancel aborting the upload, 3 failed files of
10 copied again by the next run) is not repeated here. This module adds the S3 side of the
retries, lost answers, timeouts, the retry bounds, Dagster's own step retry, a replaced object
seen through the asset, bad input, and the fault-injection suite whose figures are quoted in
docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from botocore.exceptions import ClientError as BotoClientError
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.resources import ByodS3Resource
from focus_pipeline.emulator import Fault, OciEmulator
from focus_pipeline.lib import oci_source
from focus_pipeline.lib.errors import describe_failure, is_retryable
from focus_pipeline.lib.oci_source import OciConnection, OciReportSource
from focus_pipeline.lib.plan import PlannedCopy
from focus_pipeline.lib.retry import MAX_BACKOFF_SECONDS, RetryPolicy
from focus_pipeline.lib.transfer import MIB, TransferOptions, copy_all
from focus_pipeline.settings import SettingsError, load_settings
from focus_pipeline_tests.support import (
    NAMESPACE,
    REGION,
    TENANCY,
    S3Fault,
    S3FaultProxy,
    b64md5,
    open_uploads,
    s3_contents,
)

log = logging.getLogger(__name__)
DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"
OPTIONS = TransferOptions(part_size=5 * MIB, streams_per_file=3, max_concurrent_files=3)


class RetryLog(logging.Handler):
    """Counts the retries ``call_with_retries`` announces, by the operation it names."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and "retry" in record.msg and record.args:
            self.retries[str(record.args[0]).split(" ")[0]] += 1

    @property
    def s3(self) -> int:
        return sum(n for op, n in self.retries.items() if op[:1].isupper())

    @property
    def oci(self) -> int:
        return sum(n for op, n in self.retries.items() if not op[:1].isupper())


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("focus_pipeline.lib.retry")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    p = S3FaultProxy(s3_endpoint, seed=7).start()
    yield p
    p.stop()


def oci_source_for(emu: OciEmulator, config_file: Path, retry: RetryPolicy) -> OciReportSource:
    conn = OciConnection(config_file=str(config_file), endpoint=emu.endpoint)
    return OciReportSource(conn.build_client, NAMESPACE, TENANCY, retry)


def byod_client(endpoint: str) -> Any:
    """The S3 client exactly as the asset builds it."""
    return ByodS3Resource(bucket="unused", endpoint_url=endpoint, region_name=REGION).get_client()


def plans(source: OciReportSource) -> list[PlannedCopy]:
    return [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(FOLDER)]


def materialize(day: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    return dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=day,
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )


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
        source, byod_client(proxy.endpoint), s3_bucket, plans(source), OPTIONS
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

    _, failures = copy_all(source, client, s3_bucket, plans(source), OPTIONS)

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
            source, byod_client(proxy.endpoint), s3_bucket, plans(source), OPTIONS
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
    monkeypatch.setattr(oci_source, "DEFAULT_TIMEOUT", (2.0, 0.3))
    data = os.urandom(50_000)
    oci_emulator.put_object(TENANCY, FOLDER + "slow.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=0.8, times=1))
    source = oci_source_for(oci_emulator, oci_config_file, RetryPolicy(2, 0.01))

    _, failures = copy_all(source, s3_client, s3_bucket, plans(source), OPTIONS)

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

    _, failures = copy_all(source, s3_client, s3_bucket, listed, OPTIONS)

    assert len(failures) == 1
    gets = Counter(r.headers.get("range") for r in oci_emulator.requests if r.op == "GetObject")
    # The first range failing for good stops the file: 1 + 3 retries for it, and the other
    # parts in flight stop at their own retries' end or at the cancel, never beyond 4.
    assert gets["bytes=0-5242879"] == 4 and max(gets.values()) == 4
    text = describe_failure(failures[0].error, NAMESPACE, TENANCY, s3_bucket)
    assert "503 ServiceUnavailable" in text and "next attempt will try again" in text
    assert s3_contents(s3_client, s3_bucket) == {} and open_uploads(s3_client, s3_bucket) == []


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    import random

    policy, rng = RetryPolicy(10, 0.5), random.Random(1)
    for attempt in range(10):
        cap = min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempt)
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.9  # the whole range is used, not a fixed step


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (ReadTimeoutError(endpoint_url="http://s3"), True),
        (ConnectTimeoutError(endpoint_url="http://s3"), True),
        (ConnectionClosedError(endpoint_url="http://s3"), True),
        (EndpointConnectionError(endpoint_url="http://s3"), True),
        (BotoClientError({"Error": {"Code": "SlowDown"}}, "UploadPart"), True),
        (
            BotoClientError(
                {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                "CompleteMultipartUpload",
            ),
            True,
        ),
        (BotoClientError({"Error": {"Code": "RequestTimeout"}}, "UploadPart"), True),
        (
            BotoClientError(
                {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "PutObject",
            ),
            False,
        ),
        (BotoClientError({"Error": {"Code": "NoSuchBucket"}}, "PutObject"), False),
    ],
)
def test_which_s3_errors_are_retried(exc: BaseException, retryable: bool) -> None:
    assert is_retryable(exc) is retryable


# --- Through Dagster -------------------------------------------------------------------------


def test_dagster_step_retry_copies_only_the_files_still_missing(
    monkeypatch, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    """The asset's RetryPolicy, inside one run: 3 of 10 land, the step fails, the retry reads
    the other 7 only (test_assets.py shows the same across two runs)."""
    monkeypatch.setenv("FOCUS_MAX_RETRIES", "1")
    monkeypatch.setenv("FOCUS_STEP_RETRIES", "1")
    monkeypatch.setenv("FOCUS_STEP_RETRY_DELAY_SECONDS", "0")
    for i in range(10):
        oci_emulator.put_object(TENANCY, f"{FOLDER}f{i}.csv.gz", os.urandom(1000 + i))
    # 7 files x 2 attempts each (1 + FOCUS_MAX_RETRIES) in the step's first try.
    oci_emulator.faults.add(
        Fault(op="GetObject", name_pattern=r"f[3-9]\.csv\.gz$", status=500, times=14)
    )

    with dg.instance_for_test() as instance:
        result = materialize(DAY, instance)
        assert result.success
        assert any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)

    gets = Counter(
        r.object_name.rsplit("/", 1)[1] for r in oci_emulator.requests if r.op == "GetObject"
    )
    # Landed in the first try: read once. Failed twice, then copied by the retry: read 3 times.
    assert gets == {f"f{i}.csv.gz": 1 if i < 3 else 3 for i in range(10)}
    assert len(s3_contents(s3_client, s3_bucket)) == 10


def test_a_report_replaced_mid_copy_lands_new_and_the_day_checks_pass(
    monkeypatch, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    """OCI answers 412 to the stale etag, the copy restarts on the new version, and the day is
    judged against that version (not the listing taken before the change)."""
    name = FOLDER + "0001000002103533-00001.csv.gz"
    oci_emulator.put_object(TENANCY, name, os.urandom(11 * MIB))
    new = os.urandom(11 * MIB + 5)
    original_read = OciReportSource.read
    replaced: list[str] = []
    lock = threading.Lock()

    def read_after_replacing(self, obj, *args, **kwargs):  # type: ignore[no-untyped-def]
        with lock:  # once, after the listing and before the first byte is read
            if not replaced:
                replaced.append(oci_emulator.put_object(TENANCY, name, new)["etag"])
        return original_read(self, obj, *args, **kwargs)

    monkeypatch.setattr(OciReportSource, "read", read_after_replacing)
    with dg.instance_for_test() as instance:
        result = materialize(DAY, instance)
        assert result.success
        meta = result.asset_materializations_for_node("byod_focus_reports")[-1].metadata
        [copied] = meta["manifest"].value
        assert copied["etag"] == replaced[0] and copied["md5"] == b64md5(new)
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        assert checks["all_reports_copied"] is True
        assert oci_emulator.count(op="GetObject", status=412) >= 1

        oci_emulator.clear_requests()
        again = materialize(DAY, instance)  # the new version is recorded: nothing to copy
        assert again.success and oci_emulator.count(op="GetObject") == 0
    key = f"byod/acct-1/{DAY}_0001000002103533-00001.csv.gz"
    assert s3_contents(s3_client, s3_bucket) == {key: b64md5(new)}
    assert open_uploads(s3_client, s3_bucket) == []


# --- Bad input -------------------------------------------------------------------------------


def test_traversal_names_are_skipped_and_listed_never_written(
    focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    bad = [
        FOLDER + "..",
        FOLDER + "../../../../etc/passwd",
        FOLDER + "../27/0001000002103533-00001.csv.gz",
        FOLDER + "a..b.csv.gz",
        FOLDER + "./x.csv.gz",
    ]
    for name in bad:
        oci_emulator.put_object(TENANCY, name, b"evil")
    oci_emulator.put_object(TENANCY, FOLDER + "good.csv.gz", b"ok")
    with dg.instance_for_test() as instance:
        result = materialize(DAY, instance)
    assert result.success
    meta = result.asset_materializations_for_node("byod_focus_reports")[-1].metadata
    assert {s["name"] for s in meta["skipped_objects"].value} == set(bad)
    assert s3_contents(s3_client, s3_bucket) == {f"byod/acct-1/{DAY}_good.csv.gz": b64md5(b"ok")}


def test_a_day_that_is_not_a_date_is_refused_before_any_request(focus_env, oci_emulator) -> None:
    from dagster._core.errors import DagsterUnknownPartitionError

    with dg.instance_for_test() as instance, pytest.raises(DagsterUnknownPartitionError):
        materialize("2024-02-30", instance)
    assert oci_emulator.count() == 0


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("FOCUS_STREAMS_PER_FILE", "0"),
        ("FOCUS_STREAMS_PER_FILE", "-4"),
        ("FOCUS_MAX_RETRIES", "-1"),
        ("FOCUS_RETRY_BACKOFF_SECONDS", "0"),
        ("FOCUS_RETRY_BACKOFF_SECONDS", "-0.5"),
        ("FOCUS_STEP_RETRIES", "-2"),
        ("FOCUS_PART_SIZE_MB", "-5"),
        ("FOCUS_STALE_UPLOAD_HOURS", "-1"),
        ("FOCUS_STALE_UPLOAD_HOURS", "1.5"),
        ("FOCUS_LOOKBACK_DAYS", "0"),
    ],
)
def test_negative_and_zero_tuning_is_refused_naming_the_variable(
    monkeypatch, focus_env, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert f"{var}: " in str(err.value)


# --- Fault-injection suite -------------------------------------------------------------------

SUITE_DAYS = [dt.date(2024, 11, d) for d in range(1, 11)]
SUITE_MAX_RETRIES = 8
# Three error faults in a row, each firing with p, fail 1 - (1 - p)^3 = 20% of requests.
P_EACH = 1 - 0.8 ** (1 / 3)


def seed_backfill(emu: OciEmulator) -> tuple[dict[str, str], int]:
    """10 days of 4 small reports (1 KB to 250 KB), plus a 2-part report on 3 days and a
    3-part one on the last: about 30 MiB in 44 files. Returns keys with MD5s, and bytes."""
    expected, total = {}, 0
    for i, day in enumerate(SUITE_DAYS):
        sizes = [1_000 + (i * 7919 + n * 104_729) % 250_000 for n in range(4)]
        if i in (0, 3, 6):
            sizes.append(5 * MIB + 300_000 + i * 1000)
        if i == len(SUITE_DAYS) - 1:
            sizes.append(10 * MIB + 123_456)
        for n, size in enumerate(sizes, start=1):
            name = f"0001000002103533-{n:05d}.csv.gz"
            data = os.urandom(size)
            emu.put_object(TENANCY, f"FOCUS Reports/{day:%Y/%m/%d}/{name}", data)
            expected[f"byod/acct-1/{day.isoformat()}_{name}"] = b64md5(data)
            total += size
    return expected, total


def inject_faults(emu: OciEmulator, proxy: S3FaultProxy) -> None:
    """Random faults at the rates the issue names, after a few certain ones so that every kind
    shows up in every run whatever the thread interleaving."""
    # One report on day 4 fails past every request retry in the step's first try, so the day
    # fails with its other reports landed and Dagster's step retry must resume it.
    emu.faults.add(
        Fault(
            op="GetObject",
            name_pattern=r"2024/11/04/0001000002103533-00002",
            status=500,
            times=SUITE_MAX_RETRIES + 1,
        )
    )
    emu.faults.add(Fault(op="ListObjects", status=429, times=1))
    emu.faults.add(Fault(op="GetObject", name_pattern="11/10/", cut_after_bytes=4096, times=2))
    for op in ("ListObjects", "GetObject"):
        for status in (503, 429, 500):
            emu.faults.add(Fault(op=op, status=status, probability=P_EACH))
    emu.faults.add(Fault(op="GetObject", cut_after_bytes=16 * 1024, probability=0.1))

    for kind in ("cut_request", "lost_response"):
        proxy.add(S3Fault(op="UploadPart", kind=kind, times=1))
        proxy.add(S3Fault(op="PutObject", kind=kind, times=1))
    proxy.add(S3Fault(op="CreateMultipartUpload", kind="lost_response", times=1))
    for op in ("UploadPart", "PutObject"):
        proxy.add(S3Fault(op=op, status=500, code="InternalError", probability=0.08))
        proxy.add(S3Fault(op=op, status=503, code="SlowDown", probability=0.05))
        proxy.add(S3Fault(op=op, kind="cut_request", probability=0.04))
        proxy.add(S3Fault(op=op, kind="lost_response", probability=0.04))
    proxy.add(S3Fault(op="CreateMultipartUpload", status=503, code="SlowDown", probability=0.1))
    proxy.add(S3Fault(op="CreateMultipartUpload", kind="lost_response", probability=0.1))
    # Not lost answers here: moto forgets a completed upload, so a retried Complete would see
    # NoSuchUpload where S3 answers 200 (docs/reliability.md); the file would be copied twice.
    proxy.add(S3Fault(op="CompleteMultipartUpload", status=500, probability=0.1))
    proxy.add(S3Fault(op="AbortMultipartUpload", status=503, code="SlowDown", probability=0.1))
    proxy.add(S3Fault(op="AbortMultipartUpload", kind="lost_response", probability=0.1))
    proxy.add(S3Fault(op="ListMultipartUploads", status=503, code="SlowDown", probability=0.1))


def test_fault_suite_ten_day_backfill_ends_exact_complete_and_copied_once(
    monkeypatch, focus_env, oci_emulator, proxy, s3_client, s3_bucket, retry_log, record_property
) -> None:
    expected, total_bytes = seed_backfill(oci_emulator)
    for var, value in {
        "FOCUS_S3_ENDPOINT_URL": proxy.endpoint,
        "FOCUS_MAX_RETRIES": str(SUITE_MAX_RETRIES),
        "FOCUS_RETRY_BACKOFF_SECONDS": "0.002",
        "FOCUS_STEP_RETRIES": "2",
        "FOCUS_STEP_RETRY_DELAY_SECONDS": "0",
        "FOCUS_MAX_CONCURRENT_TRANSFERS": "3",
        "FOCUS_STREAMS_PER_FILE": "2",
        # Off, so an upload the copy failed to abort shows up below instead of being swept.
        "FOCUS_STALE_UPLOAD_HOURS": "0",
    }.items():
        monkeypatch.setenv(var, value)
    inject_faults(oci_emulator, proxy)
    oci_emulator.clear_requests()

    started = time.monotonic()
    step_retries = 0
    with dg.instance_for_test() as instance:
        for day in SUITE_DAYS:
            result = materialize(day.isoformat(), instance)
            failures = [e.message for e in result.all_events if e.is_step_failure]
            assert result.success, failures
            step_retries += sum(
                e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events
            )
    wall = time.monotonic() - started

    # Byte for byte, nothing left open.
    assert s3_contents(s3_client, s3_bucket) == expected
    assert open_uploads(s3_client, s3_bucket) == []
    # Each file landed once: one acknowledged write, and nothing written after it (a write
    # whose answer was lost and its retry both precede the acknowledgement).
    writes = proxy.writes_by_key()
    assert set(writes) == set(expected)
    for key, recs in writes.items():
        assert sum(r.delivered for r in recs) == 1 and recs[-1].delivered, key
    # Transient faults were all absorbed per request; only day 4's deliberate hard fault
    # reached Dagster, whose step retry resumed that day.
    assert step_retries == 1

    oci_requests = oci_emulator.requests.snapshot()
    oci_errors = Counter(r.fault["status"] for r in oci_requests if r.fault and r.fault["status"])
    cuts = sum(
        1
        for r in oci_requests
        if r.fault and r.fault["cut_after_bytes"] and r.bytes_sent == r.fault["cut_after_bytes"]
    )
    s3_faults = proxy.faults_by_kind()
    figures = {
        "days": len(SUITE_DAYS),
        "files": len(expected),
        "mib": round(total_bytes / MIB, 1),
        "wall_seconds": round(wall, 1),
        "oci_requests": len(oci_requests),
        "oci_requests_by_op": dict(Counter(r.op for r in oci_requests)),
        "oci_injected_errors_by_status": dict(oci_errors),
        "oci_injected_error_share": round(sum(oci_errors.values()) / len(oci_requests), 3),
        # The random faults alone, against the 20% the suite aims for.
        "oci_random_error_share": round(
            sum(
                1
                for r in oci_requests
                if r.fault and r.fault["status"] and r.fault["times"] is None
            )
            / len(oci_requests),
            3,
        ),
        "oci_bodies_cut": cuts,
        "s3_requests": len(proxy.snapshot()),
        "s3_requests_by_op": dict(proxy.requests_by_op()),
        "s3_injected_faults": dict(s3_faults),
        "retries_oci": retry_log.oci,
        "retries_s3": retry_log.s3,
        "retries_by_call": dict(retry_log.retries),
        "dagster_step_retries": step_retries,
        "objects_written_more_than_once_after_landing": 0,
        "multipart_uploads_left_open": 0,
    }
    for name, value in figures.items():
        record_property(name, value)
    log.info("fault suite figures: %s", json.dumps(figures, sort_keys=True))
    report = os.environ.get("FOCUS_FAULT_REPORT")
    if report:
        Path(report).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    # The faults really happened, of every kind.
    assert set(oci_errors) == {429, 500, 503} and cuts > 0
    assert {k.split(":")[1] for k in s3_faults} == {"error", "cut_request", "lost_response"}
