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

from focus_pipeline.lib import variables as var

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
                f"{where} answered {said}{rid}: check {var.OCI_BUCKET} is your tenancy OCID and "
                "that your root compartment has the cross-tenancy policy "
                "'define tenancy usage-report as ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63"
                "lf3wffbilvqknstgtvzub7vhqkggq' and 'endorse group <group> to read objects in "
                "tenancy usage-report' (see docs/OCI_SETUP.md)."
            )
        if exc.status == 401:
            return (
                f"{where} answered {said}{rid}: the request was not authenticated; check "
                f"{var.OCI_AUTH} and the key, fingerprint and user in {var.OCI_CONFIG_FILE} "
                f"(profile {var.OCI_PROFILE}) or, with api_key, {var.OCI_USER}, "
                f"{var.OCI_FINGERPRINT} and {var.OCI_PRIVATE_KEY}, and that the machine clock "
                "is right."
            )
        if exc.status == 403:
            return (
                f"{where} answered {said}{rid}: the principal may not read these objects; "
                "check the policy statements in docs/OCI_SETUP.md."
            )
        if exc.status == 429:
            return (
                f"{where} answered {said}{rid}: requests are being throttled; lower "
                f"{var.MAX_CONCURRENT_TRANSFERS} or {var.STREAMS_PER_FILE}; the next attempt "
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
            f"The OCI configuration is invalid ({exc}): check {var.OCI_CONFIG_FILE} and "
            f"{var.OCI_PROFILE}."
        )
    if isinstance(exc, oci.exceptions.ConfigFileNotFound):
        return (
            f"The OCI config file was not found: set {var.OCI_CONFIG_FILE}, or choose another "
            f"{var.OCI_AUTH} mode."
        )
    return (
        f"{where} could not be reached ({type(exc).__name__}): check {var.OCI_ENDPOINT} / "
        f"{var.OCI_REGION} and the network path; the next attempt will try again."
    )


