"""Is a day up to date? The "yesterday is not complete" verdict, pure and unit-tested.

A day is up to date when what was copied matches OCI's folder. A difference is normal for a
while (OCI adds files every few hours; a run takes minutes), so it is a warning until it is
older than the late limit, then an error. The sensor evaluates this on every tick for the days
it lists, and remembers since when each day has differed; ``focus-pipeline status`` asks the
same question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PASS, WARN, ERROR = "PASS", "WARN", "ERROR"


@dataclass(frozen=True)
class UpToDate:
    """One day's verdict: PASS, WARN (differs, not late yet) or ERROR (late)."""

    day: str
    verdict: str
    pending: int
    differs_since: float | None

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    def describe(self, now: float) -> str:
        if self.passed:
            return "Every report in OCI's folder is copied in its current version."
        age = now - (self.differs_since or now)
        late = "late" if self.verdict == ERROR else "not late yet"
        return (
            f"{self.pending} report(s) in OCI's folder not copied in their current version, "
            f"for {age / 60:.0f} min ({late})."
        )


def up_to_date(
    day: str, pending: int, differs_since: float | None, now: float, late_after_seconds: float
) -> UpToDate:
    """The verdict for a day with ``pending`` reports to copy, differing since ``differs_since``
    (None: first seen now)."""
    if pending == 0:
        return UpToDate(day, PASS, 0, None)
    since = now if differs_since is None else differs_since
    verdict = ERROR if now - since >= late_after_seconds else WARN
    return UpToDate(day, verdict, pending, since)


@dataclass
class HealthState:
    """What the sensor remembers between ticks (in its cursor): since when each day differs
    from OCI, and each day's last reported verdict, so a verdict is reported when it changes
    and a day turning late is told once."""

    differs_since: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"differs_since": dict(self.differs_since), "verdicts": dict(self.verdicts)}

    @classmethod
    def from_json(cls, text: str | None) -> HealthState:
        """The cursor's health; an unreadable or older cursor starts afresh."""
        try:
            data = json.loads(text or "{}")
            return cls(
                {str(k): float(v) for k, v in (data.get("differs_since") or {}).items()},
                {str(k): str(v) for k, v in (data.get("verdicts") or {}).items()},
            )
        except (ValueError, AttributeError, TypeError):
            return cls()
