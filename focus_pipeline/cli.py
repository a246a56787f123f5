"""``focus-pipeline``: operating the pipeline from a terminal.

* ``check``: the connectivity check; the same checks as the Dagster job
  ``check_connectivity``. Exit 0 only when every check passes.
* ``status [--days N] [--end DAY]``: per day of the lookback window, what OCI holds, what was
  copied and when, what is pending and whether the last run failed. Reads the Dagster instance
  of ``DAGSTER_HOME``: the event log is the state.
* ``sync --start DAY [--end DAY] [--force]``: copy a date range now, one run of
  ``focus_copy_job`` per day recorded in the ``DAGSTER_HOME`` instance. Non-zero exit if any
  day failed.

Starting and stopping the pipeline are Dagster's own commands: ``dagster dev`` / ``dg dev``,
or ``dagster-webserver`` plus one ``dagster-daemon run`` as services (docs/DEPLOYMENT.md). The
README maps the old agent's commands onto these.

Everything the user reads goes through :func:`_out` / :func:`_err`; messages name variables,
never their values, and never credentials.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # dagster is imported lazily: `focus-pipeline --help` should be instant
    import dagster as dg

    from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
    from focus_pipeline.lib.connectivity import CheckResult
    from focus_pipeline.settings import FocusSettings

EXIT_OK = 0
EXIT_FAILED = 1  # a check or a day failed
EXIT_USAGE = 2  # bad arguments, settings or environment: nothing was attempted


class CliError(Exception):
    """A problem the user must fix before the command can run; printed as is."""


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day like 2024-11-28") from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days (1 or more)")
    return n


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="focus-pipeline",
        description="Operate the OCI FOCUS -> Umbrella BYOD pipeline from a terminal. Settings "
        "come from FOCUS_* variables (and .env); status and sync use the Dagster instance in "
        "DAGSTER_HOME. See docs/DEPLOYMENT.md.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "check",
        help="check settings, OCI access and S3 write access (exit 0 only if all pass)",
        description="Validate the FOCUS_* settings, authenticate to OCI and list one page of "
        "the FOCUS prefix, then start and abort a multipart upload under the S3 prefix (no "
        "object is created, read or listed). Exit 0 only when everything passes.",
    )
    status = sub.add_parser(
        "status",
        help="per day: files in OCI, copied, pending, last run",
        description="For each day of the window: what OCI holds (listed now), what was "
        "copied and when, what is pending (new or changed) and the latest run's status. "
        "Needs DAGSTER_HOME.",
    )
    status.add_argument(
        "--days",
        type=_positive,
        default=None,
        help="days to show, ending with --end (default FOCUS_LOOKBACK_DAYS)",
    )
    status.add_argument(
        "--end", type=_day, default=None, help="last day shown, YYYY-MM-DD (default today, UTC)"
    )
    sync = sub.add_parser(
        "sync",
        help="copy a date range now, one Dagster run per day",
        description="Copy the reports of each day from --start to --end (inclusive) into S3, "
        "one day after the other, each as a normal Dagster run of byod_focus_reports recorded "
        "in the DAGSTER_HOME instance. Only new or changed reports are copied unless --force. "
        "Exit 1 if any day failed.",
    )
    sync.add_argument("--start", type=_day, required=True, help="first day, YYYY-MM-DD")
    sync.add_argument(
        "--end", type=_day, default=None, help="last day, YYYY-MM-DD (default: today, UTC)"
    )
    sync.add_argument(
        "--force", action="store_true", help="copy every report again, even unchanged ones"
    )
    sync.add_argument(
        "--verbose", action="store_true", help="show Dagster's run log on stderr (INFO)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from dotenv import load_dotenv

    args = _parser().parse_args(argv)
    # As dagster dev does: .env fills what the environment lacks, so secrets given there reach
    # the resources as EnvVars too.
    load_dotenv(".env", override=False)
    handler = {"check": _check, "status": _status, "sync": _sync}[args.command]
    try:
        return handler(args)
    except CliError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("Interrupted.")
        return 130


# --- shared ----------------------------------------------------------------------------------


def _settings() -> FocusSettings:
    from focus_pipeline.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _instance() -> dg.DagsterInstance:
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise CliError(
            "DAGSTER_HOME is not set: status and sync read and write the Dagster instance "
            "(its event log is the pipeline's state). Set it to the folder holding the "
            "dagster.yaml that dagster-webserver and dagster-daemon use."
        )
    if not os.path.isdir(home):
        raise CliError("DAGSTER_HOME is not a directory: create it and copy dagster.yaml in.")
    return dg.DagsterInstance.get()


def _resolved(settings: FocusSettings) -> tuple[OciFocusReportsResource, ByodS3Resource]:
    """The definitions' own ``oci`` and ``s3`` resources, with their EnvVars resolved."""
    from focus_pipeline.defs.resources import build_resources
    from focus_pipeline.settings import SettingsError

    try:
        resources = build_resources(settings)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    # The context-manager form closes the throwaway instance Dagster builds for the init
    # context; the plain form leaves it to the garbage collector, which logs tracebacks.
    with (
        resources["oci"].process_config_and_initialize_cm() as oci,
        resources["s3"].process_config_and_initialize_cm() as s3,
    ):
        return oci, s3


