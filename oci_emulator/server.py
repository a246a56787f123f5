"""``OciEmulator``: OCI Object Storage over HTTP on a background thread, plus a Python API.

The façade over the other modules: it owns the store (storage.py), the fault list (faults.py),
the request log (request_log.py), the registered API keys (signatures.py) and the traffic
shaping settings, and serves them through ``Handler`` (handler.py) on a
``http.server.ThreadingHTTPServer`` (HTTP/1.1 keep-alive, one daemon thread per connection).
Bodies are files under ``data_dir``, served with ``socket.sendfile`` so multi-GB objects cost
no memory; metadata is in memory under one lock.
"""

from __future__ import annotations

import random
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from oci_emulator.faults import FaultSet
from oci_emulator.handler import Handler
from oci_emulator.objects import ObjectRecord, rfc3339
from oci_emulator.protocol import MAX_LIST_LIMIT
from oci_emulator.request_log import RequestLog
from oci_emulator.signatures import ApiKeys
from oci_emulator.storage import Store
from oci_emulator.wire import EmulatorHttpServer


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
        self.rate_limit_bytes_per_sec = rate_limit_bytes_per_sec
        self.latency_s = latency_s
        self.rng = random.Random(seed)
        self.faults = FaultSet(self.rng)
        self.requests = RequestLog()
        self._api_keys = ApiKeys()
        self._store = Store(
            Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="oci-emu-")),
            namespace,
            persistent=data_dir is not None,
        )
        self._server: EmulatorHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def namespace(self) -> str:
        return self._store.namespace

    @namespace.setter
    def namespace(self, value: str) -> None:
        self._store.namespace = value

    @property
    def data_dir(self) -> Path:
        return self._store.data_dir

    @property
    def persistent(self) -> bool:
        return self._store.persistent

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> OciEmulator:
        """Bind and serve on a daemon thread; returns self so ``OciEmulator().start()`` reads."""
        if self._server is not None:
            return self
        self._server = EmulatorHttpServer(
            (self.host, self.port),
            Handler,
            emulator=self,
            store=self._store,
            api_keys=self._api_keys,
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"oci-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._store.open()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, persist or delete the data directory."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            # Idle keep-alive connections would otherwise keep handler threads parked forever.
            server.drop_connections()
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._store.close()

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
        self._api_keys.register(key_id, public_key_pem)

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket; idempotent so a restarted demo can call it again."""
        self._store.create_bucket(bucket)

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
        record = self._store.put_object(
            bucket,
            name,
            data,
            content_encoding=content_encoding,
            content_type=content_type,
            multipart_part_size=multipart_part_size,
            metadata=metadata,
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
        return self._store.delete_object(bucket, name)

    def get_object_record(self, bucket: str, name: str) -> ObjectRecord | None:
        return self._store.get_object_record(bucket, name)

    def object_names(self, bucket: str) -> list[str]:
        return self._store.object_names(bucket)

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
        return self._store.list_objects(
            bucket,
            prefix=prefix,
            start=start,
            end=end,
            start_after=start_after,
            limit=limit,
            delimiter=delimiter,
            fields=fields,
        )
