"""Errors a user can act on, and which failures are worth retrying.

Messages name what happened and what to check, and never include credentials: OCI and AWS
exceptions are summarised from their status, code and request id only.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator

import oci
import urllib3.exceptions
from botocore import exceptions as boto_exc
from botocore.exceptions import BotoCoreError, ClientError
from oci._vendor import requests as oci_requests

from focus_pipeline.lib import variables as var

# OCI statuses that a later attempt can cure (the same set as the SDK's default strategy).
_RETRYABLE_OCI_STATUS = {409, 429, 500, 502, 503, 504}

# The AWS chain's variables (not FOCUS_* settings, so not in variables.py).
_AWS_KEYS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
_AWS_PROFILE = "AWS_PROFILE"
_AWS_CA_BUNDLE = "AWS_CA_BUNDLE"
_OCI_CA_BUNDLE = "REQUESTS_CA_BUNDLE"

# Failures no later attempt can cure: the configuration, the credentials or the trust store
# is wrong, and stays wrong until someone changes it. Retrying only delays the message.
_TLS_ERRORS: tuple[type[BaseException], ...] = (
    boto_exc.SSLError,
    urllib3.exceptions.SSLError,
    oci_requests.exceptions.SSLError,
    ssl.SSLError,
)
_URL_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.LocationParseError,
    oci_requests.exceptions.InvalidURL,
    oci_requests.exceptions.InvalidSchema,
    oci_requests.exceptions.MissingSchema,
)
_CREDENTIAL_ERRORS: tuple[type[BaseException], ...] = (
    boto_exc.NoCredentialsError,
    boto_exc.PartialCredentialsError,
)
_SETUP_ERRORS: tuple[type[BaseException], ...] = (
    *_TLS_ERRORS,
    *_URL_ERRORS,
    *_CREDENTIAL_ERRORS,
    boto_exc.ParamValidationError,
    boto_exc.ProfileNotFound,
    # Building OCI credentials from a bad config file, profile or key.
    oci.exceptions.InvalidConfig,
    oci.exceptions.ConfigFileNotFound,
    oci.exceptions.ProfileNotFound,
    oci.exceptions.InvalidKeyFilePath,
    oci.exceptions.InvalidPrivateKey,
)
# S3 answers that name the caller or the bucket as the problem (any 401 or 403 does too).
_SETUP_S3_CODES = {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
_SETUP_STATUS = {401, 403}
# A 404 of the bucket or namespace is a wrong OCID or a missing cross-tenancy policy; a 404 of
# one object (deleted after the listing) is not a setup error.
_SETUP_OCI_404_CODES = {"BucketNotFound", "NamespaceNotFound"}
# How many exceptions to look at through wrapping (the OCI SDK wraps requests' errors, which
# wrap urllib3's: the cause is the second or third); a bound on any chain, cyclic or long.
_WRAP_DEPTH = 4


class SourceChanged(Exception):
    """The OCI object was overwritten while it was being copied (its etag changed)."""


class ShortRead(Exception):
    """The body ended before the promised number of bytes."""


class VerificationError(Exception):
    """The bytes read do not match what OCI listed (size or MD5); nothing was completed."""


class OciAccessError(Exception):
    """OCI refused or could not be reached; the message says what to check."""


class BadRangeAnswer(Exception):
    """OCI answered a GET with other bytes than those asked for (a proxy or server that
    ignored ``Range``, or a wrong ``Content-Range`` or ``Content-Length``). Retryable: a
    misbehaving hop may answer the next attempt correctly."""


def _wrapped(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: the OCI SDK raises ``RequestException(requests_error)``,
    botocore ``HTTPClientError(error=urllib3_error)``; both also chain the original."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < _WRAP_DEPTH:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        yield e
        inner = [
            e.args[0] if e.args else None,
            getattr(e, "kwargs", {}).get("error") if isinstance(e, BotoCoreError) else None,
            e.__cause__,
        ]
        todo.extend(i for i in inner if isinstance(i, BaseException))


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    return next((e for e in _wrapped(exc) if isinstance(e, kinds)), None)


def is_setup_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the setup is wrong (credentials, trust store, URL, permissions, the
    bucket itself): no retry can cure it, neither ours nor Dagster's, until someone fixes it.

    Transient faults (throttling, 5xx, timeouts, cut bodies) and data errors (a failed
    verification, an object changed or deleted mid-copy) are not setup errors.
    """
    if _find(exc, _SETUP_ERRORS) is not None:
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code")
        return status in _SETUP_STATUS or code in _SETUP_S3_CODES
    if isinstance(exc, oci.exceptions.ServiceError):
        return exc.status in _SETUP_STATUS or (
            exc.status == 404 and exc.code in _SETUP_OCI_404_CODES
        )
    return False


