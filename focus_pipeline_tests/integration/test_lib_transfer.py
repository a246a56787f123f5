"""Streaming copies, OCI emulator -> moto S3, both over HTTP with the real SDKs."""

import concurrent.futures as cf
import dataclasses
import gzip
import http.client
import http.server
import os
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from focus_pipeline.lib.errors import VerificationError
from focus_pipeline.lib.oci_source import OciConnection, OciReportSource
from focus_pipeline.lib.plan import OciObject, PlannedCopy
from focus_pipeline.lib.retry import Cancelled, CancelToken, RetryPolicy
from focus_pipeline.lib.transfer import MIB, TransferOptions, copy_all
from focus_pipeline_tests.support import NAMESPACE, TENANCY, b64md5, open_uploads, s3_contents
from oci_emulator import Fault, OciEmulator

OPTIONS = TransferOptions(part_size=5 * MIB, streams_per_file=3, max_concurrent_files=3)
PREFIX = "FOCUS Reports/2024/11/28/"


@pytest.fixture
def source(oci_emulator: OciEmulator, oci_config_file: Path) -> OciReportSource:
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)
    return OciReportSource(conn.build_client, NAMESPACE, TENANCY, RetryPolicy(4, 0.01))


def put(emu: OciEmulator, name: str, data: bytes, **kwargs: object) -> None:
    emu.put_object(TENANCY, PREFIX + name, data, **kwargs)


def copy_listed(source, s3_client, bucket, options=OPTIONS, cancel=None):  # type: ignore[no-untyped-def]
    plans = [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(PREFIX)]
    return copy_all(source, s3_client, bucket, plans, options, cancel=cancel, s3_retry=source.retry)


