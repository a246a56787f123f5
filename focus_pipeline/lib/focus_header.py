"""Is a copied file a FOCUS report? Its header, read from the first bytes of the copy.

The copy keeps the first ``HEAD_BYTES`` of each file as it passes (no second GET); this module
inflates only enough of them to reach the first line and names the column set it matches:
OCI's own (FOCUS 1.0-preview names plus ``oci_`` columns) or the earliest released FOCUS
version it fits. A header fits a version when it holds the version's mandatory columns and
nothing else but that version's columns and custom ones (``x_`` in FOCUS, ``oci_`` from OCI).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from focus_pipeline.lib.focus_columns import FOCUS_VERSIONS, OCI_COLUMNS

# Enough compressed bytes for any header row (~50-70 names of ~20 characters) with room for
# gzip's own header; the copy keeps this much of each file.
HEAD_BYTES = 64 << 10
# The most of the inflated stream we look at for the first line.
MAX_HEADER_LINE = 16 << 10
OCI = "oci"
CUSTOM_PREFIXES = ("x_", "oci_")


@dataclass(frozen=True)
class HeaderMatch:
    """What a file's first line is: ``matched`` is "oci", a FOCUS version ("1.3"), or None
    with ``problem`` saying why (not gzip, empty, no known column set)."""

    matched: str | None
    columns: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.matched is not None


def header_line(head: bytes) -> str:
    """The first line of a gzip stream that begins with ``head``; raises ValueError when
    ``head`` is not gzip or holds no complete first line."""
    if not head:
        raise ValueError("the file is empty")
    if head[:2] != b"\x1f\x8b":
        raise ValueError("not gzip data (no gzip magic number)")
    try:
        text = zlib.decompressobj(wbits=31).decompress(head, MAX_HEADER_LINE)
    except zlib.error as exc:
        raise ValueError(f"not readable gzip data ({exc})") from None
    end = text.find(b"\n")
    if end < 0:
        if not text:
            raise ValueError("the gzip stream holds no data")
        raise ValueError("no complete first line in the file's beginning")
    return text[:end].decode("utf-8-sig", errors="replace").rstrip("\r")


def classify(head: bytes) -> HeaderMatch:
    """Which known column set the file's header matches."""
    try:
        line = header_line(head)
    except ValueError as exc:
        return HeaderMatch(None, 0, str(exc))
    columns = [c.strip().strip('"') for c in line.split(",")]
    names = set(columns)
    if names == set(OCI_COLUMNS):
        return HeaderMatch(OCI, len(columns))
    standard = {c for c in names if not c.startswith(CUSTOM_PREFIXES)}
    for version in sorted(FOCUS_VERSIONS, key=lambda v: tuple(map(int, v.split(".")))):
        spec = FOCUS_VERSIONS[version]
        if spec.mandatory <= names and standard <= spec.columns:
            return HeaderMatch(version, len(columns))
    return HeaderMatch(
        None, len(columns), f"its {len(columns)} columns match no FOCUS version nor OCI's set"
    )
