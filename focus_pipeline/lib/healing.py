"""When the sensor asks for a day again: the self-healing decisions, pure and unit-tested.

A day is requested when it has work (new or changed files in OCI, or files not yet in this
destination) and no run of it is queued or in progress. After a failed or cancelled run the
sensor waits before asking again, doubling the wait after each further failure up to a day; a
run found dead (its processes gone) is followed at once. Every request carries an attempt
number, so its run key is new: Dagster never runs a key twice, failed runs included.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from focus_pipeline.lib.transfer import PROGRESS_SECONDS

# The longest wait between two attempts at a day: a day is never left alone for longer.
MAX_RETRY_WAIT_SECONDS = 86_400.0
ACTIVE_STATUSES = frozenset({"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"})
FAILED_STATUSES = frozenset({"FAILURE", "CANCELED"})


@dataclass(frozen=True)
class LastRun:
    """What the sensor needs of a day's newest copy run."""

    status: str
    end_time: float | None
    attempt: int
    folder_digest: str | None
    dead: bool = False


@dataclass(frozen=True)
class Decision:
    request: bool
    attempt: int
    reason: str


def progress_interval(stalled_run_seconds: float) -> float:
    """How often a copy reports progress: several times within the stall limit, so a live run
    is never taken for dead, and at most every ``PROGRESS_SECONDS``."""
    if stalled_run_seconds <= 0:
        return PROGRESS_SECONDS
    return min(PROGRESS_SECONDS, max(0.5, stalled_run_seconds / 4))


def retry_wait(attempt: int, base_seconds: float) -> float:
    """Seconds to wait after attempt ``attempt`` (0 = the first run) failed."""
    return min(base_seconds * 2**attempt, MAX_RETRY_WAIT_SECONDS)


def decide(
    needs_copy: bool, last: LastRun | None, digest: str, retry_seconds: float, now: float
) -> Decision:
    """Whether to request a run for a day now, and with which attempt number."""
    if not needs_copy:
        return Decision(False, 0, "up to date")
    if last is None:
        return Decision(True, 0, "new work")
    if last.status in ACTIVE_STATUSES:
        return Decision(False, last.attempt, f"a run is already {last.status.lower()}")
    if last.folder_digest != digest:
        return Decision(True, 0, "the OCI folder changed")
    if last.status not in FAILED_STATUSES:
        # Succeeded with the same folder and still has work (a changed destination).
        return Decision(True, last.attempt + 1, "work left after the last run")
    if last.dead:
        return Decision(True, last.attempt + 1, "the last run died")
    if retry_seconds <= 0:
        return Decision(False, last.attempt, "the last run failed; retries are off")
    due = (last.end_time or now) + retry_wait(last.attempt, retry_seconds)
    if now < due:
        return Decision(False, last.attempt, f"the last run failed; retry in {due - now:.0f}s")
    return Decision(True, last.attempt + 1, f"retry {last.attempt + 1} after a failed run")


@dataclass(frozen=True)
class FullScan:
    """Where the sensor's comparison of every day since the start date stands (its cursor).

    ``next_day`` is the next day to compare while a scan is under way; ``finished_at`` is when
    the last scan ended. A scan spreads over as many ticks as its listing needs.
    """

    next_day: dt.date | None = None
    finished_at: float | None = None

    def due(self, now: float, every_seconds: float) -> bool:
        if every_seconds <= 0 or self.next_day is not None:
            return False
        return self.finished_at is None or now - self.finished_at >= every_seconds

    def to_dict(self) -> dict[str, object]:
        return {
            "scan_next_day": self.next_day.isoformat() if self.next_day else None,
            "scan_finished_at": self.finished_at,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | None) -> FullScan:
        """The cursor's scan; an unreadable or older cursor starts afresh."""
        try:
            data = json.loads(text or "{}")
            next_day = data.get("scan_next_day")
            return cls(
                next_day=dt.date.fromisoformat(next_day) if next_day else None,
                finished_at=data.get("scan_finished_at"),
            )
        except (ValueError, AttributeError, TypeError):
            return cls()