def describe_s3_error(exc: BaseException, bucket: str) -> str:
    """One sentence for an S3 failure, from its code only (never the request's credentials)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "?")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        op = getattr(exc, "operation_name", "request")
        hint = {
            "NoSuchBucket": f"check {var.S3_BUCKET} and {var.S3_REGION}",
            "AccessDenied": "check the access key's IAM policy allows s3:PutObject and the "
            f"multipart actions on {var.S3_PREFIX} (docs/OCI_SETUP.md lists the minimal policy)",
            "InvalidAccessKeyId": "check the AWS access key in use",
            "SignatureDoesNotMatch": "check the AWS secret key in use",
        }.get(code, "the next attempt will try again")
        return f"S3 bucket {bucket!r}: {op} answered {status} {code}: {hint}."
    if isinstance(exc, BotoCoreError):
        return (
            f"S3 bucket {bucket!r} could not be reached ({type(exc).__name__}): check "
            f"{var.S3_ENDPOINT_URL}, {var.S3_REGION} and AWS credentials."
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


# --- Connectivity check (focus-pipeline check, job check_connectivity) -----------------------
# Those checks meet failures the copy never sees (no credentials at all, a wrong profile, a
# wrong region) and must not say "the next attempt will try again": nothing retries a check.

_OCI_PROFILE = f"profile {var.OCI_PROFILE} in {var.OCI_CONFIG_FILE}"


def describe_oci_auth_error(exc: BaseException, auth: str, namespace: str, bucket: str) -> str:
    """One sentence for a failure to build OCI credentials, before any request is sent."""
    api_key_errors = (ValueError, oci.exceptions.InvalidConfig, oci.exceptions.InvalidPrivateKey)
    if auth == "api_key" and isinstance(exc, api_key_errors):
        # api_key_pem's messages name the problem, never the key; the SDK's by class only.
        detail = str(exc) if type(exc) is ValueError else exc.__class__.__name__
        return (
            f"{var.OCI_AUTH}=api_key: the key given by value cannot be used ({detail}): check "
            f"{var.OCI_USER}, {var.OCI_FINGERPRINT}, {var.OCI_REGION}, {var.OCI_PRIVATE_KEY} "
            f"and {var.OCI_PRIVATE_KEY_PASSPHRASE}."
        )
    if isinstance(exc, oci.exceptions.ProfileNotFound):
        return (
            f"The OCI profile was not found: set {var.OCI_PROFILE} to a [section] of "
            f"{var.OCI_CONFIG_FILE} ({exc.__class__.__name__})."
        )
    # Before InvalidPrivateKey, its base class.
    if isinstance(exc, oci.exceptions.MissingPrivateKeyPassphrase):
        return (
            "The OCI API signing key is encrypted: add pass_phrase to "
            f"{_OCI_PROFILE}, or use an unencrypted key."
        )
    if isinstance(exc, (oci.exceptions.InvalidKeyFilePath, oci.exceptions.InvalidPrivateKey)):
        return (
            f"The OCI API signing key cannot be loaded ({exc.__class__.__name__}): fix key_file "
            f"in {_OCI_PROFILE} so it names a readable PEM private key."
        )
    if auth == "security_token" and isinstance(exc, (KeyError, OSError)):
        return (
            f"{var.OCI_AUTH}=security_token needs security_token_file and key_file in "
            f"{_OCI_PROFILE} ({exc.__class__.__name__}): run 'oci session authenticate' (or "
            "'oci session refresh' before the token expires) for that profile."
        )
    if auth == "instance_principal" and not isinstance(exc, oci.exceptions.ServiceError):
        return (
            f"{var.OCI_AUTH}=instance_principal could not get a token from the instance "
            f"metadata service ({exc.__class__.__name__}): run on an OCI compute instance "
            "that belongs to the dynamic group named in the policy (docs/OCI_SETUP.md), or "
            f"choose another {var.OCI_AUTH} mode."
        )
    if auth == "resource_principal" and not isinstance(exc, oci.exceptions.ServiceError):
        return (
            f"{var.OCI_AUTH}=resource_principal found no resource principal "
            f"({exc.__class__.__name__}): it works only inside OCI Functions or Container "
            "Instances, which set OCI_RESOURCE_PRINCIPAL_VERSION; elsewhere choose another "
            f"{var.OCI_AUTH} mode."
        )
    return describe_oci_error(exc, namespace, bucket)


def describe_s3_check_error(exc: BaseException, bucket: str) -> str:
    """One sentence for an S3 failure during the connectivity check (no retry will follow)."""
    from botocore import exceptions as boto_exc

    where = f"S3 bucket {bucket!r}"
    if isinstance(exc, (boto_exc.NoCredentialsError, boto_exc.PartialCredentialsError)):
        return (
            f"{where}: no complete AWS credentials were found ({exc.__class__.__name__}): set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the BYOD key Umbrella issued, or "
            "AWS_PROFILE to a profile holding it."
        )
    if isinstance(exc, boto_exc.ProfileNotFound):
        return (
            f"{where}: the AWS profile named by AWS_PROFILE does not exist in ~/.aws/config or "
            "~/.aws/credentials: fix AWS_PROFILE or unset it."
        )
    if isinstance(exc, (boto_exc.EndpointConnectionError, boto_exc.ConnectTimeoutError)):
        return (
            f"{where} could not be reached ({exc.__class__.__name__}): check "
            f"{var.S3_ENDPOINT_URL} (leave it unset for AWS itself) and {var.S3_REGION}, and "
            "that this machine may open HTTPS connections to S3."
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "?")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        op = getattr(exc, "operation_name", "request")
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
            return (
                f"{where}: {op} answered {status} {code}: the bucket is in another region; "
                f"set {var.S3_REGION} to the region Umbrella gave you."
            )
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "NoSuchBucket"):
            return describe_s3_error(exc, bucket)
        return f"{where}: {op} answered {status} {code}: see docs/TROUBLESHOOTING.md."
    return describe_s3_error(exc, bucket)