def is_retryable(exc: BaseException) -> bool:
    if is_setup_error(exc):
        return False
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
            BadRangeAnswer,
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
    tls = _find(exc, _TLS_ERRORS)
    if tls is not None:
        return (
            f"{where}: the TLS connection failed ({type(tls).__name__}): check that "
            f"{var.OCI_ENDPOINT} (or {var.OCI_REGION}) names the Object Storage endpoint and, "
            f"behind a proxy that re-signs TLS, point {_OCI_CA_BUNDLE} at a CA bundle that "
            "trusts it. Retrying does not help."
        )
    url = _find(exc, _URL_ERRORS)
    if url is not None:
        return (
            f"{where}: the endpoint URL is invalid ({type(url).__name__}): check "
            f"{var.OCI_ENDPOINT} (https://host[:port], no path) and {var.OCI_REGION}."
        )
    return (
        f"{where} could not be reached ({type(exc).__name__}): check {var.OCI_ENDPOINT} / "
        f"{var.OCI_REGION} and the network path; the next attempt will try again."
    )


def describe_s3_error(exc: BaseException, bucket: str) -> str:
    """One sentence for an S3 failure, from its code only (never the request's credentials).

    The copy and the connectivity check (:func:`describe_s3_check_error`) share it: setup
    errors read the same wherever they are met.
    """
    where = f"S3 bucket {bucket!r}"
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return (
            f"{where}: no complete AWS credentials were found ({exc.__class__.__name__}): set "
            f"{_AWS_KEYS} to the BYOD key Umbrella issued, or {_AWS_PROFILE} to a profile "
            "holding it."
        )
    if isinstance(exc, boto_exc.ProfileNotFound):
        return (
            f"{where}: the AWS profile named by {_AWS_PROFILE} does not exist in ~/.aws/config "
            f"or ~/.aws/credentials: fix {_AWS_PROFILE} or unset it."
        )
    tls = _find(exc, _TLS_ERRORS)
    if tls is not None:
        return (
            f"{where}: the TLS connection failed ({type(tls).__name__}): check "
            f"{var.S3_ENDPOINT_URL} (leave it unset for AWS itself) and, for a private endpoint "
            f"or a proxy that re-signs TLS, point {_AWS_CA_BUNDLE} at a CA bundle that trusts "
            "it. Retrying does not help."
        )
    url = _find(exc, _URL_ERRORS)
    if url is not None:
        return (
            f"{where}: the endpoint URL is invalid ({type(url).__name__}): check "
            f"{var.S3_ENDPOINT_URL} (https://host[:port], no path)."
        )
    if isinstance(exc, boto_exc.ParamValidationError):
        return (
            f"{where}: botocore refused the request's parameters ({exc.__class__.__name__}): "
            f"check {var.S3_BUCKET} and {var.S3_PREFIX}."
        )
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
        }.get(code)
        if hint is None:
            hint = (
                "the AWS credentials in use may not do this; check the access key and its "
                "IAM policy (docs/OCI_SETUP.md lists the minimal policy)"
                if is_setup_error(exc)
                else "the next attempt will try again"
            )
        return f"{where}: {op} answered {status} {code}: {hint}."
    if isinstance(exc, BotoCoreError):
        return (
            f"{where} could not be reached ({type(exc).__name__}): check "
            f"{var.S3_ENDPOINT_URL}, {var.S3_REGION} and AWS credentials."
        )
    return f"{where}: {type(exc).__name__}"


def describe_failure(exc: BaseException, namespace: str, bucket: str, s3_bucket: str) -> str:
    """One line for a failed file, whichever side failed."""
    if isinstance(exc, (ClientError, BotoCoreError)):
        return describe_s3_error(exc, s3_bucket)
    if isinstance(exc, (VerificationError, SourceChanged, ShortRead, BadRangeAnswer)):
        return str(exc)
    # Anything else from the network is OCI's: botocore wraps every error of its own.
    if isinstance(exc, oci.exceptions.ServiceError) or is_retryable(exc) or is_setup_error(exc):
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
    """One sentence for an S3 failure during the connectivity check (no retry will follow).

    Only what the check says differently is here (no "next attempt", a wrong region); every
    other failure, setup errors included, reads as :func:`describe_s3_error` says it.
    """
    where = f"S3 bucket {bucket!r}"
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
