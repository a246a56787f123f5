"""Abort multipart uploads that a killed run left open under the BYOD prefix.

A copy aborts its own upload on every failure it can see, a terminated run included. A process
killed outright (SIGKILL, OOM, a lost node) cannot: its upload stays open, invisible as an
object but billed as storage, until someone aborts it. Umbrella owns the bucket, so an
``AbortIncompleteMultipartUpload`` lifecycle rule is not ours to add; instead every run starts
by listing the uploads under the prefix and aborting those that have shown no activity for
``older_than`` (``FOCUS_STALE_UPLOAD_HOURS``).

Safety rules, in order of importance:

* Only keys under the prefix are touched. The listing asks S3 for ``<prefix>/`` (so
  ``acct-1`` never matches ``acct-10``), and every key is checked again before any abort.
* An upload is stale only when it was initiated more than ``older_than`` ago *and* none of its
  parts was uploaded within ``older_than``: a very long copy of a huge file by a concurrent
  run keeps uploading parts and is left alone. When the part listing is refused, the
  initiation time alone decides, as the documented age promises.
* Listing uploads needs ``s3:ListBucketMultipartUploads``, which a least-privilege BYOD key may
  lack: a refusal is reported in the result, never raised, so the copy itself goes on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from focus_pipeline.lib.errors import is_retryable
from focus_pipeline.lib.retry import RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

# S3 returns at most 1,000 uploads (and 1,000 parts) a page.
PAGE_SIZE = 1000
_DENIED = {"AccessDenied", "AllAccessDisabled", "AccessDeniedException"}


@dataclass
class SweepResult:
    """What one sweep saw and did; the asset turns it into a log line."""

    prefix: str
    listed: int = 0
    aborted: list[str] = field(default_factory=list)
    kept_recent: int = 0
    failed: list[str] = field(default_factory=list)
    # Set when S3 refused the listing: nothing was swept and nothing else was tried.
    denied: str | None = None


def list_prefix(s3_prefix: str) -> str:
    """The listing prefix for keys under ``s3_prefix``: with a trailing slash, or the bucket."""
    prefix = s3_prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _uploads(
    s3_client: Any, bucket: str, prefix: str, retry: RetryPolicy, page_size: int
) -> Iterator[dict[str, Any]]:
    """Every open upload under ``prefix``, following ``KeyMarker``/``UploadIdMarker`` pages."""
    markers: dict[str, str] = {}
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "MaxUploads": page_size, **markers}
        if prefix:
            kwargs["Prefix"] = prefix
        page = call_with_retries(
            lambda kwargs=kwargs: s3_client.list_multipart_uploads(**kwargs),
            retry,
            is_retryable,
            what=f"ListMultipartUploads {prefix!r}",
        )
        yield from page.get("Uploads", [])
        if not page.get("IsTruncated"):
            return
        markers = {
            "KeyMarker": page.get("NextKeyMarker", ""),
            "UploadIdMarker": page.get("NextUploadIdMarker", ""),
        }
        if not markers["KeyMarker"] and not markers["UploadIdMarker"]:
            return  # a truncated page without markers would loop forever


def _last_part_time(
    s3_client: Any, bucket: str, key: str, upload_id: str, retry: RetryPolicy
) -> dt.datetime | None:
    """When the newest part of the upload landed; None when it has none (or may not be read)."""
    newest: dt.datetime | None = None
    marker = 0
    while True:
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "UploadId": upload_id,
            "MaxParts": PAGE_SIZE,
        }
        if marker:
            kwargs["PartNumberMarker"] = marker
        try:
            page = call_with_retries(
                lambda kwargs=kwargs: s3_client.list_parts(**kwargs),
                retry,
                is_retryable,
                what=f"ListParts {key}",
            )
        except ClientError as exc:
            if _code(exc) in _DENIED or _code(exc) == "NoSuchUpload":
                return newest
            raise
        for part in page.get("Parts", []):
            when = _aware(part.get("LastModified"))
            if when is not None and (newest is None or when > newest):
                newest = when
        if not page.get("IsTruncated"):
            return newest
        marker = int(page.get("NextPartNumberMarker") or 0)
        if not marker:
            return newest


def sweep_stale_uploads(
    s3_client: Any,
    bucket: str,
    s3_prefix: str,
    older_than: dt.timedelta,
    *,
    retry: RetryPolicy | None = None,
    now: dt.datetime | None = None,
    page_size: int = PAGE_SIZE,
) -> SweepResult:
    """Abort uploads under ``s3_prefix`` with no activity for ``older_than``; never raises on
    a refused listing (see :class:`SweepResult`).

    ``now`` exists for tests: S3 stamps ``Initiated`` itself, so only the clock can move.
    """
    if older_than <= dt.timedelta(0):
        raise ValueError("older_than must be positive: a zero age would abort running copies")
    retry = retry or RetryPolicy()
    now = _aware(now) or dt.datetime.now(dt.timezone.utc)
    cutoff = now - older_than
    prefix = list_prefix(s3_prefix)
    result = SweepResult(prefix=prefix)
    for upload in _listed(s3_client, bucket, prefix, retry, page_size, result):
        key, upload_id = upload.get("Key", ""), upload.get("UploadId", "")
        if not key.startswith(prefix) or not upload_id:
            continue  # the server ignored the prefix; this key is not ours to judge
        initiated = _aware(upload.get("Initiated"))
        if initiated is None or initiated > cutoff:
            result.kept_recent += 1
            continue
        last_part = _last_part_time(s3_client, bucket, key, upload_id, retry)
        if last_part is not None and last_part > cutoff:
            result.kept_recent += 1
            continue
        _abort(s3_client, bucket, key, upload_id, retry, result)
    return result


def _listed(
    s3_client: Any,
    bucket: str,
    prefix: str,
    retry: RetryPolicy,
    page_size: int,
    result: SweepResult,
) -> list[dict[str, Any]]:
    """Every open upload under ``prefix``, counted in ``result``; none when S3 refused the
    listing, which ``result.denied`` then says (a refusal is never raised)."""
    try:
        uploads = list(_uploads(s3_client, bucket, prefix, retry, page_size))
    except ClientError as exc:
        if _code(exc) in _DENIED:
            result.denied = _code(exc)
            return []
        raise
    result.listed = len(uploads)
    return uploads


def abort_uploads_of(
    s3_client: Any,
    bucket: str,
    prefix: str,
    keys: set[str],
    *,
    retry: RetryPolicy | None = None,
) -> SweepResult:
    """Abort every open upload of one of ``keys``, whatever its age, listed under ``prefix``.

    Only the one run that writes a day may call this, for that day's keys, once it knows no
    other run is writing them: whatever is open then was left by a run that died.
    """
    retry = retry or RetryPolicy()
    result = SweepResult(prefix=prefix)
    for upload in _listed(s3_client, bucket, prefix, retry, PAGE_SIZE, result):
        key, upload_id = upload.get("Key", ""), upload.get("UploadId", "")
        if key in keys and upload_id:
            _abort(s3_client, bucket, key, upload_id, retry, result)
    return result


def _abort(
    s3_client: Any, bucket: str, key: str, upload_id: str, retry: RetryPolicy, result: SweepResult
) -> None:
    try:
        call_with_retries(
            lambda: s3_client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id),
            retry,
            is_retryable,
            what=f"AbortMultipartUpload {key}",
        )
    except Exception as exc:  # one refused abort must not stop the others
        code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        if code != "NoSuchUpload":  # else a concurrent sweep or the copy got there first
            log.warning("could not abort the upload of %s: %s", key, code)
            result.failed.append(key)
        return
    result.aborted.append(key)
