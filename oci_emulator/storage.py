"""Buckets and objects on disk: bodies as files under ``data_dir/objects``, metadata in memory.

All metadata sits behind one lock; bodies are written outside it (``BlobWriter``) and swapped
in by ``commit``. With a persistent ``data_dir`` a JSON index is written next to the bodies,
batched by a background flusher, so objects and their etags survive a restart.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from oci_emulator.objects import IO_CHUNK, BlobWriter, ObjectRecord, now_ms, rfc3339
from oci_emulator.protocol import MAX_LIST_LIMIT

log = logging.getLogger(__name__)

INDEX_FILE = "index.json"
BLOB_DIR = "objects"


class BucketNotFoundError(KeyError):
    """Raised by the Python API when a bucket does not exist."""


@dataclass
class _Bucket:
    name: str
    time_created: datetime
    etag: str
    names: list[str] = field(default_factory=list)  # kept sorted for bisect-based listing
    objects: dict[str, ObjectRecord] = field(default_factory=dict)


class Store:
    """The emulator's buckets and objects; ``persistent`` keeps them in ``data_dir``."""

    def __init__(self, data_dir: Path, namespace: str, *, persistent: bool) -> None:
        self.data_dir = data_dir
        self.namespace = namespace
        self.persistent = persistent
        self.blob_dir = data_dir / BLOB_DIR
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        if persistent:
            self._load_index()

    # -- buckets ---------------------------------------------------------------------------------

    def create_bucket(self, bucket: str) -> None:
        with self._lock:
            if bucket not in self._buckets:
                self._buckets[bucket] = _Bucket(bucket, now_ms(), str(uuid.uuid4()))
        self._dirty.set()

    def has_bucket(self, bucket: str) -> bool:
        with self._lock:
            return bucket in self._buckets

    def bucket_info(self, bucket: str) -> dict[str, Any]:
        """GetBucket's response body."""
        with self._lock:
            b = self._buckets[bucket]
            return {
                "namespace": self.namespace,
                "name": b.name,
                "compartmentId": "ocid1.compartment.oc1..emulator",
                "createdBy": "ocid1.user.oc1..emulator",
                "timeCreated": rfc3339(b.time_created),
                "etag": b.etag,
                "publicAccessType": "NoPublicAccess",
                "storageTier": "Standard",
                "versioning": "Disabled",
                "objectEventsEnabled": False,
                "replicationEnabled": False,
                "isReadOnly": False,
                "metadata": {},
                "freeformTags": {},
                "definedTags": {},
            }

    # -- objects ---------------------------------------------------------------------------------

    def new_writer(self, part_size: int | None) -> BlobWriter:
        """A writer for a body that ``commit`` can later store."""
        return BlobWriter(self.blob_dir, part_size)

    def put_object(
        self,
        bucket: str,
        name: str,
        data: bytes | bytearray | memoryview | Path,
        *,
        content_encoding: str | None,
        content_type: str,
        multipart_part_size: int | None,
        metadata: dict[str, str] | None,
    ) -> ObjectRecord:
        """Store an object as PutObject would; a Path is streamed, never loaded whole."""
        if not name:
            raise ValueError("object name must not be empty")
        if multipart_part_size is not None and multipart_part_size <= 0:
            raise ValueError("multipart_part_size must be > 0")
        if not self.has_bucket(bucket):
            raise BucketNotFoundError(bucket)
        writer = self.new_writer(multipart_part_size)
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                view = memoryview(data)
                for off in range(0, len(view), IO_CHUNK):
                    writer.write(view[off : off + IO_CHUNK])
            else:
                with open(data, "rb") as src:
                    while chunk := src.read(IO_CHUNK):
                        writer.write(chunk)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        return self.commit(
            bucket,
            name,
            writer,
            content_type=content_type,
            content_encoding=content_encoding,
            metadata={k.lower(): v for k, v in (metadata or {}).items()},
        )

    def commit(
        self,
        bucket: str,
        name: str,
        writer: BlobWriter,
        *,
        content_type: str,
        content_encoding: str | None,
        metadata: dict[str, str],
    ) -> ObjectRecord:
        """Make a fully written body the object's current version (the old body is deleted)."""
        md5, parts = writer.digest.listing_md5()
        now = now_ms()
        record = ObjectRecord(
            name=name,
            size=writer.digest.size,
            etag=str(uuid.uuid4()),  # opaque and fresh on every put, like the service
            md5=md5,
            content_md5=writer.digest.content_md5,
            time_created=now,
            time_modified=now,
            content_type=content_type,
            content_encoding=content_encoding,
            metadata=dict(metadata),
            multipart_parts=parts,
            blob_path=writer.path,
        )
        with self._lock:
            b = self._buckets.get(bucket)
            if b is None:
                writer.abort()
                raise BucketNotFoundError(bucket)
            old = b.objects.get(name)
            b.objects[name] = record
            if old is None:
                bisect.insort(b.names, name)
        if old is not None:
            old.blob_path.unlink(missing_ok=True)
        self._dirty.set()
        return record

    def delete_object(self, bucket: str, name: str) -> bool:
        with self._lock:
            b = self._buckets.get(bucket)
            if b is None:
                raise BucketNotFoundError(bucket)
            record = b.objects.pop(name, None)
            if record is not None:
                del b.names[bisect.bisect_left(b.names, name)]
        if record is None:
            return False
        record.blob_path.unlink(missing_ok=True)
        self._dirty.set()
        return True

    def get_object_record(self, bucket: str, name: str) -> ObjectRecord | None:
        with self._lock:
            b = self._buckets.get(bucket)
            return None if b is None else b.objects.get(name)

    def open_object(
        self, bucket: str, name: str, *, open_body: bool
    ) -> tuple[ObjectRecord | None, BinaryIO | None]:
        """The object's record and, with ``open_body``, its body opened for reading."""
        # Opened under the lock: an overwrite unlinks the old blob, but an open file survives.
        with self._lock:
            b = self._buckets.get(bucket)
            record = None if b is None else b.objects.get(name)
            if record is None:
                return None, None
            fh: BinaryIO | None = open(record.blob_path, "rb") if open_body else None  # noqa: SIM115
        return record, fh

    def object_names(self, bucket: str) -> list[str]:
        with self._lock:
            return list(self._buckets[bucket].names)

    def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        start: str | None = None,
        end: str | None = None,
        start_after: str | None = None,
        limit: int = MAX_LIST_LIMIT,
        delimiter: str | None = None,
        fields: tuple[str, ...] = ("name",),
    ) -> dict[str, Any]:
        """One ListObjects page, exactly as the REST response body is built."""
        objects: list[dict[str, Any]] = []
        prefixes: list[str] = []
        next_start: str | None = None
        with self._lock:
            b = self._buckets.get(bucket)
            if b is None:
                raise BucketNotFoundError(bucket)
            names = b.names
            i = bisect.bisect_left(names, prefix) if prefix else 0
            if start is not None:
                i = max(i, bisect.bisect_left(names, start))
            if start_after is not None:
                i = max(i, bisect.bisect_right(names, start_after))
            while i < len(names):
                name = names[i]
                if not name.startswith(prefix) or (end is not None and name >= end):
                    break
                if len(objects) + len(prefixes) >= limit:
                    next_start = name
                    break
                if delimiter:
                    cut = name.find(delimiter, len(prefix))
                    if cut >= 0:
                        common = name[: cut + 1]
                        prefixes.append(common)
                        # Skip every name under this prefix: they all sort below the upper key.
                        upper = common[:-1] + chr(ord(delimiter) + 1)
                        i = bisect.bisect_left(names, upper, i)
                        continue
                objects.append(b.objects[name].summary(fields))
                i += 1
        result: dict[str, Any] = {"objects": objects}
        if delimiter:
            result["prefixes"] = prefixes
        if next_start is not None:
            result["nextStartWith"] = next_start
        return result

    # -- persistence -----------------------------------------------------------------------------

    def open(self) -> None:
        """Start the background index writer (persistent stores only; idempotent)."""
        self._stopping.clear()
        if self.persistent and self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="oci-emulator-index", daemon=True
            )
            self._flusher.start()

    def close(self) -> None:
        """Stop the index writer, then write the index, or delete a temporary data directory."""
        self._stopping.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        if self.persistent:
            self._write_index()
        elif self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _load_index(self) -> None:
        path = self.data_dir / INDEX_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("namespace") not in (None, self.namespace):
            log.warning(
                "data dir was written for namespace %r, serving it as %r",
                data.get("namespace"),
                self.namespace,
            )
        referenced: set[str] = set()
        for bucket_name, info in data.get("buckets", {}).items():
            b = _Bucket(
                bucket_name,
                datetime.fromisoformat(info["time_created"]),
                info.get("etag") or str(uuid.uuid4()),
            )
            for item in info.get("objects", []):
                record = ObjectRecord.from_index(item, self.blob_dir)
                if not record.blob_path.exists():
                    log.warning("dropping %r: its body file is missing", record.name)
                    continue
                b.objects[record.name] = record
                referenced.add(record.blob_path.name)
            b.names = sorted(b.objects)
            self._buckets[bucket_name] = b
        # Bodies of puts that never committed (the process died mid-upload) are garbage.
        for blob in self.blob_dir.iterdir():
            if blob.name not in referenced:
                blob.unlink(missing_ok=True)

    def _write_index(self) -> None:
        self._dirty.clear()
        with self._lock:
            data = {
                "version": 1,
                "namespace": self.namespace,
                "buckets": {
                    name: {
                        "time_created": rfc3339(b.time_created),
                        "etag": b.etag,
                        "objects": [b.objects[n].to_index() for n in b.names],
                    }
                    for name, b in self._buckets.items()
                },
            }
        tmp = self.data_dir / f".{INDEX_FILE}.tmp"
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, self.data_dir / INDEX_FILE)

    def _flush_loop(self) -> None:
        # Batches index writes (at most ~2 a second) so seeding thousands of objects stays fast.
        while not self._stopping.is_set():
            if self._dirty.wait(timeout=0.2):
                if self._stopping.wait(timeout=0.5):
                    break
                try:
                    self._write_index()
                except OSError:
                    log.exception("could not write the emulator index")
