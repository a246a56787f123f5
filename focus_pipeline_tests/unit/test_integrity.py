"""Integrity without servers: the gzip check, the answer check of ranged reads, which errors
are retried, what their messages name, and when Dagster may retry a failed day."""

from __future__ import annotations

import gzip
import random
import ssl
import struct
import zlib

import oci
import pytest
import urllib3.exceptions
from botocore import exceptions as boto_exc
from botocore.exceptions import ClientError
from oci._vendor.requests import exceptions as oci_requests_exc

from focus_pipeline.lib import variables as var
from focus_pipeline.lib.errors import (
    BadRangeAnswer,
    ShortRead,
    SourceChanged,
    VerificationError,
    describe_failure,
    describe_oci_error,
    describe_s3_check_error,
    describe_s3_error,
    is_retryable,
    is_setup_error,
)
from focus_pipeline.lib.gzip_check import (
    INFLATE_CHUNK,
    VERIFY_GZIP_MODES,
    GzipVerifier,
    should_verify_gzip,
    verify_gzip_bytes,
)
from focus_pipeline.lib.oci_source import check_get_answer
from focus_pipeline.lib.plan import OciObject
from focus_pipeline.lib.retry import RetryPolicy, call_with_retries

NAME = "FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz"


def csv_rows(n: int, seed: int = 0) -> bytes:
    """FOCUS-shaped CSV text, varied enough that deflate emits Huffman-coded blocks."""
    rng = random.Random(seed)
    lines = ["BilledCost,BillingCurrency,ResourceId,ServiceName,Tags"]
    for i in range(n):
        lines.append(
            f"{rng.random() * 100:.6f},USD,ocid1.instance.oc1.iad.{rng.getrandbits(120):x},"
            f'COMPUTE,"{{""team"":""t{i % 17}""}}"'
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def members(*texts: bytes) -> bytes:
    return b"".join(gzip.compress(t, 6, mtime=0) for t in texts)


def feed_in(data: bytes, sizes: list[int]) -> GzipVerifier:
    verifier = GzipVerifier(NAME)
    pos, k = 0, 0
    while pos < len(data):
        n = sizes[k % len(sizes)]
        verifier.feed(memoryview(data)[pos : pos + n])
        pos, k = pos + n, k + 1
    verifier.finish()
    return verifier


# --- The gzip check ---------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[1], [3, 7, 1, 65_537], [10], [1 << 20]])
def test_a_good_multi_member_stream_passes_in_any_chunking(sizes: list[int]) -> None:
    texts = [csv_rows(2000, seed=s) for s in range(3)] + [b""]  # an empty member is valid
    data = members(*texts)
    verifier = feed_in(data, sizes)
    assert verifier.members == 4
    assert verifier.inflated == sum(len(t) for t in texts)
    assert verifier.consumed == len(data)


def test_output_is_inflated_in_bounded_chunks() -> None:
    """A highly compressible stream (200 MiB of zeros in ~200 KiB) passes without its output
    ever being held: each zlib call returns at most INFLATE_CHUNK bytes."""
    data = gzip.compress(bytes(200 << 20), 9, mtime=0)
    seen: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, wbits: int) -> None:
            self._d = real(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            assert 0 < max_length <= INFLATE_CHUNK or len(data) <= 2
            out = self._d.decompress(data, max_length)
            seen.append(len(out))
            return out

        def __getattr__(self, name: str) -> object:
            return getattr(self._d, name)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zlib, "decompressobj", Spy)
        verifier = verify_gzip_bytes(NAME, data)
    assert verifier.inflated == 200 << 20
    assert max(seen) <= INFLATE_CHUNK


def test_a_truncated_stream_fails_at_its_end() -> None:
    first = members(csv_rows(500))
    data = first + members(csv_rows(500, 1))
    for cut in (1, 4, 8, 100, len(data) - len(first) - 1):  # in the trailer, the data, the header
        with pytest.raises(VerificationError, match="truncated: it ends inside member 2"):
            feed_in(data[:-cut], [4096])
    for keep in (5, len(first) - 1):
        with pytest.raises(VerificationError, match="truncated: it ends inside member 1"):
            feed_in(data[:keep], [4096])


