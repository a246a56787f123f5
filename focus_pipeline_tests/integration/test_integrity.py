"""'Copied' means 'in this destination, intact': OCI emulator -> moto S3 over HTTP.

A server that ignores ``Range``, one that sends the wrong bytes under the right headers, and a
truncated report each fail the file with nothing left in S3 (no object, no open upload) and a
message naming the cause; a good multipart gzip report lands byte for byte; an S3 client with
no credentials fails on its first request instead of retrying, and Dagster does not retry it.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import random
import threading
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.lib.errors import BadRangeAnswer, VerificationError, describe_failure
from focus_pipeline.lib.oci_source import OciConnection, OciReportSource
from focus_pipeline.lib.plan import PlannedCopy
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.transfer import MIB, TransferOptions, copy_all
from focus_pipeline.settings import load_settings
from oci_emulator import Fault, OciEmulator, focus_report_bytes

DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"
OPTIONS = TransferOptions(part_size=5 * MIB, streams_per_file=3, max_concurrent_files=2)
RETRIES = 2


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def report_gzip(size: int, seed: int = 0) -> bytes:
    """A real gzip report of about ``size`` bytes: a FOCUS CSV member, then a member of
    incompressible bytes (stored blocks, quick to build) to reach the size, as concatenated
    gzip files are. A byte changed inside it breaks a member's CRC32."""
    head = focus_report_bytes(dt.date(2024, 11, 28), 500, seed=seed)
    filler = random.Random(seed).randbytes(max(0, size - len(head)))
    return head + gzip.compress(filler, 6, mtime=0)


@pytest.fixture
def tenancy(focus_env: dict[str, str]) -> str:
    return focus_env["FOCUS_OCI_BUCKET"]


@pytest.fixture
def source(focus_env: dict[str, str], oci_emulator: OciEmulator, oci_config_file: Path):  # type: ignore[no-untyped-def]
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)
    return OciReportSource(
        conn.build_client,
        focus_env["FOCUS_OCI_NAMESPACE"],
        focus_env["FOCUS_OCI_BUCKET"],
        RetryPolicy(RETRIES, 0.01),
    )


def plans(source: OciReportSource) -> list[PlannedCopy]:
    return [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(FOLDER)]


def copy(source: OciReportSource, s3_client: Any, bucket: str, options=OPTIONS):  # type: ignore[no-untyped-def]
    return copy_all(source, s3_client, bucket, plans(source), options, s3_retry=source.retry)


