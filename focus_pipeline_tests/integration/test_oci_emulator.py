"""The OCI emulator, driven over HTTP by the real ``oci`` SDK (2.189).

These tests pin the behaviours the copier relies on: listing pages and fields, checksum
headers, etags, ranged and conditional reads, byte-identical gzip bodies, object names with
spaces under both URL encodings, injected faults and the control endpoints.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import oci
import pytest
import urllib3

from focus_pipeline_tests.support import WAIT_SECONDS, make_client
from oci_emulator import (
    FOCUS_COLUMNS,
    LEGACY_REPORT_NAMES,
    Fault,
    OciEmulator,
    focus_report_bytes,
    report_name,
    seed_focus_reports,
)

NS = "bling"
BUCKET = "ocid1.tenancy.oc1..aaaaaaaatestbucket"
REPO_ROOT = Path(__file__).resolve().parents[2]


def b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture(scope="module")
def emu() -> Iterator[OciEmulator]:
    with OciEmulator(seed=1234) as emulator:
        emulator.create_bucket(BUCKET)
        yield emulator


@pytest.fixture(scope="module")
def client(emu: OciEmulator, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_client(emu.endpoint, tmp_path_factory.mktemp("oci"))


@pytest.fixture(autouse=True)
def _reset(emu: OciEmulator) -> Iterator[None]:
    emu.faults.clear()
    emu.update_settings(rate_limit_bytes_per_sec=None, latency_s=0.0)
    emu.clear_requests()
    yield
    emu.faults.clear()
    emu.update_settings(rate_limit_bytes_per_sec=None, latency_s=0.0)


@pytest.fixture
def bucket(emu: OciEmulator, request: pytest.FixtureRequest) -> str:
    """A fresh bucket per test so listings are not polluted by other tests."""
    name = f"ocid1.tenancy.oc1..{request.node.name.replace('_', '').lower()[:40]}"
    emu.create_bucket(name)
    return name


def raw_request(
    url: str,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    auth: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """A plain urllib request (no SDK); returns (status, headers, body) even for errors."""
    hdrs = dict(headers or {})
    if auth:
        hdrs.setdefault("authorization", 'Signature version="1",keyId="test"')
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# ---- listing ---------------------------------------------------------------------------------


def test_list_objects_with_fields(emu: OciEmulator, client: Any, bucket: str) -> None:
    bodies = {f"a/{i}.bin": os.urandom(100 + i) for i in range(3)}
    for name, data in bodies.items():
        emu.put_object(bucket, name, data)
    resp = client.list_objects(NS, bucket, fields="name,size,etag,md5,timeCreated")
    objects = resp.data.objects
    assert [o.name for o in objects] == sorted(bodies)
    for obj in objects:
        assert obj.size == len(bodies[obj.name])
        assert obj.md5 == b64md5(bodies[obj.name])
        assert obj.etag == emu.get_object_record(bucket, obj.name).etag
        assert isinstance(obj.time_created, datetime) and obj.time_created.tzinfo is not None
        assert obj.time_modified is None  # not requested
    assert resp.data.next_start_with is None

    default = client.list_objects(NS, bucket).data.objects
    assert default[0].name == "a/0.bin" and default[0].size is None and default[0].md5 is None

    status, _, body = raw_request(f"{emu.endpoint}/n/{NS}/b/{bucket}/o?fields=name,timeCreated")
    assert status == 200
    stamp = json.loads(body)["objects"][0]["timeCreated"]
    assert len(stamp) == len("2024-11-28T06:12:03.123000+00:00") and stamp.endswith("000+00:00")


def test_pagination_2500_objects(emu: OciEmulator, client: Any, bucket: str) -> None:
    names = [f"page/obj-{i:05d}" for i in range(2500)]
    for name in reversed(names):
        emu.put_object(bucket, name, b"x")
    first = client.list_objects(NS, bucket, prefix="page/", limit=1000)
    assert len(first.data.objects) == 1000
    assert first.data.next_start_with == "page/obj-01000"
    last = client.list_objects(NS, bucket, prefix="page/", start="page/obj-02000", limit=1000)
    assert len(last.data.objects) == 500 and last.data.next_start_with is None

    emu.clear_requests()
    everything = oci.pagination.list_call_get_all_results(
        client.list_objects, NS, bucket, prefix="page/", limit=1000, fields="name,size"
    )
    assert [o.name for o in everything.data.objects] == names
    lists = emu.requests.find(op="ListObjects")
    assert len(lists) == 3
    assert [r.query.get("start") for r in lists] == [None, "page/obj-01000", "page/obj-02000"]

    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.list_objects(NS, bucket, limit=1001)
    assert (err.value.status, err.value.code) == (400, "InvalidParameter")
    status, _, body = raw_request(f"{emu.endpoint}/n/{NS}/b/{bucket}/o?fields=name,colour")
    assert status == 400 and json.loads(body)["code"] == "InvalidParameter"


def test_prefix_with_space_and_delimiter(emu: OciEmulator, client: Any, bucket: str) -> None:
    days = [date(2024, 11, 27), date(2024, 11, 28), date(2024, 12, 1)]
    names = seed_focus_reports(emu, bucket, days, files_per_day=2, rows=5)
    assert len(names) == 6 and all(n.startswith("FOCUS Reports/2024/") for n in names)

    top = client.list_objects(NS, bucket, delimiter="/").data
    assert top.objects == [] and top.prefixes == ["FOCUS Reports/", "reports/"]

    months = client.list_objects(NS, bucket, prefix="FOCUS Reports/2024/", delimiter="/").data
    assert months.prefixes == ["FOCUS Reports/2024/11/", "FOCUS Reports/2024/12/"]

    day = client.list_objects(NS, bucket, prefix="FOCUS Reports/2024/11/28/", delimiter="/").data
    assert [o.name for o in day.objects] == [n for n in names if "/2024/11/28/" in n]
    assert day.prefixes == []

    flat = oci.pagination.list_call_get_all_results(
        client.list_objects, NS, bucket, prefix="FOCUS Reports/"
    ).data.objects
    assert [o.name for o in flat] == names  # the legacy reports/ objects are not under it
    legacy = client.list_objects(NS, bucket, prefix="reports/").data.objects
    assert [o.name for o in legacy] == sorted(LEGACY_REPORT_NAMES)

    # A delimiter page limit counts prefixes too and resumes after the collapsed prefix.
    page = client.list_objects(NS, bucket, delimiter="/", limit=1).data
    assert page.prefixes == ["FOCUS Reports/"] and page.next_start_with == LEGACY_REPORT_NAMES[0]


def test_start_end_start_after(emu: OciEmulator, client: Any, bucket: str) -> None:
    for name in ["k/a", "k/b", "k/c", "k/d", "k/e"]:
        emu.put_object(bucket, name, b"1")

    def listed(**kw: Any) -> list[str]:
        return [o.name for o in client.list_objects(NS, bucket, **kw).data.objects]

    assert listed(start="k/b") == ["k/b", "k/c", "k/d", "k/e"]
    assert listed(start="k/b", end="k/d") == ["k/b", "k/c"]
    assert listed(start_after="k/b") == ["k/c", "k/d", "k/e"]
    assert listed(start_after="k/b", end="k/e") == ["k/c", "k/d"]
    assert listed(start="k/bb", limit=2) == ["k/c", "k/d"]
    page = client.list_objects(NS, bucket, end="k/d", limit=2).data
    assert page.next_start_with == "k/c"
    page = client.list_objects(NS, bucket, end="k/c", limit=2).data
    assert page.next_start_with is None  # nothing left before `end`


# ---- objects, checksums, etags -----------------------------------------------------------------


def test_etag_changes_on_overwrite(emu: OciEmulator, client: Any, bucket: str) -> None:
    first = client.put_object(NS, bucket, "same.csv", b"v1")
    assert first.headers["opc-content-md5"] == b64md5(b"v1")
    second = client.put_object(NS, bucket, "same.csv", b"v1")  # same bytes, new version
    assert first.headers["etag"] != second.headers["etag"]
    listed = client.list_objects(NS, bucket, fields="name,etag").data.objects
    assert [o.etag for o in listed] == [second.headers["etag"]]
    record = emu.put_object(bucket, "same.csv", b"v2")
    head = client.head_object(NS, bucket, "same.csv")
    assert head.data is None
    assert head.headers["etag"] == record["etag"] != second.headers["etag"]
    assert len(list(emu.data_dir.joinpath("objects").iterdir())) >= 1


def test_single_part_md5_headers(emu: OciEmulator, client: Any, bucket: str) -> None:
    body = os.urandom(300_000)
    info = emu.put_object(
        bucket, "single.bin", body, metadata={"Source": "test"}, content_type="text/plain"
    )
    listed = client.list_objects(NS, bucket, fields="name,md5,size").data.objects[0]
    resp = client.get_object(NS, bucket, "single.bin")
    assert resp.status == 200
    assert resp.headers["Content-MD5"] == listed.md5 == info["md5"] == b64md5(body)
    assert "opc-multipart-md5" not in resp.headers
    assert resp.headers["Content-Length"] == str(len(body))
    assert resp.headers["Content-Type"] == "text/plain"
    assert resp.headers["opc-meta-source"] == "test"
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["opc-request-id"]
    assert "GMT" in resp.headers["Last-Modified"]
    assert b"".join(resp.data.raw.stream(1 << 16, decode_content=False)) == body


def test_multipart_md5(emu: OciEmulator, client: Any, bucket: str) -> None:
    part = 64 * 1024
    body = os.urandom(part * 2 + 1000)
    info = emu.put_object(bucket, "multi.bin", body, multipart_part_size=part)
    digests = b"".join(hashlib.md5(body[i : i + part]).digest() for i in range(0, len(body), part))
    expected = f"{base64.b64encode(hashlib.md5(digests).digest()).decode()}-3"
    assert info["md5"] == expected
    assert client.list_objects(NS, bucket, fields="md5").data.objects[0].md5 == expected
    resp = client.get_object(NS, bucket, "multi.bin")
    assert resp.headers["opc-multipart-md5"] == expected
    assert "Content-MD5" not in resp.headers
    assert resp.data.content == body
    head = client.head_object(NS, bucket, "multi.bin")
    assert head.headers["opc-multipart-md5"] == expected and "Content-MD5" not in head.headers

    # The emulator-only PUT header gives the same result over HTTP.
    url = f"{emu.endpoint}/n/{NS}/b/{bucket}/o/multi2.bin"
    status, headers, _ = raw_request(
        url, "PUT", body, {"opc-emulator-multipart-part-size": str(part)}
    )
    assert status == 200 and headers["opc-multipart-md5"] == expected


def test_range_requests(emu: OciEmulator, client: Any, bucket: str) -> None:
    body = bytes(range(256)) * 40
    emu.put_object(bucket, "ranged.bin", body)
    resp = client.get_object(NS, bucket, "ranged.bin", range="bytes=10-19")
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes 10-19/{len(body)}"
    assert resp.headers["Content-Length"] == "10"
    assert "Content-MD5" not in resp.headers
    assert resp.data.content == body[10:20]
    assert client.get_object(NS, bucket, "ranged.bin", range="bytes=-7").data.content == body[-7:]
    tail = client.get_object(NS, bucket, "ranged.bin", range="bytes=10000-")
    assert tail.data.content == body[10000:]
    assert tail.headers["Content-Range"] == f"bytes 10000-{len(body) - 1}/{len(body)}"
    big = client.get_object(NS, bucket, "ranged.bin", range="bytes=100-999999")
    assert big.data.content == body[100:]
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.get_object(NS, bucket, "ranged.bin", range=f"bytes={len(body)}-")
    assert (err.value.status, err.value.code) == (416, "InvalidRange")
    assert err.value.headers["Content-Range"] == f"bytes */{len(body)}"
    assert emu.count(op="GetObject") == 5


def test_conditional_requests(emu: OciEmulator, client: Any, bucket: str) -> None:
    info = emu.put_object(bucket, "cond.bin", b"payload")
    ok = client.get_object(NS, bucket, "cond.bin", if_match=info["etag"])
    assert ok.data.content == b"payload"
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.get_object(NS, bucket, "cond.bin", if_match="not-the-etag")
    assert (err.value.status, err.value.code) == (412, "IfMatchFailed")
    assert err.value.request_id
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.head_object(NS, bucket, "cond.bin", if_match="not-the-etag")
    assert err.value.status == 412
    url = f"{emu.endpoint}/n/{NS}/b/{bucket}/o/cond.bin"
    status, headers, body = raw_request(url, headers={"if-none-match": info["etag"]})
    assert status == 304 and body == b"" and headers["ETag"] == info["etag"]
    status, _, body = raw_request(url, headers={"if-none-match": "other"})
    assert status == 200 and body == b"payload"


def test_errors(emu: OciEmulator, client: Any, bucket: str) -> None:
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.list_objects(NS, "ocid1.tenancy.oc1..nosuchbucket")
    assert (err.value.status, err.value.code) == (404, "BucketNotFound")
    assert "ocid1.tenancy.oc1..nosuchbucket" in err.value.message
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.get_object(NS, "ocid1.tenancy.oc1..nosuchbucket", "x")
    assert (err.value.status, err.value.code) == (404, "BucketNotFound")
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.get_object(NS, bucket, "FOCUS Reports/2024/11/28/missing.csv.gz")
    assert (err.value.status, err.value.code) == (404, "ObjectNotFound")
    assert "missing.csv.gz" in err.value.message
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.head_object(NS, bucket, "missing")
    assert err.value.status == 404
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.list_objects("othernamespace", bucket)
    assert (err.value.status, err.value.code) == (404, "NamespaceNotFound")
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.put_object(NS, bucket, "bad-md5", b"abc", content_md5=b64md5(b"abd"))
    assert (err.value.status, err.value.code) == (400, "InvalidParameter")
    assert emu.get_object_record(bucket, "bad-md5") is None
    assert client.get_namespace().data == NS

    status, headers, body = raw_request(f"{emu.endpoint}/n/{NS}/b/{bucket}/o", auth=False)
    assert status == 401 and json.loads(body)["code"] == "NotAuthenticated"
    assert headers["opc-request-id"]
    status, _, body = raw_request(f"{emu.endpoint}/nothing/here")
    assert status == 404 and json.loads(body)["code"] == "NotFound"


def test_delete_object(emu: OciEmulator, client: Any, bucket: str) -> None:
    emu.put_object(bucket, "gone", b"1")
    client.delete_object(NS, bucket, "gone")
    assert emu.get_object_record(bucket, "gone") is None
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.delete_object(NS, bucket, "gone")
    assert err.value.status == 404


# ---- bodies and names ----------------------------------------------------------------------------


def test_gzip_body_is_served_byte_identical(emu: OciEmulator, client: Any, bucket: str) -> None:
    name = report_name(date(2024, 11, 28))
    body = focus_report_bytes(date(2024, 11, 28), rows=300)
    emu.put_object(bucket, name, body, content_encoding="gzip", content_type="text/csv")
    resp = client.get_object(NS, bucket, name)
    assert resp.headers["Content-Encoding"] == "gzip"  # what the emulator put on the wire
    assert resp.headers["Content-Length"] == str(len(body))
    raw = b"".join(resp.data.raw.stream(1 << 20, decode_content=False))
    assert raw == body and hashlib.md5(raw).digest() == hashlib.md5(body).digest()
    # The trap the copier must avoid: decoding reads give the CSV, not the stored object.
    decoded = client.get_object(NS, bucket, name).data.content
    assert decoded == gzip.decompress(body) != body
    assert emu.requests.find(op="GetObject")[0].bytes_sent == len(body)


def test_object_names_with_spaces_both_encodings(
    emu: OciEmulator, client: Any, bucket: str
) -> None:
    name = "FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz"
    body = focus_report_bytes(date(2024, 11, 28), rows=20)
    client.put_object(NS, bucket, name, body)
    assert emu.get_object_record(bucket, name).size == len(body)
    assert client.get_object(NS, bucket, name).data.raw.read(decode_content=False) == body
    sdk_put = emu.requests.find(op="PutObject")[0]
    assert "%2F" in sdk_put.path and "%20" in sdk_put.path  # strict encoding by SDK 2.189
    assert sdk_put.object_name == name

    # Older SDKs, the Go SDK and rclone leave "/" literal; only the space is escaped.
    literal = f"{emu.endpoint}/n/{NS}/b/{bucket}/o/" + name.replace(" ", "%20")
    status, headers, raw = raw_request(literal)
    assert status == 200 and raw == body
    assert emu.requests.find(method="GET", op="GetObject")[-1].object_name == name
    status, headers, raw = raw_request(literal, method="HEAD")
    assert status == 200 and raw == b"" and headers["Content-Length"] == str(len(body))


# ---- faults and control ------------------------------------------------------------------------


def test_transient_fault_then_success(emu: OciEmulator, client: Any, bucket: str) -> None:
    emu.put_object(bucket, "flaky.csv.gz", b"data")
    emu.faults.add(Fault(op="GetObject", name_pattern=r"flaky", status=503, times=2))
    for _ in range(2):
        with pytest.raises(oci.exceptions.ServiceError) as err:
            client.get_object(NS, bucket, "flaky.csv.gz")
        assert (err.value.status, err.value.code) == (503, "ServiceUnavailable")
    assert client.get_object(NS, bucket, "flaky.csv.gz").data.content == b"data"
    assert emu.count(op="GetObject") == 3
    assert [r.status for r in emu.requests.find(op="GetObject")] == [503, 503, 200]
    assert emu.count(op="ListObjects") == 0


def test_fault_probability_is_seeded() -> None:
    def fired(seed: int) -> list[bool]:
        emulator = OciEmulator(seed=seed)
        try:
            emulator.faults.add(Fault(op="GetObject", status=500, probability=0.5))
            return [emulator.faults.pick("GetObject", "x") is not None for _ in range(40)]
        finally:
            emulator.stop()

    assert fired(7) == fired(7)
    assert 5 < sum(fired(7)) < 35


def test_body_cut_mid_stream_raises(emu: OciEmulator, client: Any, bucket: str) -> None:
    body = os.urandom(200_000)
    emu.put_object(bucket, "cut.bin", body)
    emu.faults.add(Fault(op="GetObject", cut_after_bytes=50_000, times=1))
    resp = client.get_object(NS, bucket, "cut.bin")
    assert resp.headers["Content-Length"] == str(len(body))
    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead)):
        b"".join(resp.data.raw.stream(1 << 14, decode_content=False))
    # The next read (resuming with a range and if-match, as the copier does) succeeds.
    etag = resp.headers["etag"]
    rest = client.get_object(NS, bucket, "cut.bin", range="bytes=50000-", if_match=etag)
    assert rest.data.content == body[50_000:]
    assert emu.requests.find(op="GetObject")[0].bytes_sent == 50_000


def test_control_endpoints(emu: OciEmulator, client: Any, bucket: str) -> None:
    base = f"{emu.endpoint}/_emulator"
    emu.put_object(bucket, "ctl.bin", b"z" * 50_000)
    faults = [{"op": "HeadObject", "status": 429, "times": 1}]
    status, _, body = raw_request(f"{base}/faults", "POST", json.dumps(faults).encode(), auth=False)
    assert status == 200 and json.loads(body)[0]["remaining"] == 1
    with pytest.raises(oci.exceptions.ServiceError) as err:
        client.head_object(NS, bucket, "ctl.bin")
    assert err.value.status == 429  # a HEAD error has no body, so the SDK sees no code
    status, _, body = raw_request(f"{base}/faults", auth=False)
    assert json.loads(body)[0]["remaining"] == 0
    status, _, _ = raw_request(f"{base}/faults", "DELETE", auth=False)
    assert status == 204 and len(emu.faults) == 0
    status, _, body = raw_request(f"{base}/faults", "POST", b'[{"op": "Nope"}]', auth=False)
    assert status == 400

    status, _, body = raw_request(f"{base}/requests", auth=False)
    records = json.loads(body)
    assert [r["op"] for r in records] == ["HeadObject"] and records[0]["status"] == 429
    assert records[0]["fault"]["status"] == 429 and records[0]["object_name"] == "ctl.bin"
    status, _, _ = raw_request(f"{base}/requests", "DELETE", auth=False)
    assert status == 204 and len(emu.requests) == 0

    settings = {"rate_limit_bytes_per_sec": 250_000, "latency_s": 0.1}
    status, _, body = raw_request(
        f"{base}/settings", "PUT", json.dumps(settings).encode(), auth=False
    )
    assert status == 200 and json.loads(body) == settings
    started = time.monotonic()
    assert client.get_object(NS, bucket, "ctl.bin").data.content == b"z" * 50_000
    assert time.monotonic() - started >= 0.1 + 0.15  # latency plus 50 kB at 250 kB/s
    status, _, body = raw_request(f"{base}/settings", "PUT", b'{"latency_s": 0}', auth=False)
    assert json.loads(body) == {"rate_limit_bytes_per_sec": 250_000, "latency_s": 0.0}
    status, _, body = raw_request(f"{base}/health", auth=False)
    assert json.loads(body)["namespace"] == NS


def test_concurrent_reads(emu: OciEmulator, client: Any, bucket: str) -> None:
    body = os.urandom(1 << 20)
    emu.put_object(bucket, "shared.bin", body)
    results: list[bytes] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                resp = client.get_object(NS, bucket, "shared.bin")
                results.append(b"".join(resp.data.raw.stream(1 << 18, decode_content=False)))
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_SECONDS)
    assert not errors and len(results) == 36 and all(r == body for r in results)


def test_large_path_put_and_persistence(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    with open(src, "wb") as f:
        for _ in range(8):
            f.write(os.urandom(1 << 20))
    data_dir = tmp_path / "data"
    with OciEmulator(data_dir=data_dir) as first:
        first.create_bucket("b")
        info = first.put_object("b", "FOCUS Reports/big.bin", src, multipart_part_size=3 << 20)
        assert info["size"] == 8 << 20 and info["md5"].endswith("-3")
    with OciEmulator(data_dir=data_dir) as second:
        record = second.get_object_record("b", "FOCUS Reports/big.bin")
        assert record is not None and record.etag == info["etag"] and record.md5 == info["md5"]
        assert record.blob_path.read_bytes() == src.read_bytes()


# ---- synthetic data and CLI ----------------------------------------------------------------------


def test_focus_report_shape() -> None:
    day = date(2024, 11, 28)
    data = focus_report_bytes(day, rows=500, seed=3)
    assert data == focus_report_bytes(day, rows=500, seed=3)
    assert data != focus_report_bytes(day, rows=500, seed=4)
    text = gzip.decompress(data).decode("utf-8")
    assert text.count("\r\n") == 501 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == FOCUS_COLUMNS and len(FOCUS_COLUMNS) == 49
    assert all(len(r) == 49 for r in rows)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["BillingCurrency"] == "USD" and first["Provider"] == "Oracle"
    assert first["BillingPeriodStart"] == "2024-11-01T00:00:00.000Z"
    assert first["BillingPeriodEnd"] == "2024-12-01T00:00:00.000Z"
    assert first["ChargePeriodStart"].startswith("2024-11-28T")
    assert len(first["ChargePeriodStart"]) == len("2024-11-28T06:00Z")
    assert isinstance(json.loads(first["Tags"]), dict)
    assert first["ResourceId"].startswith("ocid1.") and float(first["BilledCost"]) >= 0
    assert report_name(day) == "FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz"
    assert report_name(day, "0001000002103534", 2).endswith("0001000002103534-00002.csv.gz")


def test_cli_runs_and_stops_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oci_emulator",
            "--port",
            "0",
            "--bucket",
            BUCKET,
            "--data-dir",
            str(tmp_path / "data"),
            "--seed-days",
            "2",
            "--rows",
            "10",
            "--ready-file",
            str(ready),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not ready.exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "emulator did not become ready"
            time.sleep(0.05)
        endpoint = ready.read_text().strip()
        cli = make_client(endpoint, tmp_path / "oci")
        listed = oci.pagination.list_call_get_all_results(
            cli.list_objects, NS, BUCKET, prefix="FOCUS Reports/"
        ).data.objects
        assert len(listed) == 4
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == 0, out
    assert b"listening on http://127.0.0.1:" in out
    assert (tmp_path / "data" / "index.json").exists() and not ready.exists()


@pytest.mark.skipif(not os.environ.get("OCI_EMULATOR_BENCH"), reason="set OCI_EMULATOR_BENCH=1")
def test_benchmark_large_get(emu: OciEmulator, client: Any, bucket: str, tmp_path: Path) -> None:
    size = int(os.environ.get("OCI_EMULATOR_BENCH_MIB", "512")) << 20
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    emu.put_object(bucket, "big.bin", src, content_encoding="gzip")
    started = time.perf_counter()
    resp = client.get_object(NS, bucket, "big.bin")
    total = sum(len(c) for c in resp.data.raw.stream(1 << 20, decode_content=False))
    elapsed = time.perf_counter() - started
    assert total == size
    sys.stderr.write(f"\nGET {size >> 20} MiB raw via SDK: {size / elapsed / 1e9:.2f} GB/s\n")


def test_registered_api_keys_make_signatures_checked_as_oci_does(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    def key_id_and_public_pem(config: dict[str, Any]) -> tuple[str, bytes]:
        private = oci.signer.load_private_key_from_file(config["key_file"])
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"{config['tenancy']}/{config['user']}/{config['fingerprint']}", public

    with OciEmulator() as emulator:
        emulator.create_bucket(BUCKET)
        emulator.put_object(BUCKET, "FOCUS Reports/2024/11/28/a.csv.gz", b"signed bytes")
        good = make_client(emulator.endpoint, tmp_path / "good")
        other = make_client(emulator.endpoint, tmp_path / "other")  # a key OCI does not know
        key_id, public = key_id_and_public_pem(good.base_client.config)
        # Before any key is registered, any signature passes (the default for tests).
        assert other.list_objects(NS, BUCKET).status == 200

        emulator.register_api_key(key_id, public)

        assert [o.name for o in good.list_objects(NS, BUCKET).data.objects] == [
            "FOCUS Reports/2024/11/28/a.csv.gz"
        ]
        body = good.get_object(NS, BUCKET, "FOCUS Reports/2024/11/28/a.csv.gz", range="bytes=0-5")
        assert body.data.raw.read(decode_content=False) == b"signed"
        with pytest.raises(oci.exceptions.ServiceError) as err:
            other.list_objects(NS, BUCKET)
        assert (err.value.status, err.value.code) == (401, "NotAuthenticated")
        # The right keyId with a signature made by another key is refused as well.
        forged = oci.signer.Signer(
            *key_id.split("/", 2),
            private_key_file_location=other.base_client.config["key_file"],
        )
        with pytest.raises(oci.exceptions.ServiceError) as err:
            oci.object_storage.ObjectStorageClient(
                good.base_client.config,
                signer=forged,
                service_endpoint=emulator.endpoint,
                retry_strategy=oci.retry.NoneRetryStrategy(),
            ).list_objects(NS, BUCKET)
        assert err.value.status == 401