def test_a_flipped_byte_in_the_deflate_data_fails() -> None:
    data = bytearray(members(csv_rows(3000)))
    data[len(data) // 2] ^= 0x10
    with pytest.raises(VerificationError) as err:
        feed_in(bytes(data), [65_536])
    assert str(err.value).startswith(NAME + ": ")
    assert "gzip member 1" in str(err.value)
    assert "deflate data" in str(err.value) or "CRC32" in str(err.value)


def trailer_patched(data: bytes, crc_delta: int = 0, size_delta: int = 0) -> bytes:
    crc, size = struct.unpack("<II", data[-8:])
    return data[:-8] + struct.pack("<II", (crc + crc_delta) % 2**32, (size + size_delta) % 2**32)


def test_a_wrong_crc_in_the_trailer_fails_naming_the_crc() -> None:
    first = members(csv_rows(100))
    data = first + trailer_patched(members(csv_rows(100, 1)), crc_delta=1)
    with pytest.raises(VerificationError, match=r"CRC32 of gzip member 2 \(at offset \d+\)"):
        feed_in(data, [333])


def test_a_wrong_isize_in_the_trailer_fails_naming_the_length() -> None:
    data = trailer_patched(members(csv_rows(100)), size_delta=-1)
    with pytest.raises(VerificationError, match=r"inflated length of gzip member 1 .*ISIZE"):
        feed_in(data, [333])


@pytest.mark.parametrize("garbage", [b"\x00", b"\x00" * 512, b"garbage", b"\x1f\x8a"])
def test_trailing_bytes_that_are_not_a_member_fail(garbage: bytes) -> None:
    data = members(csv_rows(100), csv_rows(100, 1)) + garbage
    with pytest.raises(VerificationError, match="after gzip member 2") as err:
        feed_in(data, [1000])
    assert "trailing data" in str(err.value)


def test_empty_input_and_non_gzip_input_fail() -> None:
    with pytest.raises(VerificationError, match="is empty"):
        feed_in(b"", [1])
    with pytest.raises(VerificationError, match="is not a gzip stream") as err:
        feed_in(b"BilledCost,BillingCurrency\r\n", [5])
    assert var.VERIFY_GZIP in str(err.value)


def test_which_objects_are_inflated() -> None:
    assert VERIFY_GZIP_MODES == ("multipart", "all", "off")
    assert should_verify_gzip("a.csv.gz", True, "multipart")
    assert not should_verify_gzip("a.csv.gz", False, "multipart")
    assert should_verify_gzip("a.csv.gz", False, "all")
    assert not should_verify_gzip("a.csv", True, "all")
    assert not should_verify_gzip("a.csv.gz", True, "off")


# --- Ranged answers -------------------------------------------------------------------------


OBJ = OciObject(NAME, 1000, "etag-1", "abc-2")


def test_a_ranged_answer_must_be_206_with_exactly_the_range_asked() -> None:
    ok = {"content-range": "bytes 100-199/1000", "content-length": "100"}
    check_get_answer(OBJ, 100, 100, 206, ok)
    with pytest.raises(BadRangeAnswer, match=r"answered 200 to a ranged GET of bytes=100-199"):
        check_get_answer(OBJ, 100, 100, 200, {"content-length": "1000"})
    with pytest.raises(BadRangeAnswer, match="ignored Range"):
        check_get_answer(OBJ, 100, 100, 200, {"content-length": "1000"})
    for wrong in ("bytes 0-99/1000", "bytes 100-199/1001", "bytes 100-199/*", None):
        headers = {"content-length": "100"}
        if wrong:
            headers["content-range"] = wrong
        with pytest.raises(BadRangeAnswer, match=r"expected bytes 100-199/1000"):
            check_get_answer(OBJ, 100, 100, 206, headers)
    with pytest.raises(BadRangeAnswer, match="Content-Length 99"):
        check_get_answer(OBJ, 100, 100, 206, {**ok, "content-length": "99"})


def test_a_whole_answer_must_be_200_with_the_objects_size() -> None:
    check_get_answer(OBJ, 0, 1000, 200, {"content-length": "1000"})
    with pytest.raises(BadRangeAnswer, match="Content-Length 999"):
        check_get_answer(OBJ, 0, 1000, 200, {"content-length": "999"})
    with pytest.raises(BadRangeAnswer, match="answered 206"):
        check_get_answer(OBJ, 0, 1000, 206, {"content-length": "1000"})
    with pytest.raises(BadRangeAnswer, match="no Content-Length"):
        check_get_answer(OBJ, 0, 1000, 200, {})


def test_a_bad_range_answer_is_retried() -> None:
    assert is_retryable(BadRangeAnswer("x")) and not is_setup_error(BadRangeAnswer("x"))


# --- Errors that cannot heal ------------------------------------------------------------------


def client_error(code: str, status: int, op: str = "PutObject") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        op,
    )


