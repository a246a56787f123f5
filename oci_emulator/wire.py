"""The HTTP wire: a threaded server that tracks its connections, and a request handler base that
reads request bodies (sized or chunked) and writes responses paced by the emulator's rate limit,
cut short when a fault says so.

``Handler`` (handler.py) builds on ``WireHandler`` and decides what to answer; this module only
knows how bytes go in and out.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from oci_emulator.objects import IO_CHUNK
from oci_emulator.request_log import RequestRecord
from oci_emulator.signatures import ApiKeys
from oci_emulator.storage import Store

if TYPE_CHECKING:
    from oci_emulator.server import OciEmulator

log = logging.getLogger(__name__)

# A body this small is read and discarded after an early error so the connection stays usable;
# a larger one is cheaper to abandon by closing the connection.
_DRAIN_LIMIT = 8 << 20


class EmulatorHttpServer(http.server.ThreadingHTTPServer):
    """One daemon thread per connection; what handlers need is reachable from here."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[WireHandler],
        *,
        emulator: OciEmulator,
        store: Store,
        api_keys: ApiKeys,
    ) -> None:
        self.emulator = emulator
        self.store = store
        self.api_keys = api_keys
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, handler_class)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def drop_connections(self) -> None:
        """Shut down every open connection (idle keep-alive ones would park threads forever)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class WireHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 so the SDK's pooled connections are reused; per-request state set by ``begin``."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle's algorithm on, a small body on a
    # kept-alive connection waits for the client's delayed ACK (~40 ms), which OCI never does.
    disable_nagle_algorithm = True
    server_version = "OciObjectStorageEmulator/1.0"
    sys_version = ""
    server: EmulatorHttpServer

    # -- connection bookkeeping --------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    # -- per-request state ---------------------------------------------------------------------

    def begin(self, method: str) -> None:
        """Reset the per-request state: a fresh request id, nothing sent, no record, no cut."""
        self.request_method = method
        self.request_id = f"emu-{uuid.uuid4().hex}"
        self.headers_started = False
        self.record: RequestRecord | None = None
        self.cut_after: int | None = None
        self.range_mode: str | None = None
        # Offset in the object of a byte ``send_file`` flips (a ``wrong_bytes`` fault).
        self.corrupt_at: int | None = None
        self.body_left = self._request_body_length()

    def _request_body_length(self) -> int:
        """Bytes of request body still unread: -1 for chunked, 0 when there is none."""
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return -1
        try:
            return max(0, int(self.headers.get("content-length") or 0))
        except ValueError:
            return 0

    # -- request body ----------------------------------------------------------------------------

    def iter_request_body(self) -> Iterator[bytes]:
        if self.body_left == -1:
            yield from self._iter_chunked()
            self.body_left = 0
            return
        buf = bytearray(IO_CHUNK)
        view = memoryview(buf)
        while self.body_left > 0:
            n = self.rfile.readinto(view[: min(self.body_left, IO_CHUNK)])
            if not n:
                self.close_connection = True
                raise ConnectionResetError("client closed the connection mid-body")
            self.body_left -= n
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
                data = self.rfile.read(min(left, IO_CHUNK))
                if not data:
                    self.close_connection = True
                    raise ConnectionResetError("client closed the connection mid-body")
                left -= len(data)
                yield data
            self.rfile.readline(65537)

    def read_json(self) -> Any:
        data = b"".join(self.iter_request_body())
        return json.loads(data.decode("utf-8")) if data.strip() else None

    def _dispose_body(self) -> None:
        """Before an early answer: drain a small unread body, or plan to close the connection."""
        if self.body_left == 0:
            return
        if 0 < self.body_left <= _DRAIN_LIMIT:
            try:
                for _ in self.iter_request_body():
                    pass
                return
            except OSError:
                pass
        self.close_connection = True

    # -- response writing ----------------------------------------------------------------------

    def respond(self, status: int, headers: dict[str, str]) -> None:
        """Send the status line and headers; logs the request at this point."""
        self._dispose_body()
        self.headers_started = True
        self.send_response(status)
        self.send_header("opc-request-id", self.request_id)
        client_id = self.headers.get("opc-client-request-id")
        if client_id:
            self.send_header("opc-client-request-id", client_id)
        for key, value in headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.record is not None:
            self.record.status = status
            self.server.emulator.requests.append(self.record)

    def send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        headers.update(extra or {})
        self.respond(status, headers)
        if self.request_method != "HEAD":
            self._send_bytes(body)

    def send_error_json(
        self, status: int, code: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        """OCI's error body ``{"code": ..., "message": ...}``; never cut by a fault."""
        body = json.dumps({"code": code, "message": message}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        headers.update(extra or {})
        self.respond(status, headers)
        if self.request_method != "HEAD":
            self._send_bytes(body, honour_cut=False)

    def _count_sent(self, n: int) -> None:
        if self.record is not None:
            self.record.bytes_sent += n

    def _send_bytes(self, body: bytes, *, honour_cut: bool = True) -> None:
        cut_after = self.cut_after if honour_cut else None
        view = memoryview(body)
        if cut_after is not None and cut_after < len(view):
            view = view[:cut_after]
        self._paced(lambda off, n: view[off : off + n], len(view))
        if len(view) < len(body):
            self._cut_connection()

    def send_file(self, fh: BinaryIO, offset: int, length: int) -> None:
        """Send ``length`` bytes of ``fh`` from ``offset`` (fewer when a fault cuts it; one
        byte flipped when a fault set ``corrupt_at``)."""
        cut_after = self.cut_after
        count = length if cut_after is None else min(length, cut_after)
        if not self.server.emulator.rate_limit_bytes_per_sec and self.corrupt_at is None:
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
            self._paced(
                lambda off, n: self._flip(os.pread(fd, n, offset + off), offset + off), count
            )
        if count < length:
            self._cut_connection()

    def _flip(self, chunk: bytes, at: int) -> bytes:
        """``chunk`` (object bytes from offset ``at``) with the byte at ``corrupt_at`` flipped."""
        pos = -1 if self.corrupt_at is None else self.corrupt_at - at
        if not 0 <= pos < len(chunk):
            return chunk
        return chunk[:pos] + bytes([chunk[pos] ^ 0xFF]) + chunk[pos + 1 :]

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
            size = max(1024, min(256 << 10, rate // 20)) if rate else IO_CHUNK
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
