"""Reliability through Dagster: every failure ends with the file in S3 byte for byte, or not
there at all.

What test_assets.py and integration/test_lib_transfer.py already prove (a cut body re-read for
its range, a replaced object copied in its new version, a cancel aborting the upload, 3 failed
files of 10 copied again by the next run) is not repeated here. This module adds Dagster's own
step retry, a replaced object seen through the asset, bad input, and the fault-injection suite
whose figures are quoted in docs/reliability.md. The retries on the wire (S3 through the fault
proxy, OCI timeouts, the retry bounds): integration/test_reliability.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.metadata import manifest_files
from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.transfer import MIB
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import (
    TENANCY,
    S3Fault,
    S3FaultProxy,
    b64md5,
    open_uploads,
    s3_contents,
)
from oci_emulator import Fault, OciEmulator

log = logging.getLogger(__name__)
DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"


def materialize(day: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    return dg.materialize(
        [defs.get_assets_def("byod_focus_reports")],
        partition_key=day,
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )


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
        [copied] = manifest_files(meta["manifest"].value)
        assert copied.etag == replaced[0] and copied.md5 == b64md5(new)
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