def oci_error(status: int, code: str) -> oci.exceptions.ServiceError:
    return oci.exceptions.ServiceError(status, code, {"opc-request-id": "rid"}, "message")


def oci_wrapped(inner: BaseException) -> oci.exceptions.RequestException:
    """As the SDK raises it: the vendored requests error wrapped (base_client.request)."""
    try:
        raise inner
    except BaseException as exc:
        try:
            raise oci.exceptions.RequestException(exc)
        except oci.exceptions.RequestException as wrapped:
            return wrapped
    raise AssertionError


SETUP_ERRORS = {
    "NoCredentialsError": boto_exc.NoCredentialsError(),
    "PartialCredentialsError": boto_exc.PartialCredentialsError(
        provider="env", cred_var="AWS_SECRET_ACCESS_KEY"
    ),
    "ParamValidationError": boto_exc.ParamValidationError(report="Invalid bucket name"),
    "botocore SSLError": boto_exc.SSLError(endpoint_url="https://s3", error="cert"),
    "urllib3 SSLError": urllib3.exceptions.SSLError("certificate verify failed"),
    "ssl.SSLCertVerificationError": ssl.SSLCertVerificationError("certificate verify failed"),
    "oci requests SSLError": oci_wrapped(oci_requests_exc.SSLError("certificate verify failed")),
    "oci requests InvalidURL": oci_wrapped(oci_requests_exc.InvalidURL("bad url")),
    "urllib3 LocationParseError": urllib3.exceptions.LocationParseError("http://[x"),
    "botocore LocationParseError": boto_exc.HTTPClientError(
        error=urllib3.exceptions.LocationParseError("http://[x")
    ),
    "S3 NoSuchBucket": client_error("NoSuchBucket", 404),
    "S3 AccessDenied": client_error("AccessDenied", 403),
    "S3 InvalidAccessKeyId": client_error("InvalidAccessKeyId", 403),
    "S3 SignatureDoesNotMatch": client_error("SignatureDoesNotMatch", 403),
    "S3 403 HEAD": client_error("403", 403, "HeadObject"),
    "OCI 401": oci_error(401, "NotAuthenticated"),
    "OCI 403": oci_error(403, "NotAuthorizedOrNotFound"),
    "OCI BucketNotFound": oci_error(404, "BucketNotFound"),
    "OCI NamespaceNotFound": oci_error(404, "NamespaceNotFound"),
}

