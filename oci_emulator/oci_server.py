"""In-process emulator of the OCI Object Storage REST API (version 20160918).

Why it exists: the pipeline copies FOCUS cost reports out of an Oracle-owned bucket we cannot
write to, so every behaviour the copier depends on (listing pages, checksum headers, etags that
change on overwrite, ranged and conditional GETs, bodies served byte-identical with their
``Content-Encoding``, transient errors, bodies cut mid-stream, a slow cross-cloud link) has to be
reproducible locally and driven by the real ``oci`` SDK over HTTP. It is faithful where the
pipeline's correctness depends on it and deliberately small everywhere else.

Standard library (plus ``cryptography`` for signatures): ``http.server.ThreadingHTTPServer``
(HTTP/1.1 keep-alive, one daemon thread per connection), bodies kept as files under
``data_dir`` and served with ``socket.sendfile`` so multi-GB objects cost no memory, metadata in
memory under one lock.

REST surface (all under ``/n/{namespaceName}``; every request needs an ``authorization``
header; once API keys are registered (``register_api_key``) its signature is verified as OCI
does (keyId, ``rsa-sha256`` over the listed headers), else any value passes; errors are
``{"code": ..., "message": ...}`` with an ``opc-request-id`` header):

- ``GET /n/`` GetNamespace: the namespace as a JSON string.
- ``GET|HEAD /n/{ns}/b/{bucket}`` GetBucket / HeadBucket (minimal).
- ``GET /n/{ns}/b/{bucket}/o`` ListObjects: ``prefix``, ``start``, ``end``, ``startAfter``,
  ``limit`` (<= 1000), ``delimiter`` (``/`` only), ``fields``.
- ``GET|HEAD|PUT|DELETE /n/{ns}/b/{bucket}/o/{objectName}``: the name is percent-decoded from
  everything after ``/o/`` (``%2F`` and a literal ``/`` are both accepted). GET/HEAD honour
  ``if-match``, ``if-none-match`` and one ``range``; PUT honours ``Content-MD5``,
  ``Content-Type``, ``Content-Encoding``, ``opc-meta-*``, ``if-match``, ``if-none-match: *`` and
  the emulator-only ``opc-emulator-multipart-part-size`` header (store as if uploaded in parts of
  that size: listing md5 becomes ``base64(md5(part md5s))-N``, GET sends ``opc-multipart-md5``).

Control endpoints (no authorization; not recorded in the request log), for driving an emulator
that runs in another process:

- ``GET /_emulator/health`` -> ``{"ok": true, "namespace": "bling", "endpoint": "http://..."}``
- ``GET /_emulator/faults`` -> ``[{<fault fields>, "remaining": int | null}, ...]``
- ``POST /_emulator/faults`` body ``[{"op": "GetObject", "name_pattern": "\\.csv\\.gz$",
  "status": 503, "code": "ServiceUnavailable", "message": "...", "cut_after_bytes": null,
  "latency_s": 0.0, "times": 2, "probability": 1.0}, ...]`` replaces the fault list (every key
  but ``op`` is optional; unknown keys -> 400) and answers like GET.
- ``DELETE /_emulator/faults`` -> 204, no faults left.
- ``GET /_emulator/requests`` -> ``[{"seq", "time", "method", "path", "op", "bucket",
  "object_name", "query", "headers", "status", "bytes_sent", "bytes_received", "request_id",
  "fault"}, ...]`` oldest first (see ``RequestRecord``).
- ``DELETE /_emulator/requests`` -> 204, log emptied.
- ``GET /_emulator/settings`` -> ``{"rate_limit_bytes_per_sec": int | null, "latency_s": float}``
- ``PUT /_emulator/settings`` with any subset of those keys -> the new settings.

Faults (``Fault``) are checked in list order; the first one that matches the operation and
object name and fires (``times`` left, ``probability`` roll) applies; the others are left
untouched. ``latency_s`` sleeps, then ``status`` answers with an error, else ``cut_after_bytes``
closes the connection after that many body bytes although the full ``Content-Length`` was
announced.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import email.utils
import hashlib
import http.server
import json
import logging
import os
import random
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import parse_qs, unquote

log = logging.getLogger(__name__)

API_VERSION = "20160918"
OPERATIONS = (
    "GetNamespace",
    "GetBucket",
    "HeadBucket",
    "ListObjects",
    "GetObject",
    "HeadObject",
    "PutObject",
    "DeleteObject",
)
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
INDEX_FILE = "index.json"
BLOB_DIR = "objects"

# Request headers copied into the request log; anything else is noise for assertions.
HEADERS_OF_INTEREST = (
    "range",
    "if-match",
    "if-none-match",
    "content-length",
    "content-md5",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "expect",
    "opc-client-request-id",
    MULTIPART_PART_SIZE_HEADER,
)

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

_IO_CHUNK = 1 << 20
# A body this small is read and discarded after an early error so the connection stays usable;
# a larger one is cheaper to abandon by closing the connection.
_DRAIN_LIMIT = 8 << 20
_NS_RE = re.compile(r"^/n/?$")
_BUCKET_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/?$")
_LIST_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/o/?$")
_OBJECT_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$", re.DOTALL)
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _now() -> datetime:
    """Current UTC time at millisecond precision, as the service stores it."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def rfc3339(ts: datetime) -> str:
    """Format like the service's JSON timestamps: ``2024-11-28T06:12:03.123000+00:00``."""
    return ts.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


