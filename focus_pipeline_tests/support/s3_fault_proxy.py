"""A fault-injecting HTTP proxy in front of moto, for the S3 side of the reliability tests.

Why a proxy rather than botocore hooks: the faults that matter for "nothing lost, nothing
corrupt" happen on the wire. A request body cut half-way, or a response lost after S3 already
acted on the request, reach botocore as the same connection errors real networks produce, and
only a server-side view can tell whether a write landed although the client never heard so.

Faults (``S3Fault``) mirror the OCI emulator's: matched by operation and key, applied ``times``
times or with a ``probability`` drawn from a seeded generator. Kinds:

* ``error``: answer ``status``/``code`` without forwarding (S3's 500 InternalError, 503
  SlowDown); nothing happened upstream.
* ``cut_request``: read half the request body, then drop the connection; nothing upstream.
* ``lost_response``: forward, let S3 act, then drop the connection instead of answering.

Every request is logged (``ProxyRecord``) with what upstream answered and whether the client
got the answer, so a test can tell a write the pipeline knows about from one it never saw.
Path-style requests only (botocore uses them for IP endpoints); bodies need Content-Length.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import random
import re
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from oci_emulator import FaultSet

FAULT_KINDS = ("error", "cut_request", "lost_response")
WRITE_OPS = ("PutObject", "CompleteMultipartUpload")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "content-length",
}


@dataclass
class S3Fault:
    op: str = "*"
    kind: str = "error"
    status: int = 500
    code: str = "InternalError"
    key_pattern: str | None = None
    part_number: int | None = None  # UploadPart only: this part and no other
    times: int | None = None
    probability: float = 1.0
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        self._regex = re.compile(self.key_pattern) if self.key_pattern else None

    def matches(self, op: str, key: str, part_number: int | None = None) -> bool:
        if self.op not in ("*", op):
            return False
        if self.part_number is not None and part_number != self.part_number:
            return False
        return self._regex is None or self._regex.search(key) is not None


@dataclass
class ProxyRecord:
    op: str
    key: str
    fault: str | None
    upstream_status: int | None  # None: not forwarded
    delivered: bool  # the client received an answer
    part_number: int | None = None


def operation(method: str, key: str, query: dict[str, list[str]], copy: bool) -> str:
    """The S3 operation of a path-style request."""
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        if key:
            return "CopyObject" if copy else "PutObject"
        return "CreateBucket"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in query else "Post"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObject" if key else "DeleteBucket"
    if method == "GET":
        if "uploadId" in query:
            return "ListParts"
        if "uploads" in query:
            return "ListMultipartUploads"
        return "GetObject" if key else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if key else "HeadBucket"
    return method


class S3FaultProxy:
    """Forwards to ``upstream`` (moto), injecting the configured faults; thread-safe."""

    def __init__(self, upstream: str, seed: int = 0) -> None:
        parsed = urlparse(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self._lock = threading.Lock()
        self._faults = FaultSet(random.Random(seed))
        self.records: list[ProxyRecord] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._local = threading.local()

    # -- configuration and results -----------------------------------------------------------

    def add(self, fault: S3Fault) -> None:
        self._faults.add(fault)

    def clear(self) -> None:
        self._faults.clear()
        with self._lock:
            self.records = []

    def pick(self, op: str, key: str, part_number: int | None = None) -> S3Fault | None:
        fault: S3Fault | None = self._faults.pick(op, key, part_number)
        return fault

    def record(self, rec: ProxyRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def snapshot(self) -> list[ProxyRecord]:
        with self._lock:
            return list(self.records)

    def requests_by_op(self) -> Counter[str]:
        return Counter(r.op for r in self.snapshot())

    def faults_by_kind(self) -> Counter[str]:
        return Counter(f"{r.op}:{r.fault}" for r in self.snapshot() if r.fault)

    def writes_by_key(self) -> dict[str, list[ProxyRecord]]:
        """Upstream writes that created an object (PutObject, CompleteMultipartUpload)."""
        out: dict[str, list[ProxyRecord]] = {}
        for r in self.snapshot():
            if r.op in WRITE_OPS and r.upstream_status is not None and r.upstream_status < 300:
                out.setdefault(r.key, []).append(r)
        return out

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> S3FaultProxy:
        proxy = self

        class Handler(_Handler):
            pass

        Handler.proxy = proxy
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- forwarding --------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
            self._local.conn = conn
        return conn

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                if body or method in ("PUT", "POST"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.getheaders(), data
            except (OSError, http.client.HTTPException):
                # A keep-alive connection moto closed while idle: reconnect once.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: S3FaultProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _handle(self) -> None:
        raw_path, _, raw_query = self.path.partition("?")
        parts = raw_path.split("/", 2)
        key = unquote(parts[2]) if len(parts) > 2 else ""
        query = parse_qs(raw_query, keep_blank_values=True)
        op = operation(self.command, key, query, "x-amz-copy-source" in self.headers)
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            self.send_error(501, "chunked request bodies are not supported by the test proxy")
            return
        length = int(self.headers.get("content-length") or 0)
        part = int(query["partNumber"][0]) if "partNumber" in query else None
        fault = self.proxy.pick(op, key, part)
        kind = fault.kind if fault else None
        if fault is not None and fault.kind == "cut_request":
            if length:
                self.rfile.read(length // 2)
            self.proxy.record(ProxyRecord(op, key, kind, None, False, part))
            self._drop()
            return
        body = self.rfile.read(length) if length else b""
        if fault is not None and fault.kind == "error":
            self.proxy.record(ProxyRecord(op, key, kind, None, True, part))
            payload = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f"<Error><Code>{fault.code}</Code><Message>Injected by the test proxy</Message>"
                "<RequestId>fault-proxy</RequestId></Error>"
            ).encode()
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        try:
            status, resp_headers, data = self.proxy.forward(self.command, self.path, headers, body)
        except (OSError, http.client.HTTPException):
            self.proxy.record(ProxyRecord(op, key, "upstream_failed", None, False, part))
            self._drop()
            return
        if fault is not None and fault.kind == "lost_response":
            self.proxy.record(ProxyRecord(op, key, kind, status, False, part))
            self._drop()
            return
        # Recorded before the answer goes out, so a client that got it always finds it logged.
        self.proxy.record(ProxyRecord(op, key, None, status, True, part))
        self.send_response(status)
        for name, value in resp_headers:
            # send_response already wrote Server and Date.
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
