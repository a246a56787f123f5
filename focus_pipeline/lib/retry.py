"""Retries of remote calls: exponential backoff with full jitter, cancellable.

Each side owns its policy: the OCI source retries its requests and the bodies that follow them
(the SDK's own retries are off, see ``oci_source``: they would only retry the request), and the
S3 destination retries its calls (botocore's retries are off, see ``defs/resources.py``). Both
policies are built from the same two settings, ``FOCUS_MAX_RETRIES`` and
``FOCUS_RETRY_BACKOFF_SECONDS``, whose defaults and bounds are the constants below.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# Past a minute between attempts, a run is better failed and retried by Dagster's RetryPolicy.
MAX_BACKOFF_SECONDS = 60.0
# Five retries with backoff doubling from 1 s ride out about a minute of faults per request.
DEFAULT_MAX_RETRIES = 5
DEFAULT_BACKOFF_SECONDS = 1.0
# More attempts than this only delay the failure that Dagster's retries handle better.
MAX_RETRIES_LIMIT = 20


class Cancelled(Exception):
    """The run was terminated: stop promptly and clean up."""


class CancelToken:
    """A cancel flag that also trips when its parent trips.

    One token per run is set when Dagster terminates the run; one child per file is set when
    that file fails, so its other parts stop without stopping the other files.
    """

    _POLL_SECONDS = 0.2

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.is_set())

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True as soon as this token or a parent is set."""
        deadline = time.monotonic() + timeout
        while not self.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._event.wait(min(self._POLL_SECONDS, remaining))
        return True


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= MAX_RETRIES_LIMIT:
            raise ValueError(f"max_retries must be between 0 and {MAX_RETRIES_LIMIT}")
        if not 0 < self.backoff_seconds <= MAX_BACKOFF_SECONDS:
            raise ValueError(f"backoff_seconds must be > 0 and <= {MAX_BACKOFF_SECONDS:.0f}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter (AWS architecture blog): spreads retries of parallel workers apart."""
        cap = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * (2**attempt))
        return (rng or random).uniform(0, cap)


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    is_retryable: Callable[[BaseException], bool],
    *,
    cancel: CancelToken | None = None,
    what: str = "request",
) -> T:
    """Call ``fn`` until it succeeds, a non-retryable error occurs, or retries run out."""
    attempt = 0
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            return fn()
        except Exception as exc:
            if attempt >= policy.max_retries or not is_retryable(exc):
                raise
            delay = policy.delay(attempt)
            log.warning(
                "%s failed (%s); retry %d of %d in %.1fs",
                what,
                type(exc).__name__,
                attempt + 1,
                policy.max_retries,
                delay,
            )
            attempt += 1
            if cancel is not None:
                if cancel.wait(delay):
                    raise Cancelled() from exc
            else:
                time.sleep(delay)
