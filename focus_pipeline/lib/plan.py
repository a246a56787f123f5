"""The one diff between what OCI holds and what was already copied.

The asset uses it to decide which files to copy; the sensor uses it to decide which days need
a run; the status command uses it to show what is pending. Keeping it in one pure function
means the three can never disagree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from focus_pipeline.lib.naming import InvalidName, OciLayout, S3Layout

# The keys of a copied-file record: the shape checkpoints have stored since the first release,
# so a year of deployed event logs reads without conversion. Manifests use it too.
RECORD_NAME = "object_name"
RECORD_ETAG = "etag"
RECORD_BYTES = "bytes"
RECORD_MD5 = "md5"
RECORD_S3_KEY = "s3_key"
RECORD_S3_BUCKET = "s3_bucket"
RECORD_S3_ENDPOINT = "s3_endpoint"
RECORD_SECONDS = "seconds"
RECORD_FOCUS_HEADER = "focus_header"
RECORD_COLUMNS = "columns"
RECORD_HEADER_PROBLEM = "header_problem"
# Manifests written before records had one shape said ``name`` and ``size``.
_LEGACY_KEYS = {"name": RECORD_NAME, "size": RECORD_BYTES}


@dataclass(frozen=True)
class OciObject:
    """One object as the OCI listing reports it (``fields=name,size,etag,md5``)."""

    name: str
    size: int
    etag: str
    md5: str | None = None

    @property
    def plain_md5(self) -> str | None:
        """The base64 MD5 of the body, or None for multipart objects (``...-N``)."""
        if self.md5 and "-" not in self.md5:
            return self.md5
        return None


@dataclass(frozen=True)
class CopiedFile:
    """What the event log says about one copied object: the version that landed, and where."""

    name: str
    etag: str
    size: int
    md5: str
    s3_key: str
    # The destination it landed in ("" is AWS's own endpoint); None in records written before
    # destinations were recorded (the state module pins those to one destination).
    s3_bucket: str | None = None
    s3_endpoint: str | None = None
    # The file's header: the FOCUS column set it matched ("oci", "1.3") and its column count,
    # or why it matched none; all None in records written before headers were read.
    focus_header: str | None = field(default=None, compare=False)
    columns: int | None = field(default=None, compare=False)
    header_problem: str | None = field(default=None, compare=False)
    # When the copy landed (epoch seconds), as the event log recorded it; not part of identity.
    copied_at: float | None = field(default=None, compare=False)

    def to_record(self, seconds: float | None = None) -> dict[str, Any]:
        """The one serialised form, for checkpoints and manifests alike."""
        record: dict[str, Any] = {
            RECORD_NAME: self.name,
            RECORD_ETAG: self.etag,
            RECORD_BYTES: self.size,
            RECORD_MD5: self.md5,
            RECORD_S3_KEY: self.s3_key,
        }
        if self.s3_bucket is not None:
            record[RECORD_S3_BUCKET] = self.s3_bucket
        if self.s3_endpoint is not None:
            record[RECORD_S3_ENDPOINT] = self.s3_endpoint
        for key, value in (
            (RECORD_FOCUS_HEADER, self.focus_header),
            (RECORD_COLUMNS, self.columns),
            (RECORD_HEADER_PROBLEM, self.header_problem),
        ):
            if value is not None:
                record[key] = value
        if seconds is not None:
            record[RECORD_SECONDS] = round(seconds, 3)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any], copied_at: float | None = None) -> CopiedFile:
        """The one parser: reads :meth:`to_record`'s form and the older manifest form."""
        r = {_LEGACY_KEYS.get(k, k): v for k, v in record.items()}
        return cls(
            name=str(r[RECORD_NAME]),
            etag=str(r[RECORD_ETAG]),
            size=int(r[RECORD_BYTES]),
            md5=str(r[RECORD_MD5]),
            s3_key=str(r[RECORD_S3_KEY]),
            s3_bucket=r.get(RECORD_S3_BUCKET),
            s3_endpoint=r.get(RECORD_S3_ENDPOINT),
            focus_header=r.get(RECORD_FOCUS_HEADER),
            columns=r.get(RECORD_COLUMNS),
            header_problem=r.get(RECORD_HEADER_PROBLEM),
            copied_at=copied_at,
        )

    @property
    def header_read(self) -> bool:
        """Whether this copy's header was judged (records before that was done were not)."""
        return self.focus_header is not None or self.header_problem is not None

    def in_destination(self, bucket: str | None, endpoint: str | None) -> bool:
        """Whether this copy is in ``bucket`` at ``endpoint`` (None: any, as in old records)."""
        return all(
            mine is None or theirs is None or mine == theirs
            for mine, theirs in ((self.s3_bucket, bucket), (self.s3_endpoint, endpoint))
        )


@dataclass(frozen=True)
class PlannedCopy:
    source: OciObject
    s3_key: str
    reason: str  # "new", "changed" or "forced"


@dataclass(frozen=True)
class SkippedObject:
    name: str
    reason: str


@dataclass
class DayPlan:
    """What one day needs: copies to make, objects already copied, objects that cannot be."""

    day: dt.date
    to_copy: list[PlannedCopy] = field(default_factory=list)
    unchanged: list[CopiedFile] = field(default_factory=list)
    skipped: list[SkippedObject] = field(default_factory=list)

    @property
    def needs_copy(self) -> bool:
        return bool(self.to_copy)


def plan_day(
    day: dt.date,
    listing: Iterable[OciObject],
    copied: Mapping[str, CopiedFile],
    oci: OciLayout,
    s3: S3Layout,
    *,
    force: bool = False,
) -> DayPlan:
    """Compare a day folder's listing with the copies recorded for it.

    An object is unchanged when a copy of the same name and etag to the same key in the same
    bucket and endpoint is recorded; OCI gives every overwrite a new etag, so a changed etag
    always means new bytes, and a changed destination means the object is not there yet.
    """
    plan = DayPlan(day=day)
    for obj in sorted(listing, key=lambda o: o.name):
        try:
            key = s3.key(oci.report_of_day(obj.name, day))
        except InvalidName as exc:
            plan.skipped.append(SkippedObject(obj.name, str(exc)))
            continue
        previous = copied.get(obj.name)
        if previous is None:
            reason = "new"
        elif (
            previous.etag != obj.etag
            or previous.s3_key != key
            or not previous.in_destination(s3.bucket, s3.endpoint)
        ):
            reason = "changed"
        elif force:
            reason = "forced"
        else:
            plan.unchanged.append(previous)
            continue
        plan.to_copy.append(PlannedCopy(source=obj, s3_key=key, reason=reason))
    return plan


def folder_digest(listing: Iterable[OciObject]) -> str:
    """A short, stable fingerprint of a day folder's content (names and etags)."""
    h = hashlib.sha256()
    for obj in sorted(listing, key=lambda o: o.name):
        h.update(f"{obj.name}\0{obj.etag}\0{obj.size}\n".encode())
    return h.hexdigest()[:16]


def manifest_digest(files: Iterable[CopiedFile]) -> str:
    """A fingerprint of what landed in S3, used as the copy's data version."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda c: c.name):
        h.update(f"{f.name}\0{f.etag}\0{f.s3_key}\0{f.md5}\n".encode())
    return h.hexdigest()[:16]
