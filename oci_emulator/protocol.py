"""What the OCI Object Storage REST API (version 20160918) says on the wire, as plain functions.

Constants of the API, the error every layer raises (``HttpError``, answered as OCI's
``{"code": ..., "message": ...}``), and the header parsing and formatting the handler needs:
one ``range``, the emulator-only multipart part size, an object's response headers.
"""

from __future__ import annotations

import email.utils
import re

from oci_emulator.objects import ObjectRecord

API_VERSION = "20160918"
LIST_FIELDS = (
    "name",
    "size",
    "etag",
    "md5",
    "timeCreated",
    "timeModified",
    "storageTier",
    "archivalState",
)
MAX_LIST_LIMIT = 1000
MULTIPART_PART_SIZE_HEADER = "opc-emulator-multipart-part-size"

DEFAULT_ERROR_CODES = {
    400: "InvalidParameter",
    401: "NotAuthenticated",
    403: "NotAuthorizedOrNotFound",
    404: "NotFound",
    409: "IncorrectState",
    411: "LengthRequired",
    412: "IfMatchFailed",
    416: "InvalidRange",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class HttpError(Exception):
    """An error answer: status, OCI error code, message and any extra response headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def parse_range(value: str, size: int) -> tuple[int, int]:
    """Parse one ``bytes=`` range into (offset, length); 416 when it selects nothing."""
    m = _RANGE_RE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise HttpError(
            400,
            "InvalidParameter",
            f"Invalid range '{value}': only one range of the form "
            "bytes=a-b, bytes=a- or bytes=-n is supported",
        )
    first, last = m.group(1), m.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _range_not_satisfiable(value, size)
        start = max(0, size - suffix)
        return start, size - start
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        raise HttpError(400, "InvalidParameter", f"Invalid range '{value}'")
    if start >= size:
        raise _range_not_satisfiable(value, size)
    end = min(end, size - 1)
    return start, end - start + 1


def _range_not_satisfiable(value: str, size: int) -> HttpError:
    return HttpError(
        416,
        "InvalidRange",
        f"The requested range '{value}' is not satisfiable for an object of {size} bytes",
        {"Content-Range": f"bytes */{size}"},
    )


def parse_part_size(value: str | None) -> int | None:
    """The ``opc-emulator-multipart-part-size`` header: None when absent, else a size > 0."""
    if value is None or not value.strip():
        return None
    try:
        size = int(value)
    except ValueError:
        raise HttpError(
            400, "InvalidParameter", f"{MULTIPART_PART_SIZE_HEADER} must be an integer"
        ) from None
    if size <= 0:
        raise HttpError(400, "InvalidParameter", f"{MULTIPART_PART_SIZE_HEADER} must be > 0")
    return size


def http_date(record: ObjectRecord) -> str:
    return email.utils.formatdate(record.time_modified.timestamp(), usegmt=True)


def object_headers(record: ObjectRecord) -> dict[str, str]:
    """GetObject/HeadObject response headers of a whole object (Content-Length aside)."""
    headers = {
        "ETag": record.etag,
        "Content-Type": record.content_type,
        "Last-Modified": http_date(record),
        "Accept-Ranges": "bytes",
        "storage-tier": record.storage_tier,
    }
    if record.content_encoding:
        headers["Content-Encoding"] = record.content_encoding
    if record.is_multipart:
        headers["opc-multipart-md5"] = record.md5
    else:
        headers["Content-MD5"] = record.content_md5
    for key, value in record.metadata.items():
        headers[f"opc-meta-{key}"] = value
    return headers
