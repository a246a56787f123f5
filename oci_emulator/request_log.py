"""The request log: every handled API request (control endpoints excluded), for assertions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from oci_emulator.protocol import MULTIPART_PART_SIZE_HEADER

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

    def next_seq(self) -> int:
        """The sequence number of the next request (1, 2, ...), handed out once."""
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