def _n(value: int) -> str:
    return f"{value:,}"


def _files(count: int) -> str:
    return f"{count:,} file" + ("" if count == 1 else "s")


# --- check -----------------------------------------------------------------------------------


def check_settings() -> tuple[FocusSettings | None, list[CheckResult]]:
    """Validate every FOCUS_* variable; one failed result per bad variable.

    :class:`SettingsError` already names each variable and what it expects, one per line,
    never the value.
    """
    from focus_pipeline.lib.connectivity import CheckResult
    from focus_pipeline.settings import FocusSettings, SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()]
        return None, [CheckResult("settings", False, ln) for ln in lines or [str(exc)]]
    fields = len(FocusSettings.model_fields)
    return settings, [CheckResult("settings", True, f"{fields} FOCUS_* settings are valid")]


def _check(args: argparse.Namespace) -> int:
    from focus_pipeline.lib.connectivity import summary

    settings, results = check_settings()
    if settings is not None:
        from focus_pipeline.defs.jobs import run_checks

        oci, s3 = _resolved(settings)
        results += run_checks(oci, s3)
    for result in results:
        _out(result.line)
    _out(summary(results))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


# --- status ----------------------------------------------------------------------------------


def _status(args: argparse.Namespace) -> int:
    from focus_pipeline.defs import runs, state
    from focus_pipeline.defs.sensors import lookback_days
    from focus_pipeline.lib.status import NO_RUN, day_status, render_table

    settings = _settings()
    instance = _instance()
    oci, s3 = _resolved(settings)
    oci_layout, s3_layout = oci.layout(), s3.layout()
    end = args.end or state.today_utc()
    days = lookback_days(end, args.days or settings.lookback_days, settings.start_date)
    keys = [d.isoformat() for d in days]

    # Gather: the window's folders listed concurrently, as the sensor lists them.
    listings: dict[str, list] = {}
    oci_error = None
    try:
        folders = oci.source().list_folders([oci_layout.day_folder(d) for d in days])
        listings = {d.isoformat(): folders[oci_layout.day_folder(d)] for d in days}
    except Exception as exc:
        oci_error = oci.describe_error(exc)
    copied = state.copied_files(instance, keys, s3_layout)
    latest = runs.latest_run_records(instance, keys)
    observed = state.observed_folders(instance, keys)
    now = time.time()

    # Plan and render.
    rows = [
        day_status(
            d,
            listings.get(d.isoformat()),
            copied[d.isoformat()],
            latest[d.isoformat()].dagster_run.status.value if d.isoformat() in latest else NO_RUN,
            oci_layout,
            s3_layout,
            observed[d.isoformat()][1] if d.isoformat() in observed else None,
            now,
            settings.late_after_minutes * 60,
        )
        for d in days
    ]
    window = f"{keys[-1]} .. {keys[0]}" if keys else "(empty: before FOCUS_START_DATE)"
    dest = f"s3://{s3.bucket}/{s3_layout.prefix + '/' if s3_layout.prefix else ''}"
    _out(f"Window {window} ({len(keys)} days, UTC): OCI {oci_layout.prefix!r} -> {dest}")
    _out(f"Instance: DAGSTER_HOME={os.environ['DAGSTER_HOME']}")
    for line in render_table(rows):
        _out(line)
    _out(_daemon_line(state.daemon_heartbeats(instance)))
    if oci_error:
        _out(f"OCI could not be listed: {oci_error}")
        return EXIT_FAILED
    late = [r.day for r in rows if r.late]
    if late:
        _out(f"Late (day_up_to_date ERROR): {', '.join(late)}")
        return EXIT_FAILED
    return EXIT_OK


