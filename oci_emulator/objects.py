"""One stored object: its metadata record, and the writer that streams its body to disk.

A body is written to a fresh file while it is hashed (whole-body MD5 and, for an emulated
multipart upload, the MD5 of each part), so no body is ever held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

IO_CHUNK = 1 << 20


def now_ms() -> datetime:
    """Current UTC time at millisecond precision, as the service stores it."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def rfc3339(ts: datetime) -> str:
    """Format like the service's JSON timestamps: ``2024-11-28T06:12:03.123000+00:00``."""
    return ts.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class ObjectRecord:
    """Metadata of one stored object version; the body lives in ``blob_path``."""

    name: str
    size: int
    etag: str
    md5: str  # listing md5: base64 md5, or base64(md5 of part md5s)-N for multipart
    content_md5: str  # base64 md5 of the whole body (sent as Content-MD5 when single-part)
    time_created: datetime
    time_modified: datetime
    content_type: str
    content_encoding: str | None
    metadata: dict[str, str]
    multipart_parts: int | None
    blob_path: Path
    storage_tier: str = "Standard"

    @property
    def is_multipart(self) -> bool:
        return self.multipart_parts is not None

    def summary(self, fields: tuple[str, ...]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": self.name,
            "size": self.size,
            "etag": self.etag,
            "md5": self.md5,
            "timeCreated": rfc3339(self.time_created),
            "timeModified": rfc3339(self.time_modified),
            "storageTier": self.storage_tier,
        }
        # archivalState exists only for Archive-tier objects; Standard objects omit it.
        return {f: values[f] for f in fields if f in values}

    def to_index(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "etag": self.etag,
            "md5": self.md5,
            "content_md5": self.content_md5,
            "time_created": rfc3339(self.time_created),
            "time_modified": rfc3339(self.time_modified),
            "content_type": self.content_type,
            "content_encoding": self.content_encoding,
            "metadata": self.metadata,
            "multipart_parts": self.multipart_parts,
            "blob": self.blob_path.name,
        }

    @classmethod
    def from_index(cls, data: dict[str, Any], blob_dir: Path) -> ObjectRecord:
        return cls(
            name=data["name"],
            size=int(data["size"]),
            etag=data["etag"],
            md5=data["md5"],
            content_md5=data["content_md5"],
            time_created=datetime.fromisoformat(data["time_created"]),
            time_modified=datetime.fromisoformat(data["time_modified"]),
            content_type=data["content_type"],
            content_encoding=data.get("content_encoding"),
            metadata=dict(data.get("metadata") or {}),
            multipart_parts=data.get("multipart_parts"),
            blob_path=blob_dir / data["blob"],
        )


class Digester:
    """Whole-body MD5 plus, for emulated multipart uploads, the MD5 of each part."""

    def __init__(self, part_size: int | None) -> None:
        self.size = 0
        self._md5 = hashlib.md5()
        self._part_size = part_size
        self._parts: list[bytes] = []
        self._part = hashlib.md5()
        self._part_fill = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self.size += len(chunk)
        self._md5.update(chunk)
        if not self._part_size:
            return
        view = memoryview(chunk)
        while len(view):
            take = min(len(view), self._part_size - self._part_fill)
            self._part.update(view[:take])
            self._part_fill += take
            view = view[take:]
            if self._part_fill == self._part_size:
                self._parts.append(self._part.digest())
                self._part = hashlib.md5()
                self._part_fill = 0

    @property
    def content_md5(self) -> str:
        return _b64(self._md5.digest())

    def listing_md5(self) -> tuple[str, int | None]:
        if not self._part_size:
            return self.content_md5, None
        parts = list(self._parts)
        if self._part_fill or not parts:
            parts.append(self._part.digest())
        return f"{_b64(hashlib.md5(b''.join(parts)).digest())}-{len(parts)}", len(parts)


class BlobWriter:
    """Streams a body to a fresh file while hashing it, so no body is ever held in memory."""

    def __init__(self, blob_dir: Path, part_size: int | None) -> None:
        self.path = blob_dir / uuid.uuid4().hex
        self.digest = Digester(part_size)
        self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed in close()/abort()

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self._file.write(chunk)
        self.digest.update(chunk)

    def close(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)