TRANSIENT_ERRORS = {
    "S3 SlowDown": client_error("SlowDown", 503),
    "S3 InternalError": client_error("InternalError", 500),
    "S3 RequestTimeout": client_error("RequestTimeout", 400),
    "botocore EndpointConnectionError": boto_exc.EndpointConnectionError(endpoint_url="http://s3"),
    "botocore ReadTimeoutError": boto_exc.ReadTimeoutError(endpoint_url="http://s3"),
    "botocore ConnectionClosedError": boto_exc.ConnectionClosedError(endpoint_url="http://s3"),
    "OCI 429": oci_error(429, "TooManyRequests"),
    "OCI 503": oci_error(503, "ServiceUnavailable"),
    "OCI 409 IncorrectState": oci_error(409, "IncorrectState"),
    "OCI connection error": oci_wrapped(oci_requests_exc.ConnectionError("reset")),
    "urllib3 ProtocolError": urllib3.exceptions.ProtocolError("reset"),
    "ShortRead": ShortRead("cut"),
    "BadRangeAnswer": BadRangeAnswer("200 to a ranged GET"),
    "ConnectionResetError": ConnectionResetError(),
}


def attempts_of(exc: BaseException, retries: int = 3) -> int:
    calls = 0

    def fn() -> None:
        nonlocal calls
        calls += 1
        raise exc

    with pytest.raises(type(exc)):
        call_with_retries(fn, RetryPolicy(retries, 0.001), is_retryable)
    return calls


@pytest.mark.parametrize("name", sorted(SETUP_ERRORS))
def test_an_error_that_cannot_heal_fails_on_its_first_attempt(name: str) -> None:
    exc = SETUP_ERRORS[name]
    assert not is_retryable(exc)
    assert is_setup_error(exc)
    assert attempts_of(exc) == 1


@pytest.mark.parametrize("name", sorted(TRANSIENT_ERRORS))
def test_a_transient_error_keeps_its_retries(name: str) -> None:
    exc = TRANSIENT_ERRORS[name]
    assert is_retryable(exc)
    assert not is_setup_error(exc)
    assert attempts_of(exc, retries=3) == 4


@pytest.mark.parametrize(
    "exc",
    [
        VerificationError("x"),
        SourceChanged("x"),
        oci_error(404, "ObjectNotFound"),
        client_error("NoSuchUpload", 404, "UploadPart"),
    ],
)
def test_data_errors_are_not_setup_errors(exc: BaseException) -> None:
    assert not is_setup_error(exc)


# --- What the messages name -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["NoCredentialsError", "PartialCredentialsError"])
def test_missing_aws_credentials_name_the_aws_variables(name: str) -> None:
    message = describe_s3_error(SETUP_ERRORS[name], "byod")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        assert variable in message
    assert "could not be reached" not in message and var.S3_ENDPOINT_URL not in message
    # One text for the copy and the connectivity check.
    assert describe_s3_check_error(SETUP_ERRORS[name], "byod") == message
    assert describe_failure(SETUP_ERRORS[name], "bling", "t", "byod") == message


def test_tls_and_url_errors_name_the_endpoint_setting() -> None:
    tls = describe_s3_error(SETUP_ERRORS["botocore SSLError"], "byod")
    assert var.S3_ENDPOINT_URL in tls and "CA bundle" in tls and "AWS_CA_BUNDLE" in tls
    url = describe_s3_error(SETUP_ERRORS["botocore LocationParseError"], "byod")
    assert var.S3_ENDPOINT_URL in url and "invalid" in url
    oci_tls = describe_oci_error(SETUP_ERRORS["oci requests SSLError"], "bling", "t")
    assert var.OCI_ENDPOINT in oci_tls and "CA bundle" in oci_tls
    assert "next attempt" not in oci_tls
    oci_url = describe_oci_error(SETUP_ERRORS["oci requests InvalidURL"], "bling", "t")
    assert var.OCI_ENDPOINT in oci_url and "invalid" in oci_url
    # A raw urllib3 error comes from an OCI body read (botocore wraps its own).
    raw = describe_failure(SETUP_ERRORS["urllib3 SSLError"], "bling", "t", "byod")
    assert var.OCI_ENDPOINT in raw and "CA bundle" in raw