def _daemon_line(heartbeats: dict[str, float]) -> str:
    if not heartbeats:
        return (
            "Daemon: no heartbeat in this instance; the sensor copies nothing until "
            "`dagster-daemon run` (or `dagster dev`) runs with this DAGSTER_HOME."
        )
    age = time.time() - max(heartbeats.values())
    verdict = "running" if age < 120 else "NOT running (check `dagster-daemon liveness-check`)"
    return f"Daemon: last heartbeat {age:.0f}s ago ({len(heartbeats)} daemons): {verdict}."


# --- sync ------------------------------------------------------------------------------------


def _sync(args: argparse.Namespace) -> int:
    from focus_pipeline.defs import build_definitions, runs, state
    from focus_pipeline.defs.jobs import COPY_JOB_NAME
    from focus_pipeline.lib import variables as var

    settings = _settings()
    today = state.today_utc()
    start, end = args.start, args.end or today
    if end < start:
        raise CliError(f"--end {end} is before --start {start}.")
    if start < settings.start_date:
        raise CliError(
            f"--start {start} is before the first partition {settings.start_date}: lower "
            f"{var.START_DATE} (OCI keeps reports for a year) or start later."
        )
    if end > today:
        raise CliError(f"--end {end} is in the future (today is {today}, UTC).")
    instance = _instance()
    defs = build_definitions(settings)
    job = defs.resolve_job_def(COPY_JOB_NAME)
    # Failures are summarised on stdout; Dagster's own console log repeats them with stack
    # traces, so it stays quiet unless asked for (the run's event log keeps everything).
    log_level = "INFO" if args.verbose else "CRITICAL"
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "ops": {state.BYOD_ASSET.path[-1]: {"config": {"force": bool(args.force)}}},
    }
    s3_bucket = settings.s3_bucket
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    _out(f"Syncing {len(days)} days, {start} .. {end}, into s3://{s3_bucket}/ (one run per day)")
    failed: list[str] = []
    for day in days:
        key = day.isoformat()
        if key in runs.days_with_active_runs(instance):
            # The queue allows one run per day; running beside it could copy a file twice.
            _out(f"{key}  SKIPPED: a run for this day is queued or in progress; sync it later.")
            failed.append(key)
            continue
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=key,
            raise_on_error=False,
            tags={"focus_pipeline/launched_by": "focus-pipeline sync"},
        )
        _report_day(key, result, s3_bucket)
        if not result.success:
            failed.append(key)
    ok = len(days) - len(failed)
    _out(
        f"Synced {ok} of {len(days)} days"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + ". Runs are in the Dagster UI (tag focus_pipeline/launched_by)."
    )
    return EXIT_FAILED if failed else EXIT_OK


def _report_day(key: str, result: dg.ExecuteInProcessResult, bucket: str) -> None:
    from focus_pipeline.defs import metadata as m
    from focus_pipeline.defs import state

    run = result.run_id[:8]
    for f in state.files_copied_in(result):
        _out(f"  + s3://{bucket}/{f.s3_key}  ({_n(f.size)} bytes)")
    if result.success:
        mats = result.asset_materializations_for_node(state.BYOD_ASSET.path[-1])
        meta = m.values(mats[-1].metadata) if mats else {}
        _out(
            f"{key}  OK: copied {_files(int(meta.get(m.FILES_COPIED, 0)))} "
            f"({_n(int(meta.get(m.BYTES_COPIED, 0)))} bytes), "
            f"{meta.get(m.FILES_UNCHANGED, 0)} unchanged, {meta.get(m.FILES_SKIPPED, 0)} "
            f"skipped, {meta.get(m.FILES_TOTAL, 0)} in S3 for the day; "
            f"{meta.get(m.SECONDS, 0)}s, run {run}"
        )
        return
    lines = []
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            lines.append(data.user_failure_data.description)
        elif data.error is not None:
            lines.append(data.error.message.strip())
    detail = "\n      ".join("\n".join(lines).splitlines()[:12]) or "see the run in the UI"
    _out(f"{key}  FAILED (run {run}):\n      {detail}")
