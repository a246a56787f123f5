"""``focus-pipeline status``: what each day of a window looks like, decided and rendered here.

The command gathers (OCI listings, recorded copies, latest runs); this module plans each day
with the same diff the sensor and the asset use, and renders the table. Pure, so every state a
person can read is unit-tested without servers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from focus_pipeline.lib.healing import ACTIVE_STATUSES
from focus_pipeline.lib.health import ERROR, up_to_date
from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.plan import CopiedFile, DayPlan, OciObject, plan_day

FAILED_RUN_STATUS = "FAILURE"
NO_RUN = "-"
HEADER = (
    f"{'DAY':<10}  {'OCI FILES':>9}  {'OCI BYTES':>15}  {'COPIED':>6}  {'COPIED BYTES':>15}  "
    f"{'LAST COPY (UTC)':<19}  {'PENDING':>7}  {'LAST RUN':<10}  {'UP TO DATE':<10}  STATE"
)


@dataclass(frozen=True)
class DayStatus:
    """One row: what OCI holds (None when it was not listed), what was copied, the verdict."""

    day: str
    oci_files: int | None
    oci_bytes: int | None
    copied_files: int
    copied_bytes: int
    last_copy: float | None
    pending: int | None
    run_status: str
    state: str
    # The day_up_to_date verdict: PASS, WARN (differs, not late yet), ERROR (late), "?" unknown.
    up_to_date: str = "?"

    @property
    def failed(self) -> bool:
        return self.run_status == FAILED_RUN_STATUS

    @property
    def late(self) -> bool:
        return self.up_to_date == ERROR


def day_status(
    day: dt.date,
    listing: Sequence[OciObject] | None,
    copied: Mapping[str, CopiedFile],
    run_status: str,
    oci: OciLayout,
    s3: S3Layout,
    differs_since: float | None = None,
    now: float = 0.0,
    late_after_seconds: float = float("inf"),
) -> DayStatus:
    """One day's row; ``differs_since`` (when OCI's folder last changed) dates a difference for
    the up-to-date verdict."""
    files = list(copied.values())
    row = {
        "day": day.isoformat(),
        "copied_files": len(files),
        "copied_bytes": sum(f.size for f in files),
        "last_copy": max((f.copied_at for f in files if f.copied_at), default=None),
        "run_status": run_status,
    }
    if listing is None:
        return DayStatus(
            **row,  # type: ignore[arg-type]
            oci_files=None,
            oci_bytes=None,
            pending=None,
            state="OCI not listed (see below)",
        )
    plan = plan_day(day, listing, copied, oci, s3)
    verdict = up_to_date(row["day"], len(plan.to_copy), differs_since, now, late_after_seconds)
    return DayStatus(
        **row,  # type: ignore[arg-type]
        oci_files=len(listing),
        oci_bytes=sum(o.size for o in listing),
        pending=len(plan.to_copy),
        state=day_state(len(listing), plan, run_status),
        up_to_date=verdict.verdict,
    )


def day_state(oci_files: int, plan: DayPlan, run_status: str) -> str:
    """One word or phrase a person can act on; pending work beats the last run's outcome."""
    extra = f", {len(plan.skipped)} skipped (not FOCUS names)" if plan.skipped else ""
    if run_status in ACTIVE_STATUSES:
        return f"copying (run {run_status.lower()}){extra}"
    if plan.to_copy:
        reasons: dict[str, int] = {}
        for p in plan.to_copy:
            reasons[p.reason] = reasons.get(p.reason, 0) + 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        word = "failed" if run_status == FAILED_RUN_STATUS else "pending"
        return f"{word}: {detail}{extra}"
    if run_status == FAILED_RUN_STATUS:
        return f"up to date (last run failed){extra}"
    if oci_files == 0:
        return "no reports in OCI"
    return f"up to date{extra}"


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def render_table(rows: Sequence[DayStatus]) -> list[str]:
    """The header, one line per day and a total line."""
    lines = [HEADER]
    for r in rows:
        lines.append(
            f"{r.day:<10}  {_n(r.oci_files):>9}  {_n(r.oci_bytes):>15}  "
            f"{_n(r.copied_files):>6}  {_n(r.copied_bytes):>15}  {_when(r.last_copy):<19}  "
            f"{_n(r.pending):>7}  {r.run_status:<10}  {r.up_to_date:<10}  {r.state}"
        )
    # Totals count what was listed; a day OCI did not answer for adds nothing.
    lines.append(
        f"{'TOTAL':<10}  {_n(sum(r.oci_files or 0 for r in rows)):>9}  "
        f"{_n(sum(r.oci_bytes or 0 for r in rows)):>15}  "
        f"{_n(sum(r.copied_files for r in rows)):>6}  "
        f"{_n(sum(r.copied_bytes for r in rows)):>15}  {'':<19}  "
        f"{_n(sum(r.pending or 0 for r in rows)):>7}  "
        f"{sum(r.failed for r in rows)} failed, {sum(r.late for r in rows)} late"
    )
    return lines