# --------------------------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected misbehaviour, so retry and resume paths can be tested deterministically.

    ``op`` is an operation name from ``OPERATIONS`` or ``"*"``. ``name_pattern`` is a regex
    searched in the object name (for ListObjects, in the ``prefix`` query value); when set,
    requests without a name never match. ``status`` answers with an error (``code`` defaults to
    the usual OCI code for that status). ``cut_after_bytes`` sends headers with the full
    ``Content-Length`` and closes the connection after that many body bytes. ``latency_s``
    sleeps before answering. ``times`` limits how many requests it applies to (None: forever);
    ``probability`` makes it fire randomly, drawn from the emulator's seeded generator.
    """

    op: str = "*"
    name_pattern: str | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    cut_after_bytes: int | None = None
    latency_s: float = 0.0
    times: int | None = None
    probability: float = 1.0
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op != "*" and self.op not in OPERATIONS:
            raise ValueError(f"unknown op {self.op!r}; expected '*' or one of {OPERATIONS}")
        if self.status is not None and not 400 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, got {self.status}")
        if self.cut_after_bytes is not None and self.cut_after_bytes < 0:
            raise ValueError("cut_after_bytes must be >= 0")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        if self.latency_s < 0:
            raise ValueError("latency_s must be >= 0")
        self._regex = re.compile(self.name_pattern) if self.name_pattern is not None else None

    def matches(self, op: str, name: str | None) -> bool:
        if self.op != "*" and self.op != op:
            return False
        if self._regex is None:
            return True
        return name is not None and self._regex.search(name) is not None

    @property
    def error_code(self) -> str:
        if self.code:
            return self.code
        return DEFAULT_ERROR_CODES.get(int(self.status or 500), "InternalServerError")

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "name_pattern": self.name_pattern,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "cut_after_bytes": self.cut_after_bytes,
            "latency_s": self.latency_s,
            "times": self.times,
            "probability": self.probability,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {
            "op",
            "name_pattern",
            "status",
            "code",
            "message",
            "cut_after_bytes",
            "latency_s",
            "times",
            "probability",
        }
        unknown = set(data) - allowed - {"remaining"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        kwargs = {k: v for k, v in data.items() if k in allowed and v is not None}
        return cls(**kwargs)


class FaultSet:
    """Ordered, thread-safe list of faults with a per-fault count of remaining applications.

    Any fault type with ``times``, ``probability`` and ``matches(*request)`` fits (the tests'
    S3 fault proxy uses it too).
    """

    def __init__(self, rng: random.Random) -> None:
        self._lock = threading.Lock()
        self._rng = rng
        self._entries: list[list[Any]] = []  # [fault, remaining | None]

    def add(self, fault: Any) -> Any:
        with self._lock:
            self._entries.append([fault, fault.times])
        return fault

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._entries = [[f, f.times] for f in faults]

    def clear(self) -> None:
        with self._lock:
            self._entries = []

    def as_dicts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**f.to_dict(), "remaining": left} for f, left in self._entries]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def pick(self, *request: Any) -> Any:
        """Return the first fault matching ``request`` that fires, consuming one of its
        ``times``; ``request`` is what the fault type's ``matches`` takes."""
        with self._lock:
            for entry in self._entries:
                fault, left = entry
                if left == 0 or not fault.matches(*request):
                    continue
                # Roll only for probabilistic faults so the seeded sequence stays reproducible.
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                if left is not None:
                    entry[1] = left - 1
                return fault
        return None