def test_copies_are_byte_exact_for_empty_small_multipart_and_gzip_encoded(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    bodies = {
        "empty.csv.gz": b"",
        "small.csv.gz": os.urandom(1000),
        "large.csv.gz": os.urandom(23 * MIB + 17),
        "encoded.csv.gz": gzip.compress(b"BilledCost,BillingCurrency\r\n1.5,USD\r\n" * 1000),
    }
    for name, data in bodies.items():
        put(oci_emulator, name, data, content_encoding="gzip" if "encoded" in name else None)

    results, failures = copy_listed(source, s3_client, s3_bucket)

    assert failures == []
    assert s3_contents(s3_client, s3_bucket) == {"k/" + n: b64md5(d) for n, d in bodies.items()}
    by_name = {r.source.name.rsplit("/", 1)[1]: r for r in results}
    assert by_name["large.csv.gz"].parts == 5
    assert all(r.md5 == b64md5(bodies[n]) for n, r in by_name.items())
    assert open_uploads(s3_client, s3_bucket) == []


def test_oci_multipart_object_is_verified_by_size(oci_emulator, source, s3_client, s3_bucket):
    data = os.urandom(12 * MIB)
    put(oci_emulator, "mp.csv.gz", data, multipart_part_size=4 * MIB)
    listed = source.list(PREFIX)
    assert listed[0].md5.endswith("-3") and listed[0].plain_md5 is None
    # Random bytes, not gzip: the size check alone (the gzip check is tested in
    # integration/test_integrity.py).
    options = dataclasses.replace(OPTIONS, verify_gzip="off")
    results, failures = copy_listed(source, s3_client, s3_bucket, options)
    assert failures == [] and results[0].md5 == b64md5(data)
    assert s3_contents(s3_client, s3_bucket) == {"k/mp.csv.gz": b64md5(data)}


@pytest.mark.parametrize("size", [1000, 12 * MIB])
def test_md5_mismatch_fails_and_leaves_nothing(oci_emulator, source, s3_client, s3_bucket, size):
    put(oci_emulator, "f.csv.gz", os.urandom(size))
    listed = source.list(PREFIX)[0]
    wrong = OciObject(listed.name, listed.size, listed.etag, md5=b64md5(b"something else"))
    _, failures = copy_all(
        source, s3_client, s3_bucket, [PlannedCopy(wrong, "k/f", "new")], OPTIONS
    )
    assert len(failures) == 1 and isinstance(failures[0].error, VerificationError)
    assert "MD5" in str(failures[0].error)
    assert s3_contents(s3_client, s3_bucket) == {}
    assert open_uploads(s3_client, s3_bucket) == []


def test_body_cut_mid_stream_is_resumed_for_that_range_only(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    data = os.urandom(11 * MIB)
    put(oci_emulator, "cut.csv.gz", data)
    oci_emulator.faults.add(Fault(op="GetObject", cut_after_bytes=100_000, times=2))
    oci_emulator.clear_requests()

    _, failures = copy_listed(source, s3_client, s3_bucket)

    assert failures == []
    assert s3_contents(s3_client, s3_bucket) == {"k/cut.csv.gz": b64md5(data)}
    gets = [r for r in oci_emulator.requests if r.op == "GetObject"]
    # 3 parts plus 2 re-reads of broken ranges; every read is ranged and pinned to the etag.
    assert len(gets) == 5
    assert all(r.headers.get("range") and r.headers.get("if-match") for r in gets)


def test_object_replaced_mid_copy_lands_in_its_new_version(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    put(oci_emulator, "v.csv.gz", os.urandom(11 * MIB))
    stale = source.list(PREFIX)[0]
    new = os.urandom(11 * MIB)
    put(oci_emulator, "v.csv.gz", new)  # a new etag after the listing

    results, failures = copy_all(
        source, s3_client, s3_bucket, [PlannedCopy(stale, "k/v", "new")], OPTIONS
    )

    assert failures == []
    assert results[0].restarts == 1 and results[0].source.etag != stale.etag
    assert s3_contents(s3_client, s3_bucket) == {"k/v": b64md5(new)}
    assert open_uploads(s3_client, s3_bucket) == []


def test_cancel_mid_transfer_aborts_the_upload(oci_emulator, source, s3_client, s3_bucket):
    put(oci_emulator, "slow.csv.gz", os.urandom(20 * MIB))
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=0.5))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()

    _, failures = copy_listed(source, s3_client, s3_bucket, cancel=cancel)

    assert len(failures) == 1 and isinstance(failures[0].error, Cancelled)
    assert s3_contents(s3_client, s3_bucket) == {}
    assert open_uploads(s3_client, s3_bucket) == []


def test_base_exception_in_caller_stops_workers_and_aborts(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    """Dagster terminates a run by raising a BaseException in the main thread."""

    class Interrupted(BaseException):
        pass

    put(oci_emulator, "a.csv.gz", os.urandom(20 * MIB))
    put(oci_emulator, "b.csv.gz", os.urandom(20 * MIB))
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=0.3))
    raised = {"n": 0}

    def on_landed(_):  # type: ignore[no-untyped-def]
        raise AssertionError("nothing should land")

    original_wait = cf.wait

    def interrupting_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        raised["n"] += 1
        if raised["n"] == 2:
            raise Interrupted()
        return original_wait(*args, **kwargs)

    plans = [PlannedCopy(o, "k/" + o.name[-8:], "new") for o in source.list(PREFIX)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("focus_pipeline.lib.transfer.cf.wait", interrupting_wait)
        with pytest.raises(Interrupted):
            copy_all(source, s3_client, s3_bucket, plans, OPTIONS, on_landed=on_landed)
    assert s3_contents(s3_client, s3_bucket) == {}
    assert open_uploads(s3_client, s3_bucket) == []


def test_landed_files_are_recorded_in_batches_each_exactly_once(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    """One checkpoint per landed file would be one database commit per file."""
    for i in range(30):
        put(oci_emulator, f"{i:02d}.csv.gz", os.urandom(1000))
    plans = [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(PREFIX)]
    batches: list[list[str]] = []

    results, failures = copy_all(
        source,
        s3_client,
        s3_bucket,
        plans,
        OPTIONS,
        on_landed=lambda landed: batches.append([r.s3_key for r in landed]),
        checkpoint_seconds=3600,
    )

    assert failures == [] and len(results) == 30
    # The first file(s) at once, the rest when the copy ends (all in the first, on a machine
    # slow enough that every copy finished before the first wake-up).
    assert 1 <= len(batches) <= 2 and all(batches)
    assert sorted(k for b in batches for k in b) == [f"k/{i:02d}.csv.gz" for i in range(30)]


def test_files_landed_before_a_termination_are_recorded_before_it_propagates(
    oci_emulator, source, s3_client, s3_bucket
) -> None:
    class Interrupted(BaseException):
        pass

    for i in range(4):
        put(oci_emulator, f"{i}.csv.gz", os.urandom(1000))
    put(oci_emulator, "slow.csv.gz", os.urandom(6 * MIB))
    oci_emulator.faults.add(Fault(op="GetObject", name_pattern="slow", latency_s=2))
    plans = [PlannedCopy(o, "k/" + o.name.rsplit("/", 1)[1], "new") for o in source.list(PREFIX)]
    recorded: list[str] = []
    original_wait = cf.wait

    def interrupting_wait(fs, timeout=None, return_when=cf.ALL_COMPLETED):  # type: ignore[no-untyped-def]
        if len(fs) == 1 and return_when == cf.FIRST_COMPLETED:
            raise Interrupted()  # only the slow file is left: the 4 small ones landed
        return original_wait(fs, timeout=timeout, return_when=return_when)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("focus_pipeline.lib.transfer.cf.wait", interrupting_wait)
        with pytest.raises(Interrupted):
            copy_all(
                source,
                s3_client,
                s3_bucket,
                plans,
                OPTIONS,
                on_landed=lambda landed: recorded.extend(r.s3_key for r in landed),
                checkpoint_seconds=3600,
            )
    small = {f"k/{i}.csv.gz" for i in range(4)}
    assert set(recorded) == small
    assert set(s3_contents(s3_client, s3_bucket)) == small
    assert open_uploads(s3_client, s3_bucket) == []


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: relays absolute-URI requests and records them."""

    protocol_version = "HTTP/1.1"
    seen: list[str]

    def _relay(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self.seen.append(f"{self.command} {url.path}")
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "host")
        }
        upstream = http.client.HTTPConnection(url.netloc, timeout=10)
        try:
            target = url.path + (f"?{url.query}" if url.query else "")
            upstream.request(self.command, target, body=body, headers=headers)
            resp = upstream.getresponse()
            data = resp.read()
        finally:
            upstream.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = _relay

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forward_proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Proxy", (_ForwardProxy,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_oci_requests_honour_proxy_variables_read_once_per_client(
    oci_emulator, oci_config_file, forward_proxy, monkeypatch
) -> None:
    """The SDK's session would re-read the environment on every request; the client reads it
    once (see ``_read_environment_once``), and must still honour HTTP(S)_PROXY and NO_PROXY."""
    proxy_url, seen = forward_proxy
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    put(oci_emulator, "a.csv.gz", b"report bytes")
    conn = OciConnection(config_file=str(oci_config_file), endpoint=oci_emulator.endpoint)

    def read_one() -> bytes:
        source = OciReportSource(conn.build_client, NAMESPACE, TENANCY, RetryPolicy(0, 0.01))
        return bytes(source.read(source.list(PREFIX)[0]))

    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    assert read_one() == b"report bytes"
    assert seen == [
        f"GET /n/{NAMESPACE}/b/{TENANCY}/o",
        f"GET /n/{NAMESPACE}/b/{TENANCY}/o/" + urllib.parse.quote(PREFIX + "a.csv.gz", safe=""),
    ]

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    seen.clear()
    assert read_one() == b"report bytes"
    assert seen == []


def test_listing_follows_pages_past_1000_objects(oci_emulator, source) -> None:
    for i in range(1100):
        oci_emulator.put_object(TENANCY, f"{PREFIX}{i:05d}.csv.gz", b"x")
    oci_emulator.put_object(TENANCY, "FOCUS Reports/2024/11/29/other.csv.gz", b"x")
    listed = source.list(PREFIX)
    assert [o.name for o in listed] == [f"{PREFIX}{i:05d}.csv.gz" for i in range(1100)]
    assert source.list_calls == 2
    assert all(o.etag and o.size == 1 and o.md5 for o in listed)


def test_transient_list_errors_are_retried(oci_emulator, source) -> None:
    put(oci_emulator, "a.csv.gz", b"x")
    oci_emulator.faults.add(Fault(op="ListObjects", status=503, times=2))
    assert len(source.list(PREFIX)) == 1
    assert source.list_calls == 3
