"""Where a FOCUS report comes from in OCI and where its copy goes in S3.

OCI lays reports out as ``<prefix>YYYY/MM/DD/<file>``; the BYOD bucket wants them flat as
``<s3 prefix>/<formatted day><separator><file>``. Every name is checked before it can become
a key: an object that does not fit the layout is skipped with a reason, never written to a
guessed key.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Where Oracle writes FOCUS reports in the tenancy's bucket (namespace ``bling``).
OCI_REPORTS_PREFIX = "FOCUS Reports/"
# The BYOD key's day: ISO dates sort and read the same everywhere.
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_NAME_SEPARATOR = "_"
# S3 keys are at most 1,024 bytes of UTF-8.
MAX_S3_KEY_BYTES = 1024

_DAY_PATH = re.compile(r"^(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<file>[^/]+)$")
# A report file name as OCI writes it is `<16 digits>-<5 digits>.csv.gz`; we accept any plain
# file name so a change of OCI's numbering does not stop the pipeline, but nothing that could
# climb out of the prefix or hide a control character.
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")


class InvalidName(ValueError):
    """An object name that cannot be mapped to a destination key; the text says why."""


@dataclass(frozen=True)
class ReportName:
    """A FOCUS report object name taken apart: its day folder and its file name."""

    day: dt.date
    file_name: str


@dataclass(frozen=True)
class OciLayout:
    """Where Oracle writes a day's reports: ``<prefix>YYYY/MM/DD/<file>``. Owned by the OCI
    side; validated once, used for every object."""

    prefix: str = OCI_REPORTS_PREFIX

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", normalize_oci_prefix(self.prefix))

    def day_folder(self, day: dt.date) -> str:
        """The OCI prefix that holds one day's reports, e.g. ``FOCUS Reports/2024/11/28/``."""
        return f"{self.prefix}{day:%Y/%m/%d}/"

    def parse(self, object_name: str) -> ReportName:
        """Split an OCI object name into day and file, or raise :class:`InvalidName`."""
        if not object_name.startswith(self.prefix):
            raise InvalidName(f"not under the prefix {self.prefix!r}")
        rest = object_name[len(self.prefix) :]
        if any(ord(c) < 32 or ord(c) == 127 for c in object_name):
            raise InvalidName("contains a control character")
        match = _DAY_PATH.match(rest)
        if not match:
            raise InvalidName("not in the YYYY/MM/DD/<file> layout")
        try:
            day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            raise InvalidName("its folder is not a real date") from None
        file_name = match["file"]
        if ".." in file_name or not _SAFE_FILE.match(file_name):
            raise InvalidName("its file name has characters that are not allowed in a key")
        return ReportName(day=day, file_name=file_name)

    def report_of_day(self, object_name: str, day: dt.date) -> ReportName:
        """:meth:`parse`, also checking that the object lies in ``day``'s folder."""
        report = self.parse(object_name)
        if report.day != day:
            raise InvalidName(f"its folder is {report.day.isoformat()}, not {day.isoformat()}")
        return report


@dataclass(frozen=True)
class S3Layout:
    """How the BYOD bucket wants reports: flat, ``<prefix>/<day><separator><file>``. Owned by
    the S3 side; validated once, used for every object."""

    prefix: str = ""
    date_format: str = DEFAULT_DATE_FORMAT
    separator: str = DEFAULT_NAME_SEPARATOR
    # Which bucket, at which endpoint ("" for AWS's own): a copy elsewhere does not count.
    bucket: str | None = None
    endpoint: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", normalize_s3_prefix(self.prefix))
        validate_date_format(self.date_format)
        validate_separator(self.separator)

    def day_key_prefix(self, day: dt.date) -> str:
        """What every key of ``day`` starts with (to find a dead run's open uploads)."""
        start = f"{day.strftime(self.date_format)}{self.separator}"
        return f"{self.prefix}/{start}" if self.prefix else start

    def key(self, report: ReportName) -> str:
        """The destination key for a report, e.g. ``byod/2024-11-28_0001-00001.csv.gz``."""
        name = f"{report.day.strftime(self.date_format)}{self.separator}{report.file_name}"
        key = f"{self.prefix}/{name}" if self.prefix else name
        if len(key.encode()) > MAX_S3_KEY_BYTES:
            raise InvalidName(f"its destination key would exceed {MAX_S3_KEY_BYTES} bytes")
        return key


def normalize_oci_prefix(prefix: str) -> str:
    """OCI prefixes are matched literally; the day folders hang below a trailing slash."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if prefix.startswith("/"):
        raise ValueError("must not start with '/': OCI object names have no leading slash")
    return prefix


def normalize_s3_prefix(prefix: str) -> str:
    """S3 prefixes are stored without surrounding slashes so keys never contain ``//``."""
    prefix = prefix.strip("/")
    if "//" in prefix:
        raise ValueError("must not contain '//'")
    if any(ord(c) < 32 for c in prefix):
        raise ValueError("must not contain control characters")
    return prefix


def validate_separator(separator: str) -> None:
    if "/" in separator:
        raise ValueError("must not contain '/': it would create folders in the destination")
    if any(ord(c) < 32 for c in separator):
        raise ValueError("must not contain control characters")


def validate_date_format(date_format: str) -> None:
    """A date format must name each day differently, or two days' files would collide."""
    try:
        start = dt.date(2024, 1, 1)
        rendered = {(start + dt.timedelta(days=i)).strftime(date_format) for i in range(731)}
    except ValueError as exc:
        raise ValueError(f"is not a valid strftime format ({exc})") from None
    if len(rendered) != 731:
        raise ValueError("must identify the day uniquely, for example %Y-%m-%d or %Y%m%d")
    if any("/" in r for r in rendered):
        raise ValueError("must not produce '/': it would create folders in the destination")