@dataclass
class RequestRecord:
    """One handled request, as tests and benchmarks want to see it.

    Appended when the response status is sent (before the body), so ``bytes_sent`` keeps
    growing until the body is out; read it after the client has consumed the response.
    """

    seq: int
    time: float
    method: str
    path: str
    op: str | None
    bucket: str | None
    object_name: str | None
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None = None
    bytes_sent: int = 0
    bytes_received: int = 0
    request_id: str = ""
    fault: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe, append-only log of handled requests (control endpoints excluded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._seq = 0

    def _next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        with self._lock:
            self._records = []

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._records[index]

    def find(
        self,
        method: str | None = None,
        op: str | None = None,
        object_name: str | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        return [
            r
            for r in self.snapshot()
            if (method is None or r.method == method.upper())
            and (op is None or r.op == op)
            and (object_name is None or r.object_name == object_name)
            and (status is None or r.status == status)
        ]

    def count(
        self,
        method: str | None = None,
        op: str | None = None,
        object_name: str | None = None,
        status: int | None = None,
    ) -> int:
        return len(self.find(method=method, op=op, object_name=object_name, status=status))


# --------------------------------------------------------------------------------------------
# Object store
# --------------------------------------------------------------------------------------------


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


@dataclass
class _Bucket:
    name: str
    time_created: datetime
    etag: str
    names: list[str] = field(default_factory=list)  # kept sorted for bisect-based listing
    objects: dict[str, ObjectRecord] = field(default_factory=dict)


class _Digester:
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


class _BlobWriter:
    """Streams a body to a fresh file while hashing it, so no body is ever held in memory."""

    def __init__(self, blob_dir: Path, part_size: int | None) -> None:
        self.path = blob_dir / uuid.uuid4().hex
        self.digest = _Digester(part_size)
        self._file: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed in close()/abort()

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self._file.write(chunk)
        self.digest.update(chunk)

    def close(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class BucketNotFoundError(KeyError):
    """Raised by the Python API when a bucket does not exist."""


# --------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------


class _HttpError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], emulator: OciEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes one connection's requests; HTTP/1.1 so the SDK's pooled connections are reused."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle's algorithm on, a small body on a
    # kept-alive connection waits for the client's delayed ACK (~40 ms), which OCI never does.
    disable_nagle_algorithm = True
    server_version = "OciObjectStorageEmulator/1.0"
    sys_version = ""
    server: _Server

    # -- connection bookkeeping --------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    # -- verbs ---------------------------------------------------------------------------------

    def do_GET(self) -> None:  # stdlib naming
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        emu = self.server.emulator
        self._method = method
        self._request_id = f"emu-{uuid.uuid4().hex}"
        self._headers_started = False
        self._record: RequestRecord | None = None
        self._cut: int | None = None
        self._body_left = self._request_body_length()
        raw_path, _, raw_query = self.path.partition("?")
        try:
            if raw_path == "/_emulator" or raw_path.startswith("/_emulator/"):
                self._control(method, raw_path)
                return
            self._handle_api(emu, method, raw_path, raw_query)
        except _HttpError as err:
            if not self._headers_started:
                self._send_error(err.status, err.code, err.message, err.headers)
            else:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception:
            log.exception("emulator failed on %s %s", method, self.path)
            if not self._headers_started:
                self._send_error(500, "InternalServerError", "emulator internal error")
            else:
                self.close_connection = True

    def _request_body_length(self) -> int:
        """Bytes of request body still unread: -1 for chunked, 0 when there is none."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return -1
        try:
            return max(0, int(self.headers.get("content-length") or 0))
        except ValueError:
            return 0

    def _signed_by_known_key(self, emu: OciEmulator) -> bool:
        """True when no key is registered, or the request's HTTP signature (draft-cavage, as
        the SDK's signer writes it) verifies with the registered key its ``keyId`` names."""
        keys = emu._api_keys
        if not keys:
            return True
        auth = self.headers.get("authorization", "")
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        key = keys.get(params.get("keyId", ""))
        if not auth.startswith("Signature ") or key is None:
            return False
        if params.get("algorithm") != "rsa-sha256":
            return False
        lines = []
        for name in params.get("headers", "date").split():
            if name == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
            elif self.headers.get(name) is None:
                return False
            else:
                lines.append(f"{name}: {self.headers[name]}")
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            signature = base64.b64decode(params.get("signature", ""), validate=True)
            key.verify(signature, "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _handle_api(self, emu: OciEmulator, method: str, raw_path: str, raw_query: str) -> None:
        op, namespace, bucket, name = _route(method, raw_path)
        query = {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        headers = {h: self.headers[h] for h in HEADERS_OF_INTEREST if self.headers.get(h)}
        self._record = RequestRecord(
            seq=emu.requests._next_seq(),
            time=time.time(),
            method=method,
            path=raw_path,
            op=op,
            bucket=bucket,
            object_name=name,
            query=query,
            headers=headers,
            request_id=self._request_id,
        )
        if op is None:
            raise _HttpError(404, "NotFound", f"No route for {method} {raw_path}")
        if not self.headers.get("authorization") or not self._signed_by_known_key(emu):
            raise _HttpError(
                401,
                "NotAuthenticated",
                "The required information to complete authentication "
                "was not provided or was incorrect.",
            )
        if emu.latency_s:
            time.sleep(emu.latency_s)
        fault = emu.faults.pick(op, name if op != "ListObjects" else query.get("prefix", ""))
        if fault is not None:
            self._record.fault = fault.to_dict()
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.status is not None:
                raise _HttpError(
                    int(fault.status),
                    fault.error_code,
                    fault.message or f"Injected fault: {fault.error_code}",
                )
            self._cut = fault.cut_after_bytes
        if op == "GetNamespace":
            self._send_json(200, emu.namespace)
            return
        if namespace != emu.namespace:
            raise _HttpError(
                404,
                "NamespaceNotFound",
                f"You do not have authorization to perform this "
                f"request, or the requested resource could not be found. Namespace "
                f"'{namespace}' not found.",
            )
        assert bucket is not None
        if not emu._has_bucket(bucket):
            raise _HttpError(
                404,
                "BucketNotFound",
                f"Either the bucket named '{bucket}' does not exist in "
                f"the namespace '{namespace}' or you are not authorized to access it",
            )
        if op in ("GetBucket", "HeadBucket"):
            self._bucket_info(emu, bucket, head=op == "HeadBucket")
        elif op == "ListObjects":
            self._list_objects(emu, bucket, query)
        elif op in ("GetObject", "HeadObject"):
            assert name is not None
            self._get_object(emu, bucket, name, head=op == "HeadObject")
        elif op == "PutObject":
            assert name is not None
            self._put_object(emu, bucket, name)
        elif op == "DeleteObject":
            assert name is not None
            self._delete_object(emu, bucket, name)

    # -- operations ------------------------------------------------------------------------------

    def _bucket_info(self, emu: OciEmulator, bucket: str, *, head: bool) -> None:
        info = emu._bucket_info(bucket)
        if head:
            self._start(200, {"ETag": info["etag"], "Content-Length": "0"})
            return
        self._send_json(200, info, {"ETag": info["etag"]})

    def _list_objects(self, emu: OciEmulator, bucket: str, query: dict[str, str]) -> None:
        limit_raw = query.get("limit", str(MAX_LIST_LIMIT))
        try:
            limit = int(limit_raw)
        except ValueError:
            raise _HttpError(400, "InvalidParameter", f"Invalid limit '{limit_raw}'") from None
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise _HttpError(
                400, "InvalidParameter", f"The limit must be between 1 and {MAX_LIST_LIMIT}"
            )
        delimiter = query.get("delimiter") or None
        if delimiter is not None and delimiter != "/":
            raise _HttpError(400, "InvalidParameter", "The only supported delimiter is '/'")
        fields = ("name",)
        if query.get("fields"):
            requested = tuple(f.strip() for f in query["fields"].split(",") if f.strip())
            unknown = [f for f in requested if f not in LIST_FIELDS]
            if unknown:
                raise _HttpError(
                    400,
                    "InvalidParameter",
                    f"Invalid fields {unknown}; allowed: {','.join(LIST_FIELDS)}",
                )
            fields = ("name",) + tuple(f for f in requested if f != "name")
        result = emu.list_objects(
            bucket,
            prefix=query.get("prefix", ""),
            start=query.get("start") or None,
            end=query.get("end") or None,
            start_after=query.get("startAfter") or None,
            limit=limit,
            delimiter=delimiter,
            fields=fields,
        )
        self._send_json(200, result)

    def _get_object(self, emu: OciEmulator, bucket: str, name: str, *, head: bool) -> None:
        record, fh = emu._open_object(bucket, name, open_body=not head)
        if record is None:
            raise _HttpError(
                404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'"
            )
        try:
            if self._not_modified(record):
                self._start(304, {"ETag": record.etag, "Last-Modified": _http_date(record)})
                return
            headers = _object_headers(record)
            status, offset, length = 200, 0, record.size
            byte_range = None if head else self.headers.get("range")
            if byte_range:
                offset, length = _parse_range(byte_range, record.size)
                status = 206
                headers.pop("Content-MD5", None)  # a ranged body cannot be checked against it
                headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{record.size}"
            headers["Content-Length"] = str(length)
            self._start(status, headers)
            if fh is not None:
                self._send_file(fh, offset, length)
        finally:
            if fh is not None:
                fh.close()

    def _not_modified(self, record: ObjectRecord) -> bool:
        """Apply if-match (412 on mismatch) and if-none-match (True: answer 304)."""
        if_match = self.headers.get("if-match")
        if if_match and if_match.strip() not in ("*", record.etag):
            raise _HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{record.etag}'",
            )
        if_none_match = self.headers.get("if-none-match")
        return bool(if_none_match) and if_none_match.strip() in ("*", record.etag)

    def _put_object(self, emu: OciEmulator, bucket: str, name: str) -> None:
        if self._body_left == 0 and self.headers.get("content-length") is None:
            raise _HttpError(411, "LengthRequired", "Content-Length is required")
        part_size = _parse_part_size(self.headers.get(MULTIPART_PART_SIZE_HEADER))
        existing = emu.get_object_record(bucket, name)
        if_match = self.headers.get("if-match")
        if if_match and (existing is None or if_match.strip() not in ("*", existing.etag)):
            raise _HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{existing.etag if existing else None}'",
            )
        if_none_match = self.headers.get("if-none-match")
        if if_none_match and existing is not None and if_none_match.strip() == "*":
            raise _HttpError(
                412,
                "IfNoneMatchFailed",
                f"The object '{name}' already exists in the bucket '{bucket}'",
            )
        metadata = {
            k[len("opc-meta-") :]: v
            for k, v in ((k.lower(), v) for k, v in self.headers.items())
            if k.startswith("opc-meta-")
        }
        writer = _BlobWriter(emu._blob_dir, part_size)
        try:
            for chunk in self._iter_request_body():
                writer.write(chunk)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        assert self._record is not None
        self._record.bytes_received = writer.digest.size
        expected_md5 = self.headers.get("content-md5")
        if expected_md5 and expected_md5.strip() != writer.digest.content_md5:
            writer.abort()
            raise _HttpError(
                400,
                "InvalidParameter",
                f"The value of the Content-MD5 header "
                f"'{expected_md5}' was not the same as the computed digest "
                f"'{writer.digest.content_md5}'",
            )
        record = emu._commit(
            bucket,
            name,
            writer,
            content_type=self.headers.get("content-type") or "application/octet-stream",
            content_encoding=self.headers.get("content-encoding") or None,
            metadata=metadata,
        )
        headers = {
            "ETag": record.etag,
            "Last-Modified": _http_date(record),
            "Content-Length": "0",
        }
        if record.is_multipart:
            headers["opc-multipart-md5"] = record.md5
        else:
            headers["opc-content-md5"] = record.md5
        self._start(200, headers)

    def _delete_object(self, emu: OciEmulator, bucket: str, name: str) -> None:
        existing = emu.get_object_record(bucket, name)
        if existing is None:
            raise _HttpError(
                404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'"
            )
        if_match = self.headers.get("if-match")
        if if_match and if_match.strip() not in ("*", existing.etag):
            raise _HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{existing.etag}'",
            )
        emu.delete_object(bucket, name)
        self._start(204, {"Last-Modified": email.utils.formatdate(usegmt=True)})

    # -- control endpoints ---------------------------------------------------------------------

    def _control(self, method: str, raw_path: str) -> None:
        emu = self.server.emulator
        route = raw_path.rstrip("/")
        try:
            if route == "/_emulator/health" and method == "GET":
                self._send_json(
                    200, {"ok": True, "namespace": emu.namespace, "endpoint": emu.endpoint}
                )
            elif route == "/_emulator/faults" and method == "GET":
                self._send_json(200, emu.faults.as_dicts())
            elif route == "/_emulator/faults" and method == "POST":
                body = self._read_json()
                if isinstance(body, dict):
                    body = [body]
                if not isinstance(body, list):
                    raise ValueError("expected a JSON list of faults")
                emu.faults.replace([Fault.from_dict(item) for item in body])
                self._send_json(200, emu.faults.as_dicts())
            elif route == "/_emulator/faults" and method == "DELETE":
                emu.faults.clear()
                self._start(204, {})
            elif route == "/_emulator/requests" and method == "GET":
                self._send_json(200, [r.to_dict() for r in emu.requests.snapshot()])
            elif route == "/_emulator/requests" and method == "DELETE":
                emu.clear_requests()
                self._start(204, {})
            elif route == "/_emulator/settings" and method == "GET":
                self._send_json(200, emu.settings())
            elif route == "/_emulator/settings" and method == "PUT":
                body = self._read_json()
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                emu.update_settings(**body)
                self._send_json(200, emu.settings())
            else:
                raise _HttpError(404, "NotFound", f"No control route {method} {raw_path}")
        except (ValueError, TypeError) as err:
            raise _HttpError(400, "InvalidParameter", str(err)) from None

    def _read_json(self) -> Any:
        data = b"".join(self._iter_request_body())
        return json.loads(data.decode("utf-8")) if data.strip() else None

    # -- request body ----------------------------------------------------------------------------

    def _iter_request_body(self) -> Iterator[bytes]:
        if self._body_left == -1:
            yield from self._iter_chunked()
            self._body_left = 0
            return
        buf = bytearray(_IO_CHUNK)
        view = memoryview(buf)
        while self._body_left > 0:
            n = self.rfile.readinto(view[: min(self._body_left, _IO_CHUNK)])
            if not n:
                self.close_connection = True
                raise ConnectionResetError("client closed the connection mid-body")
            self._body_left -= n
            yield bytes(view[:n])

    def _iter_chunked(self) -> Iterator[bytes]:
        while True:
            line = self.rfile.readline(65537)
            if not line:
                self.close_connection = True
                raise ConnectionResetError("client closed the connection mid-body")
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return
            left = size
            while left:
                data = self.rfile.read(min(left, _IO_CHUNK))
                if not data:
                    self.close_connection = True
                    raise ConnectionResetError("client closed the connection mid-body")
                left -= len(data)
                yield data
            self.rfile.readline(65537)

    def _dispose_body(self) -> None:
        """Before an early answer: drain a small unread body, or plan to close the connection."""
        if self._body_left == 0:
            return
        if 0 < self._body_left <= _DRAIN_LIMIT:
            try:
                for _ in self._iter_request_body():
                    pass
                return
            except OSError:
                pass
        self.close_connection = True

    # -- response writing ----------------------------------------------------------------------

    def _start(self, status: int, headers: dict[str, str]) -> None:
        """Send the status line and headers; logs the request at this point."""
        self._dispose_body()
        self._headers_started = True
        self.send_response(status)
        self.send_header("opc-request-id", self._request_id)
        client_id = self.headers.get("opc-client-request-id")
        if client_id:
            self.send_header("opc-client-request-id", client_id)
        for key, value in headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self._record is not None:
            self._record.status = status
            self.server.emulator.requests.append(self._record)

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        headers.update(extra or {})
        self._start(status, headers)
        if self._method != "HEAD":
            self._send_bytes(body)

    def _send_error(
        self, status: int, code: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps({"code": code, "message": message}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        headers.update(extra or {})
        self._start(status, headers)
        if self._method != "HEAD":
            self._send_bytes(body, honour_cut=False)

    def _count_sent(self, n: int) -> None:
        if self._record is not None:
            self._record.bytes_sent += n

    def _send_bytes(self, body: bytes, *, honour_cut: bool = True) -> None:
        cut_after = self._cut if honour_cut else None
        view = memoryview(body)
        if cut_after is not None and cut_after < len(view):
            view = view[:cut_after]
        self._paced(lambda off, n: view[off : off + n], len(view))
        if len(view) < len(body):
            self._cut_connection()

    def _send_file(self, fh: BinaryIO, offset: int, length: int) -> None:
        cut_after = self._cut
        count = length if cut_after is None else min(length, cut_after)
        if not self.server.emulator.rate_limit_bytes_per_sec:
            sent = 0
            while sent < count:
                # socket.sendfile loops over os.sendfile: the body never enters Python memory.
                n = self.connection.sendfile(fh, offset + sent, count - sent)
                if not n:
                    raise OSError("object body is shorter than its recorded size")
                sent += n
                self._count_sent(n)
        else:
            fd = fh.fileno()
            self._paced(lambda off, n: os.pread(fd, n, offset + off), count)
        if count < length:
            self._cut_connection()

    def _paced(self, read: Callable[[int, int], Any], count: int) -> None:
        """Send ``count`` bytes from ``read(offset, n)``, paced by the emulator's rate limit.

        The limit is re-read every chunk so a benchmark can change it mid-transfer.
        """
        emu = self.server.emulator
        sent = 0
        base_t, base_sent, base_rate = time.monotonic(), 0, None
        while sent < count:
            rate = emu.rate_limit_bytes_per_sec
            if rate and rate != base_rate:
                base_t, base_sent = time.monotonic(), sent
            base_rate = rate
            # Paced: ~20 chunks a second keeps the rate smooth without a syscall per kilobyte.
            size = max(1024, min(256 << 10, rate // 20)) if rate else _IO_CHUNK
            chunk = read(sent, min(count - sent, size))
            if not len(chunk):
                raise OSError("object body is shorter than its recorded size")
            self.wfile.write(chunk)
            sent += len(chunk)
            self._count_sent(len(chunk))
            if rate:
                delay = base_t + (sent - base_sent) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def _cut_connection(self) -> None:
        """Drop the connection after a deliberately short body, as a broken link would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _route(method: str, raw_path: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Map a raw request path to (operation, namespace, bucket, object name), all decoded."""
    if _NS_RE.match(raw_path):
        return ("GetNamespace" if method == "GET" else None), None, None, None
    m = _LIST_RE.match(raw_path)
    if m:
        ns, bucket = unquote(m.group(1)), unquote(m.group(2))
        return ("ListObjects" if method == "GET" else None), ns, bucket, None
    m = _OBJECT_RE.match(raw_path)
    if m:
        ns, bucket, name = unquote(m.group(1)), unquote(m.group(2)), unquote(m.group(3))
        op = {
            "GET": "GetObject",
            "HEAD": "HeadObject",
            "PUT": "PutObject",
            "DELETE": "DeleteObject",
        }.get(method)
        return op, ns, bucket, name
    m = _BUCKET_RE.match(raw_path)
    if m:
        ns, bucket = unquote(m.group(1)), unquote(m.group(2))
        op = {"GET": "GetBucket", "HEAD": "HeadBucket"}.get(method)
        return op, ns, bucket, None
    return None, None, None, None


def _parse_range(value: str, size: int) -> tuple[int, int]:
    """Parse one ``bytes=`` range into (offset, length); 416 when it selects nothing."""
    m = _RANGE_RE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise _HttpError(
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
        raise _HttpError(400, "InvalidParameter", f"Invalid range '{value}'")
    if start >= size:
        raise _range_not_satisfiable(value, size)
    end = min(end, size - 1)
    return start, end - start + 1


def _range_not_satisfiable(value: str, size: int) -> _HttpError:
    return _HttpError(
        416,
        "InvalidRange",
        f"The requested range '{value}' is not satisfiable for an object of {size} bytes",
        {"Content-Range": f"bytes */{size}"},
    )


def _parse_part_size(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        size = int(value)
    except ValueError:
        raise _HttpError(
            400, "InvalidParameter", f"{MULTIPART_PART_SIZE_HEADER} must be an integer"
        ) from None
    if size <= 0:
        raise _HttpError(400, "InvalidParameter", f"{MULTIPART_PART_SIZE_HEADER} must be > 0")
    return size


def _http_date(record: ObjectRecord) -> str:
    return email.utils.formatdate(record.time_modified.timestamp(), usegmt=True)


def _object_headers(record: ObjectRecord) -> dict[str, str]:
    headers = {
        "ETag": record.etag,
        "Content-Type": record.content_type,
        "Last-Modified": _http_date(record),
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


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------


class OciEmulator:
    """OCI Object Storage over HTTP on a background thread, plus a Python API to seed it.

    ``data_dir`` given: bodies and a JSON metadata index persist there across restarts.
    ``data_dir`` None: a temporary directory, deleted by ``stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | None = None,
        namespace: str = "bling",
        *,
        seed: int = 0,
        rate_limit_bytes_per_sec: int | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.namespace = namespace
        self.persistent = data_dir is not None
        self.data_dir = (
            Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="oci-emu-"))
        )
        self._blob_dir = self.data_dir / BLOB_DIR
        self._blob_dir.mkdir(parents=True, exist_ok=True)
        self.rate_limit_bytes_per_sec = rate_limit_bytes_per_sec
        self.latency_s = latency_s
        self.rng = random.Random(seed)
        self.faults = FaultSet(self.rng)
        self.requests = RequestLog()
        self._api_keys: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None
        if self.persistent:
            self._load_index()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> OciEmulator:
        """Bind and serve on a daemon thread; returns self so ``OciEmulator().start()`` reads."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"oci-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if self.persistent and self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="oci-emulator-index", daemon=True
            )
            self._flusher.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, persist or delete the data directory."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            # Idle keep-alive connections would otherwise keep handler threads parked forever.
            with self._conns_lock:
                conns = list(self._conns)
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._stopping.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        if self.persistent:
            self._write_index()
        elif self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> OciEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator is not started")
        host = self.host if self.host not in ("", "0.0.0.0") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # -- settings and log ------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return {
            "rate_limit_bytes_per_sec": self.rate_limit_bytes_per_sec,
            "latency_s": self.latency_s,
        }

    def update_settings(
        self, rate_limit_bytes_per_sec: Any = ..., latency_s: Any = ..., **unknown: Any
    ) -> None:
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        if rate_limit_bytes_per_sec is not ...:
            rate = None if rate_limit_bytes_per_sec in (None, 0) else int(rate_limit_bytes_per_sec)
            if rate is not None and rate < 0:
                raise ValueError("rate_limit_bytes_per_sec must be >= 0")
            self.rate_limit_bytes_per_sec = rate
        if latency_s is not ...:
            latency = float(latency_s or 0.0)
            if latency < 0:
                raise ValueError("latency_s must be >= 0")
            self.latency_s = latency

    def clear_requests(self) -> None:
        self.requests.clear()

    def count(self, method: str | None = None, op: str | None = None, **filters: Any) -> int:
        """Number of logged requests with this method and/or operation (see ``RequestLog``)."""
        return self.requests.count(method=method, op=op, **filters)

    # -- Python API ------------------------------------------------------------------------------

    def register_api_key(self, key_id: str, public_key_pem: str | bytes) -> None:
        """Verify signatures from now on: a request must be signed by a registered key
        (``keyId`` = ``<tenancy>/<user>/<fingerprint>``), or it gets 401 NotAuthenticated."""
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        self._api_keys = {**self._api_keys, key_id: load_pem_public_key(pem)}

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket; idempotent so a restarted demo can call it again."""
        with self._lock:
            if bucket not in self._buckets:
                self._buckets[bucket] = _Bucket(bucket, _now(), str(uuid.uuid4()))
        self._dirty.set()

    def put_object(
        self,
        bucket: str,
        name: str,
        data: bytes | bytearray | memoryview | Path,
        *,
        content_encoding: str | None = None,
        content_type: str = "application/octet-stream",
        multipart_part_size: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Store an object as PutObject would; a Path is streamed, never loaded whole."""
        if not name:
            raise ValueError("object name must not be empty")
        if multipart_part_size is not None and multipart_part_size <= 0:
            raise ValueError("multipart_part_size must be > 0")
        if not self._has_bucket(bucket):
            raise BucketNotFoundError(bucket)
        writer = _BlobWriter(self._blob_dir, multipart_part_size)
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                view = memoryview(data)
                for off in range(0, len(view), _IO_CHUNK):
                    writer.write(view[off : off + _IO_CHUNK])
            else:
                with open(data, "rb") as src:
                    while chunk := src.read(_IO_CHUNK):
                        writer.write(chunk)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        record = self._commit(
            bucket,
            name,
            writer,
            content_type=content_type,
            content_encoding=content_encoding,
            metadata={k.lower(): v for k, v in (metadata or {}).items()},
        )
        return {
            "name": record.name,
            "size": record.size,
            "etag": record.etag,
            "md5": record.md5,
            "timeCreated": rfc3339(record.time_created),
        }

    def delete_object(self, bucket: str, name: str) -> bool:
        """Delete an object; returns False when there was none."""
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

    # -- internals shared with the handler -------------------------------------------------------

    def _has_bucket(self, bucket: str) -> bool:
        with self._lock:
            return bucket in self._buckets

    def _bucket_info(self, bucket: str) -> dict[str, Any]:
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

    def _open_object(
        self, bucket: str, name: str, *, open_body: bool
    ) -> tuple[ObjectRecord | None, BinaryIO | None]:
        # Opened under the lock: an overwrite unlinks the old blob, but an open file survives.
        with self._lock:
            b = self._buckets.get(bucket)
            record = None if b is None else b.objects.get(name)
            if record is None:
                return None, None
            fh: BinaryIO | None = open(record.blob_path, "rb") if open_body else None  # noqa: SIM115
        return record, fh

    def _commit(
        self,
        bucket: str,
        name: str,
        writer: _BlobWriter,
        *,
        content_type: str,
        content_encoding: str | None,
        metadata: dict[str, str],
    ) -> ObjectRecord:
        md5, parts = writer.digest.listing_md5()
        now = _now()
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

    # -- persistence -----------------------------------------------------------------------------

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
                record = ObjectRecord.from_index(item, self._blob_dir)
                if not record.blob_path.exists():
                    log.warning("dropping %r: its body file is missing", record.name)
                    continue
                b.objects[record.name] = record
                referenced.add(record.blob_path.name)
            b.names = sorted(b.objects)
            self._buckets[bucket_name] = b
        # Bodies of puts that never committed (the process died mid-upload) are garbage.
        for blob in self._blob_dir.iterdir():
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
