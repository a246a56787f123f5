"""The copy runs of each day, as the sensor, the asset and `status` need to see them.

Run storage is Dagster's; this module asks it the few questions the pipeline has: the newest
run of each day, which runs stopped recording progress (their processes died), and whether
another run is already writing a day.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import dagster as dg

from focus_pipeline.defs.checks import HEALTH_JOB_NAME
from focus_pipeline.defs.state import BYOD_ASSET, PARTITION_TAG
from focus_pipeline.lib.healing import ACTIVE_STATUSES, LastRun

ATTEMPT_TAG = "focus_pipeline/attempt"
DIGEST_TAG = "focus_pipeline/folder_digest"
DEAD_RUN_TAG = "focus_pipeline/dead_run"
# Dagster's documented run tag that bounds its run retries for one run.
DAGSTER_MAX_RETRIES_TAG = "dagster/max_retries"
# Statuses in which a run's processes are (or were, if they died) copying.
WORKING = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Runs read per query: newest first, so only long-superseded runs fall outside it.
RUNS_LIMIT = 1000


def targets_copy(run: dg.DagsterRun) -> bool:
    # `dg.materialize` records an empty selection (all assets of its ad-hoc job), and the only
    # partitioned asset that can run here is the copy; a checks-only run copies nothing.
    if run.job_name == HEALTH_JOB_NAME or (not run.asset_selection and run.asset_check_selection):
        return False
    return not run.asset_selection or BYOD_ASSET in run.asset_selection


def latest_run_records(
    instance: dg.DagsterInstance, days: Sequence[str]
) -> dict[str, dg.RunRecord]:
    """The newest copy run of each day, in one run-storage query."""
    latest: dict[str, dg.RunRecord] = {}
    wanted = set(days)
    if not wanted:
        return latest
    records = instance.get_run_records(
        dg.RunsFilter(tags={PARTITION_TAG: sorted(wanted)}), limit=RUNS_LIMIT
    )
    for record in records:
        run = record.dagster_run
        day = run.tags.get(PARTITION_TAG)
        if day in wanted and day not in latest and targets_copy(run):
            latest[day] = record
    return latest


def last_run(record: dg.RunRecord | None) -> LastRun | None:
    if record is None:
        return None
    run = record.dagster_run
    return LastRun(
        status=run.status.value,
        # Runs that ended normally have an end time; the update time is whole seconds.
        end_time=record.end_time
        or max(record.update_timestamp.timestamp(), record.create_timestamp.timestamp()),
        attempt=int(run.tags.get(ATTEMPT_TAG, "0") or 0),
        folder_digest=run.tags.get(DIGEST_TAG),
        dead=run.tags.get(DEAD_RUN_TAG) == "true",
    )


def days_with_active_runs(instance: dg.DagsterInstance) -> set[str]:
    """Days with a copy run queued or in progress."""
    runs = instance.get_runs(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus(s) for s in sorted(ACTIVE_STATUSES)])
    )
    return {
        run.tags[PARTITION_TAG] for run in runs if targets_copy(run) and PARTITION_TAG in run.tags
    }


def last_activity(instance: dg.DagsterInstance, record: dg.RunRecord) -> float:
    """Epoch seconds of the run's newest event (its start when it has none)."""
    events = instance.get_records_for_run(record.dagster_run.run_id, limit=1, ascending=False)
    if events.records:
        return events.records[0].event_log_entry.timestamp
    return record.start_time or record.create_timestamp.timestamp()


def stalled_runs(
    instance: dg.DagsterInstance, stalled_seconds: float, now: float | None = None
) -> list[tuple[dg.DagsterRun, float]]:
    """Copy runs in progress that recorded nothing for ``stalled_seconds``, with their idle
    time. A live copy logs progress at least every ``PROGRESS_SECONDS``; silence this long
    means its processes are gone (a reboot, a SIGKILL), which the default run launcher cannot
    see."""
    if stalled_seconds <= 0:
        return []
    now = time.time() if now is None else now
    stalled = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=WORKING)):
        if not targets_copy(record.dagster_run):
            continue
        idle = now - last_activity(instance, record)
        if idle >= stalled_seconds:
            stalled.append((record.dagster_run, idle))
    return stalled


def mark_dead(instance: dg.DagsterInstance, run: dg.DagsterRun, idle: float) -> str:
    """Fail a dead run with a message that says why; the sensor then requests its day."""
    message = (
        f"No progress recorded for {idle:.0f}s: the run's processes are gone (host restart, "
        "container stop or SIGKILL). Marked failed so that its day is copied again; uploads it "
        "left open are aborted by the day's next run."
    )
    # The sensor requests the day itself (a new attempt, after the dead run's uploads are
    # aborted); Dagster's run retries would launch a second run for it at the same time.
    instance.add_run_tags(run.run_id, {DEAD_RUN_TAG: "true", DAGSTER_MAX_RETRIES_TAG: "0"})
    instance.report_run_failed(run, message=message)
    return message


def earlier_writer(instance: dg.DagsterInstance, day: str, run_id: str) -> dg.DagsterRun | None:
    """Another run copying ``day`` that started before ``run_id`` (ties: the smaller run id),
    or None. Of two runs that start together, exactly one sees the other as earlier."""
    records = instance.get_run_records(
        dg.RunsFilter(tags={PARTITION_TAG: day}, statuses=WORKING), limit=RUNS_LIMIT
    )
    mine = [r for r in records if r.dagster_run.run_id == run_id]
    others = [r for r in records if r.dagster_run.run_id != run_id and targets_copy(r.dagster_run)]
    if not others:
        return None
    if not mine:  # not yet visible as working: anyone working is earlier
        return others[0].dagster_run
    me = (mine[0].create_timestamp, run_id)
    earlier = [r for r in others if (r.create_timestamp, r.dagster_run.run_id) < me]
    return earlier[0].dagster_run if earlier else None