def test_messages_never_repeat_what_the_exception_carries() -> None:
    secretish = "https://user:s3cr3t@host"
    exc = oci_wrapped(oci_requests_exc.SSLError(secretish))
    assert "s3cr3t" not in describe_oci_error(exc, "bling", "t")
    exc2 = boto_exc.SSLError(endpoint_url=secretish, error="x")
    assert "s3cr3t" not in describe_s3_error(exc2, "byod")


def test_a_gzip_failure_is_described_by_its_own_message() -> None:
    exc = VerificationError(f"{NAME}: the CRC32 of gzip member 1 does not match its trailer")
    assert describe_failure(exc, "bling", "t", "byod") == str(exc)
    assert describe_failure(BadRangeAnswer("OCI answered 200"), "b", "t", "s") == "OCI answered 200"


# --- The setting, and Dagster's retries of a failed day ---------------------------------------


def test_verify_gzip_is_one_setting_from_the_environment_to_the_copy(monkeypatch, tmp_path) -> None:
    from focus_pipeline.defs.resources import TransferResource, build_resources, settings_of
    from focus_pipeline.lib.transfer import TransferOptions
    from focus_pipeline.settings import FocusSettings, SettingsError, load_settings

    field = FocusSettings.model_fields["verify_gzip"]
    assert field.default == TransferOptions().verify_gzip == "multipart"
    assert all(mode in (field.description or "") for mode in VERIFY_GZIP_MODES)
    assert settings_of(TransferResource)["verify_gzip"] == "verify_gzip"
    with pytest.raises(ValueError, match="verify_gzip"):
        TransferOptions(verify_gzip="sometimes")  # type: ignore[arg-type]

    monkeypatch.chdir(tmp_path)  # no .env
    required = {"oci_bucket": "ocid1.tenancy.oc1..aaaaaaaaexampleexampleexample"}
    required["s3_bucket"] = "byod-example"
    monkeypatch.setenv(var.VERIFY_GZIP, "all")
    transfer = build_resources(load_settings(**required))["transfer"]
    assert transfer.verify_gzip.env_var_name == var.VERIFY_GZIP
    monkeypatch.setenv(var.VERIFY_GZIP, "sometimes")
    with pytest.raises(SettingsError, match=var.VERIFY_GZIP):
        load_settings(**required)


def copy_failure_for(*errors: BaseException):  # type: ignore[no-untyped-def]
    import datetime as dt

    from focus_pipeline.defs.assets import copy_failure
    from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
    from focus_pipeline.lib.plan import DayPlan, PlannedCopy
    from focus_pipeline.lib.transfer import CopyFailure

    plans = [PlannedCopy(OciObject(f"{NAME}{i}", 1, "e"), f"k/{i}", "new") for i in range(3)]
    plan = DayPlan(dt.date(2024, 11, 28), to_copy=plans)
    oci_res = OciFocusReportsResource(bucket="ocid1.tenancy.oc1..aaaaaaaaexampleexampleexample")
    s3_res = ByodS3Resource(bucket="byod")
    failures = [CopyFailure(p, e) for p, e in zip(plans, errors, strict=False)]
    return copy_failure("2024-11-28", plan, [], failures, oci_res, s3_res)


def test_a_day_that_failed_only_for_its_setup_is_not_retried_by_dagster() -> None:
    failure = copy_failure_for(SETUP_ERRORS["NoCredentialsError"], SETUP_ERRORS["OCI 403"])
    assert failure.allow_retries is False
    assert "AWS_ACCESS_KEY_ID" in (failure.description or "")


@pytest.mark.parametrize("other", ["ShortRead", "S3 SlowDown", "BadRangeAnswer"])
def test_a_day_with_any_other_failure_keeps_dagsters_retries(other: str) -> None:
    failure = copy_failure_for(SETUP_ERRORS["NoCredentialsError"], TRANSIENT_ERRORS[other])
    assert failure.allow_retries is True
    assert copy_failure_for(VerificationError("x")).allow_retries is True
