"""Injected misbehaviour: ``Fault`` says what goes wrong, ``FaultSet`` picks which one applies.

Faults are checked in list order; the first one that matches the operation and object name and
fires (``times`` left, ``probability`` roll) applies; the others are left untouched.
``latency_s`` sleeps, then ``status`` answers with an error, else ``cut_after_bytes`` closes the
connection after that many body bytes although the full ``Content-Length`` was announced, and
``range_mode`` (GetObject) answers with other bytes than those asked for.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from oci_emulator.protocol import DEFAULT_ERROR_CODES
from oci_emulator.routing import OPERATIONS

# "ignore": a ranged GET is answered 200 with the whole body, as a server or proxy that does
# not support Range. "wrong_bytes": the answer's status and headers are right, one byte in
# the middle of its body is not (XOR 0xFF), as a corrupting hop would send it; any GET.
RANGE_MODES = ("ignore", "wrong_bytes")


@dataclass
class Fault:
    """One injected misbehaviour, so retry and resume paths can be tested deterministically.

    ``op`` is an operation name from ``OPERATIONS`` or ``"*"``. ``name_pattern`` is a regex
    searched in the object name (for ListObjects, in the ``prefix`` query value); when set,
    requests without a name never match. ``status`` answers with an error (``code`` defaults to
    the usual OCI code for that status). ``cut_after_bytes`` sends headers with the full
    ``Content-Length`` and closes the connection after that many body bytes. ``latency_s``
    sleeps before answering. ``range_mode`` (one of ``RANGE_MODES``) misanswers a GetObject.
    ``times`` limits how many requests it applies to (None: forever);
    ``probability`` makes it fire randomly, drawn from the emulator's seeded generator.
    """

    op: str = "*"
    name_pattern: str | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    cut_after_bytes: int | None = None
    range_mode: str | None = None
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
        if self.range_mode is not None and self.range_mode not in RANGE_MODES:
            raise ValueError(f"unknown range_mode {self.range_mode!r}; expected {RANGE_MODES}")
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
            "range_mode": self.range_mode,
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
            "range_mode",
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
