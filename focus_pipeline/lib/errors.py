"""Errors a user can act on, and which failures are worth retrying.

Messages name what happened and what to check, and never include credentials: OCI and AWS
exceptions are summarised from their status, code and request id only.
"""

from __future__ import annotations

import http.client
import socket

import oci
import urllib3.exceptions
from botocore.exceptions import BotoCoreError, ClientError
from oci._vendor import requests as oci_requests

# OCI statuses that a later attempt can cure (the same set as the SDK's default strategy).
_RETRYABLE_OCI_STATUS = {409, 429, 500, 502, 503, 504}


class SourceChanged(Exception):
    """The OCI object was overwritten while it was being copied (its etag changed)."""


class ShortRead(Exception):
    """The body ended before the promised number of bytes."""


class VerificationError(Exception):
    """The bytes read do not match what OCI listed (size or MD5); nothing was completed."""


class OciAccessError(Exception):
    """OCI refused or could not be reached; the message says what to check."""


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, oci.exceptions.ServiceError):
        if exc.status == 409:
            return exc.code == "IncorrectState"
        return exc.status in _RETRYABLE_OCI_STATUS
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status in (429, 500, 502, 503, 504) or exc.response.get("Error", {}).get("Code") in (
            "SlowDown",
            "RequestTimeout",
            "InternalError",
        )
    return isinstance(
        exc,
        (
            ShortRead,
            oci.exceptions.RequestException,
            oci.exceptions.ConnectTimeout,
            oci_requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            BotoCoreError,
            ConnectionError,
            TimeoutError,
            socket.timeout,
        ),
    )


def describe_oci_error(exc: BaseException, namespace: str, bucket: str) -> str:
    """One sentence: what OCI said and what the user should check."""
    where = f"OCI Object Storage (namespace {namespace!r}, bucket {bucket!r})"
    if isinstance(exc, oci.exceptions.ServiceError):
        said = f"{exc.status} {exc.code}"
        rid = f" [opc-request-id {exc.request_id}]" if exc.request_id else ""
        if exc.status == 404 and exc.code in ("BucketNotFound", "NamespaceNotFound"):
            return (
                f"{where} answered {said}{rid}: check FOCUS_OCI_BUCKET is your tenancy OCID and "
                "that your root compartment has the cross-tenancy policy "
                "'define tenancy usage-report as ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63"
                "lf3wffbilvqknstgtvzub7vhqkggq' and 'endorse group <group> to read objects in "
                "tenancy usage-report' (see docs/OCI_SETUP.md)."
            )
        if exc.status == 401:
            return (
                f"{where} answered {said}{rid}: the request was not authenticated; check "
                "FOCUS_OCI_AUTH and the key, fingerprint and user in FOCUS_OCI_CONFIG_FILE "
                "(profile FOCUS_OCI_PROFILE), and that the machine clock is right."
            )
        if exc.status == 403:
            return (
                f"{where} answered {said}{rid}: the principal may not read these objects; "
                "check the policy statements in docs/OCI_SETUP.md."
            )
        if exc.status == 429:
            return (
                f"{where} answered {said}{rid}: requests are being throttled; lower "
                "FOCUS_MAX_CONCURRENT_TRANSFERS or FOCUS_STREAMS_PER_FILE; the next attempt "
                "will try again."
            )
        if exc.status >= 500:
            return (
                f"{where} answered {said}{rid}: the service had a transient fault; "
                "the next attempt will try again."
            )
        return f"{where} answered {said}{rid}: {exc.message}"
    if isinstance(exc, oci.exceptions.InvalidConfig):
        return (
            f"The OCI configuration is invalid ({exc}): check FOCUS_OCI_CONFIG_FILE and "
            "FOCUS_OCI_PROFILE."
        )
    if isinstance(exc, oci.exceptions.ConfigFileNotFound):
        return (
            "The OCI config file was not found: set FOCUS_OCI_CONFIG_FILE, or choose another "
            "FOCUS_OCI_AUTH mode."
        )
    return (
        f"{where} could not be reached ({type(exc).__name__}): check FOCUS_OCI_ENDPOINT / "
        "FOCUS_OCI_REGION and the network path; the next attempt will try again."
    )


def describe_s3_error(exc: BaseException, bucket: str) -> str:
    """One sentence for an S3 failure, from its code only (never the request's credentials)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "?")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        op = getattr(exc, "operation_name", "request")
        hint = {
            "NoSuchBucket": "check FOCUS_S3_BUCKET and FOCUS_S3_REGION",
            "AccessDenied": "check the access key's IAM policy allows s3:PutObject and the "
            "multipart actions on FOCUS_S3_PREFIX (docs/OCI_SETUP.md lists the minimal policy)",
            "InvalidAccessKeyId": "check the AWS access key in use",
            "SignatureDoesNotMatch": "check the AWS secret key in use",
        }.get(code, "the next attempt will try again")
        return f"S3 bucket {bucket!r}: {op} answered {status} {code}: {hint}."
    if isinstance(exc, BotoCoreError):
        return (
            f"S3 bucket {bucket!r} could not be reached ({type(exc).__name__}): check "
            "FOCUS_S3_ENDPOINT_URL, FOCUS_S3_REGION and AWS credentials."
        )
    return f"S3 bucket {bucket!r}: {type(exc).__name__}"


def describe_failure(exc: BaseException, namespace: str, bucket: str, s3_bucket: str) -> str:
    """One line for a failed file, whichever side failed."""
    if isinstance(exc, (ClientError, BotoCoreError)):
        return describe_s3_error(exc, s3_bucket)
    if isinstance(exc, (VerificationError, SourceChanged, ShortRead)):
        return str(exc)
    if isinstance(exc, oci.exceptions.ServiceError) or is_retryable(exc):
        return describe_oci_error(exc, namespace, bucket)
    return f"{type(exc).__name__}: {exc}"