def s3_md5s(s3_client: Any, bucket: str) -> dict[str, str]:
    out = {}
    for obj in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
        out[obj["Key"]] = md5(s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    return out


def open_uploads(s3_client: Any, bucket: str) -> list[str]:
    return [u["Key"] for u in s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def put_multipart(emu: OciEmulator, tenancy: str, name: str, data: bytes) -> None:
    """Stored as OCI stores a multipart upload: its md5 is ``...-N``, no whole-body MD5."""
    info = emu.put_object(tenancy, FOLDER + name, data, multipart_part_size=4 * MIB)
    assert info["md5"].endswith(f"-{-(-len(data) // (4 * MIB))}")


def assert_nothing_landed(s3_client: Any, bucket: str) -> None:
    assert s3_md5s(s3_client, bucket) == {}
    assert open_uploads(s3_client, bucket) == []
    assert_no_inflater_left()


def assert_no_inflater_left() -> None:
    """Every file's gzip-check thread ends with its copy, whichever way the copy ended."""
    assert not [t.name for t in threading.enumerate() if t.name.startswith("focus-gunzip")]


# --- Multipart gzip reports ------------------------------------------------------------------


def test_a_good_multipart_gzip_report_lands_byte_exact(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    data = report_gzip(13 * MIB)
    put_multipart(oci_emulator, tenancy, "good.csv.gz", data)

    results, failures = copy(source, s3_client, s3_bucket)

    assert failures == []
    assert results[0].parts == 3 and results[0].md5 == md5(data)
    assert s3_md5s(s3_client, s3_bucket) == {"k/good.csv.gz": md5(data)}
    assert open_uploads(s3_client, s3_bucket) == []
    assert_no_inflater_left()


def test_a_server_that_ignores_range_fails_the_file_after_its_retries(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    put_multipart(oci_emulator, tenancy, "ignored.csv.gz", report_gzip(12 * MIB))
    oci_emulator.faults.add(Fault(op="GetObject", range_mode="ignore"))
    oci_emulator.clear_requests()

    results, failures = copy(source, s3_client, s3_bucket)

    assert results == [] and len(failures) == 1
    error = failures[0].error
    assert isinstance(error, BadRangeAnswer)
    assert "OCI answered 200 to a ranged GET of bytes=" in str(error)
    assert "the server ignored Range" in str(error)
    assert describe_failure(error, "bling", tenancy, s3_bucket) == str(error)
    # Every answer was a whole body; the failing range was tried 1 + RETRIES times, never more.
    gets = Counter(r.headers.get("range") for r in oci_emulator.requests if r.op == "GetObject")
    assert all(r.status == 200 for r in oci_emulator.requests if r.op == "GetObject")
    assert max(gets.values()) == 1 + RETRIES
    assert_nothing_landed(s3_client, s3_bucket)


def test_a_range_ignored_once_is_read_again_and_the_copy_heals(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    data = report_gzip(12 * MIB)
    put_multipart(oci_emulator, tenancy, "once.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", range_mode="ignore", times=1))

    results, failures = copy(source, s3_client, s3_bucket)

    assert failures == [] and results[0].md5 == md5(data)
    assert s3_md5s(s3_client, s3_bucket) == {"k/once.csv.gz": md5(data)}


def test_wrong_bytes_under_the_right_headers_are_caught_by_the_gzip_check(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    data = report_gzip(12 * MIB, seed=3)
    put_multipart(oci_emulator, tenancy, "wrong.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", range_mode="wrong_bytes", times=1))
    oci_emulator.clear_requests()

    results, failures = copy(source, s3_client, s3_bucket)

    assert results == [] and len(failures) == 1
    error = failures[0].error
    assert isinstance(error, VerificationError)
    text = describe_failure(error, "bling", tenancy, s3_bucket)
    assert text.startswith(FOLDER + "wrong.csv.gz: the CRC32 of gzip member 2")
    assert "does not match its trailer" in text
    # The corrupt answer carried exactly the headers asked for: only the content was wrong.
    corrupt = [r for r in oci_emulator.requests if r.fault]
    assert len(corrupt) == 1 and corrupt[0].status == 206
    assert_nothing_landed(s3_client, s3_bucket)


def test_without_the_gzip_check_wrong_bytes_of_a_multipart_object_would_land(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    """Why the check exists: size alone passes a corrupted multipart object."""
    data = report_gzip(12 * MIB, seed=3)
    put_multipart(oci_emulator, tenancy, "wrong.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", range_mode="wrong_bytes", times=1))
    options = TransferOptions(
        part_size=5 * MIB, streams_per_file=3, max_concurrent_files=2, verify_gzip="off"
    )

    results, failures = copy(source, s3_client, s3_bucket, options)

    assert failures == []
    landed = s3_md5s(s3_client, s3_bucket)["k/wrong.csv.gz"]
    assert landed != md5(data) and results[0].md5 == landed


# --- Single-part reports ---------------------------------------------------------------------


def test_with_verify_all_a_truncated_single_part_report_fails(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    good = report_gzip(300_000)
    truncated = good[:-1000]
    oci_emulator.put_object(tenancy, FOLDER + "short.csv.gz", truncated)
    oci_emulator.put_object(tenancy, FOLDER + "whole.csv.gz", good)
    oci_emulator.put_object(tenancy, FOLDER + "empty.csv.gz", b"")
    options = TransferOptions(verify_gzip="all")

    results, failures = copy(source, s3_client, s3_bucket, options)

    assert [f.plan.s3_key for f in failures] == ["k/short.csv.gz"]
    assert isinstance(failures[0].error, VerificationError)
    assert "the gzip stream is truncated" in str(failures[0].error)
    # The size and MD5 checks pass (OCI holds these very bytes); the gzip check does not.
    assert s3_md5s(s3_client, s3_bucket) == {
        "k/whole.csv.gz": md5(good),
        "k/empty.csv.gz": md5(b""),
    }
    assert open_uploads(s3_client, s3_bucket) == []
    assert sorted(r.s3_key for r in results) == ["k/empty.csv.gz", "k/whole.csv.gz"]


def test_by_default_single_part_reports_rely_on_their_md5(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    truncated = report_gzip(300_000)[:-1000]
    oci_emulator.put_object(tenancy, FOLDER + "short.csv.gz", truncated)

    _, failures = copy(source, s3_client, s3_bucket)

    assert failures == []
    assert s3_md5s(s3_client, s3_bucket) == {"k/short.csv.gz": md5(truncated)}


def test_wrong_bytes_of_a_single_part_report_fail_its_md5(
    oci_emulator, tenancy, source, s3_client, s3_bucket
) -> None:
    oci_emulator.put_object(tenancy, FOLDER + "one.csv.gz", report_gzip(300_000))
    oci_emulator.faults.add(Fault(op="GetObject", range_mode="wrong_bytes"))

    _, failures = copy(source, s3_client, s3_bucket)

    assert "MD5" in str(failures[0].error)
    assert_nothing_landed(s3_client, s3_bucket)


# --- The emulator's range modes --------------------------------------------------------------


def control(emu: OciEmulator, method: str, path: str, body: object | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emu.endpoint + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def test_range_modes_round_trip_through_the_control_endpoint(oci_emulator) -> None:
    faults = control(
        oci_emulator,
        "POST",
        "/_emulator/faults",
        [
            {"op": "GetObject", "range_mode": "ignore"},
            {"op": "GetObject", "range_mode": "wrong_bytes", "times": 1},
        ],
    )
    assert [f["range_mode"] for f in faults] == ["ignore", "wrong_bytes"]
    assert Fault.from_dict(faults[1]) == Fault(op="GetObject", range_mode="wrong_bytes", times=1)
    with pytest.raises(urllib.error.HTTPError) as err:
        control(oci_emulator, "POST", "/_emulator/faults", [{"range_mode": "sideways"}])
    assert err.value.code == 400
    with pytest.raises(ValueError, match="range_mode"):
        Fault(range_mode="sideways")


def test_range_modes_over_the_sdk(oci_emulator, tenancy, source) -> None:
    data = bytes(range(256)) * 40
    oci_emulator.put_object(tenancy, FOLDER + "r.bin", data)
    client = source.client()
    ns = source.namespace

    def get(**kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        resp = client.get_object(ns, tenancy, FOLDER + "r.bin", **kwargs)
        return resp.status, dict(resp.headers), resp.data.raw.read(decode_content=False)

    status, headers, body = get(range="bytes=100-199")
    assert (status, headers["Content-Range"], body) == (206, "bytes 100-199/10240", data[100:200])

    oci_emulator.faults.add(Fault(op="GetObject", range_mode="ignore", times=1))
    status, headers, body = get(range="bytes=100-199")
    assert status == 200 and "Content-Range" not in headers and body == data

    oci_emulator.faults.add(Fault(op="GetObject", range_mode="wrong_bytes", times=2))
    status, headers, body = get(range="bytes=100-199")
    assert (status, headers["Content-Range"], headers["Content-Length"]) == (
        206,
        "bytes 100-199/10240",
        "100",
    )
    assert len(body) == 100 and body != data[100:200]
    assert sum(a != b for a, b in zip(body, data[100:200], strict=True)) == 1
    status, _, body = get()
    assert status == 200 and len(body) == len(data) and body != data


# --- Errors that cannot heal -----------------------------------------------------------------


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # No shared files and no instance metadata lookup: nothing on this machine may answer.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_an_s3_client_without_credentials_fails_on_its_first_request(
    no_aws_credentials, oci_emulator, tenancy, source, s3_endpoint, s3_bucket
) -> None:
    oci_emulator.put_object(tenancy, FOLDER + "small.csv.gz", report_gzip(100_000))
    client = boto3.session.Session().client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))

    results, failures = copy(source, client, s3_bucket)

    assert results == [] and len(failures) == 1
    assert calls == {"PutObject": 1}  # RETRIES were allowed, none was made
    text = describe_failure(failures[0].error, "bling", tenancy, s3_bucket)
    assert "no complete AWS credentials were found (NoCredentialsError)" in text
    assert "AWS_ACCESS_KEY_ID" in text and "AWS_PROFILE" in text


def test_a_day_that_failed_for_its_setup_is_not_retried_by_dagster(
    no_aws_credentials, monkeypatch, oci_emulator, tenancy, s3_bucket
) -> None:
    monkeypatch.setenv("FOCUS_STEP_RETRIES", "2")
    monkeypatch.setenv("FOCUS_STEP_RETRY_DELAY_SECONDS", "0")
    for i in range(2):
        oci_emulator.put_object(tenancy, f"{FOLDER}f{i}.csv.gz", report_gzip(50_000, seed=i))
    defs = build_definitions(load_settings())

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key=DAY,
            instance=instance,
            resources=defs.resources,
            raise_on_error=False,
        )

    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "AWS_ACCESS_KEY_ID" in str(failure.event_specific_data.error)
