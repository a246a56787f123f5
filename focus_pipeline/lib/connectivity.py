"""Connectivity checks: can this machine, with these settings, do its job at all?

Pure functions, so the terminal command (``focus-pipeline check``) and the Dagster job
(``check_connectivity``) run the very same checks and print the very same lines.

Each check touches as little as it can and leaves nothing behind:

* OCI: build the credentials of ``FOCUS_OCI_AUTH``, then list one short page of the FOCUS
  prefix. That is exactly the permission the copy needs (``read objects``), and a missing
  cross-tenancy policy shows up here as 404 BucketNotFound.
* S3: start a multipart upload of a throwaway key under the BYOD prefix and abort it at once.
  This needs only ``s3:PutObject`` and ``s3:AbortMultipartUpload``, what a BYOD key allows; a
  PUT would leave an object the key may not delete, and a GET or a LIST would need rights the
  key does not have. No object is ever created, read or listed.

Every failure is one line naming the setting to look at, what the service said and what to
do; credentials never appear in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from focus_pipeline.lib import variables as var
from focus_pipeline.lib.errors import (
    describe_oci_auth_error,
    describe_oci_error,
    describe_s3_check_error,
)
from focus_pipeline.lib.oci_source import OciConnection

# A short page is enough to prove the policy and costs one request whatever the bucket holds.
OCI_LIST_LIMIT = 5
# Never a report name (those are `<day><sep><file>`), so it cannot shadow or overwrite one.
CHECK_KEY_PREFIX = ".focus-pipeline-check-"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``name`` is settings, oci or s3; ``message`` one line."""

    name: str
    ok: bool
    message: str

    @property
    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check_oci(
    connection: OciConnection,
    namespace: str,
    bucket: str,
    prefix: str,
    *,
    limit: int = OCI_LIST_LIMIT,
) -> CheckResult:
    """Authenticate with ``connection`` and list one page of ``prefix``."""
    try:
        client = connection.build_client()
    except Exception as exc:
        return CheckResult(
            "oci", False, describe_oci_auth_error(exc, connection.auth, namespace, bucket)
        )
    try:
        # One attempt, no pagination: the client has SDK retries off (see oci_source).
        resp = client.list_objects(
            namespace, bucket, prefix=prefix, fields="name,size", limit=limit
        )
    except Exception as exc:
        return CheckResult("oci", False, describe_oci_error(exc, namespace, bucket))
    objects = resp.data.objects or []
    where = f"namespace {namespace!r}, bucket {bucket!r}, prefix {prefix!r}"
    if not objects:
        return CheckResult(
            "oci",
            True,
            f"authenticated ({connection.auth}) and listed {where}: no reports yet; Oracle "
            "writes the first ones within a day of enabling cost reports. If this tenancy has "
            f"had reports for a while, check {var.OCI_PREFIX}.",
        )
    more = " or more" if resp.data.next_start_with else ""
    return CheckResult(
        "oci",
        True,
        f"authenticated ({connection.auth}) and listed {where}: {len(objects)}{more} objects, "
        f"first {objects[0].name!r}",
    )


def check_key(prefix: str) -> str:
    """A throwaway key under the BYOD prefix, unique per check so parallel checks never meet."""
    name = f"{CHECK_KEY_PREFIX}{uuid.uuid4().hex}"
    prefix = prefix.strip("/")
    return f"{prefix}/{name}" if prefix else name


def check_s3(client_factory: Callable[[], Any], bucket: str, prefix: str) -> CheckResult:
    """Prove write access under ``prefix``: CreateMultipartUpload, then AbortMultipartUpload."""
    key = check_key(prefix)
    try:
        client = client_factory()
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    except Exception as exc:
        return CheckResult("s3", False, describe_s3_check_error(exc, bucket))
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception as exc:
        return CheckResult(
            "s3",
            False,
            f"{describe_s3_check_error(exc, bucket)} Writing is allowed but aborting is not: "
            "grant s3:AbortMultipartUpload on the prefix, or failed copies will leave "
            f"incomplete uploads. This check left one, holding no data: key {key!r}, upload id "
            f"{upload_id!r} (aws s3api abort-multipart-upload removes it).",
        )
    clean = prefix.strip("/")
    shown = f"under {clean + '/'!r}" if clean else "at the bucket root"
    return CheckResult(
        "s3",
        True,
        f"started and aborted a multipart upload in bucket {bucket!r} {shown}: "
        "writes are allowed and no object was left behind",
    )


def summary(results: Sequence[CheckResult]) -> str:
    failed = sum(not r.ok for r in results)
    if not failed:
        return f"All {len(results)} checks passed."
    return f"{failed} of {len(results)} checks failed."
