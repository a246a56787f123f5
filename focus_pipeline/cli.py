"""``focus-pipeline``: the old agent's terminal commands, the Dagster way.

* ``check``: the connectivity check (old ``test``); the same checks as the Dagster job
  ``check_connectivity``. Exit 0 only when every check passes.
* ``status [--days N] [--end DAY]``: per day of the lookback window, what OCI holds, what was
  copied and when, what is pending and whether the last run failed (old ``status``). Reads the
  Dagster instance of ``DAGSTER_HOME``: the event log is the state.
* ``sync --start DAY [--end DAY] [--force]``: copy a date range now, one normal Dagster run
  per day recorded in the ``DAGSTER_HOME`` instance (old ``sync``). Non-zero exit if any day
  failed.

Starting and stopping the pipeline (old ``start``/``stop``/``run``) are Dagster's own
commands: ``dagster dev``, or ``dagster-webserver`` plus one ``dagster-daemon run`` as
services (docs/DEPLOYMENT.md).

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


def _resolved(settings: FocusSettings) -> tuple[object, object]:
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


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# --- check -----------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    from focus_pipeline.lib.connectivity import check_settings, summary

    settings, results = check_settings()
    if settings is not None:
        from focus_pipeline.defs.jobs import run_checks

        oci, s3 = _resolved(settings)
        results += run_checks(oci, s3)  # type: ignore[arg-type]
    for result in results:
        _out(result.line)
    _out(summary(results))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


# --- status ----------------------------------------------------------------------------------

_ACTIVE = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"}
_STATUS_HEADER = (
    f"{'DAY':<10}  {'OCI FILES':>9}  {'OCI BYTES':>15}  {'COPIED':>6}  {'COPIED BYTES':>15}  "
    f"{'LAST COPY (UTC)':<19}  {'PENDING':>7}  {'LAST RUN':<10}  STATE"
)


def _status(args: argparse.Namespace) -> int:
    from focus_pipeline.defs import state
    from focus_pipeline.defs.resources import naming_for
    from focus_pipeline.defs.sensors import lookback_days
    from focus_pipeline.lib.errors import describe_oci_error
    from focus_pipeline.lib.plan import plan_day

    settings = _settings()
    instance = _instance()
    oci, s3 = _resolved(settings)
    naming = naming_for(oci, s3)  # type: ignore[arg-type]
    end = args.end or state.today_utc()
    days = lookback_days(end, args.days or settings.lookback_days, settings.start_date)
    keys = [d.isoformat() for d in days]

    source = oci.source()  # type: ignore[attr-defined]
    listings = {}
    oci_error = None
    try:
        for day in days:
            listings[day.isoformat()] = source.list(naming.day_folder(day))
    except Exception as exc:
        oci_error = describe_oci_error(exc, oci.namespace, oci.bucket)  # type: ignore[attr-defined]
    copied = state.copied_files(instance, keys)
    runs = state.latest_runs_by_day(instance, keys)

    dest = f"s3://{s3.bucket}/{naming.s3_prefix + '/' if naming.s3_prefix else ''}"  # type: ignore[attr-defined]
    window = f"{keys[-1]} .. {keys[0]}" if keys else "(empty: before FOCUS_START_DATE)"
    _out(f"Window {window} ({len(keys)} days, UTC): OCI {naming.oci_prefix!r} -> {dest}")
    _out(f"Instance: DAGSTER_HOME={os.environ['DAGSTER_HOME']}")
    _out(_STATUS_HEADER)
    totals = {"oci": 0, "oci_bytes": 0, "copied": 0, "copied_bytes": 0, "pending": 0}
    failed_days = 0
    for day in days:
        key = day.isoformat()
        files = list(copied[key].values())
        copied_bytes = sum(f.size for f in files)
        last_copy = max((f.copied_at for f in files if f.copied_at), default=None)
        run = runs.get(key)
        run_status = run.status.value if run else "-"
        if key in listings:
            listing = listings[key]
            plan = plan_day(day, listing, copied[key], naming)
            oci_files, oci_bytes = _n(len(listing)), _n(sum(o.size for o in listing))
            pending = str(len(plan.to_copy))
            state_text = _day_state(len(listing), plan, run_status)
            totals["oci"] += len(listing)
            totals["oci_bytes"] += sum(o.size for o in listing)
            totals["pending"] += len(plan.to_copy)
        else:
            oci_files = oci_bytes = pending = "?"
            state_text = "OCI not listed (see below)"
        if run_status == "FAILURE":
            failed_days += 1
        totals["copied"] += len(files)
        totals["copied_bytes"] += copied_bytes
        _out(
            f"{key:<10}  {oci_files:>9}  {oci_bytes:>15}  {_n(len(files)):>6}  "
            f"{_n(copied_bytes):>15}  {_when(last_copy):<19}  {pending:>7}  {run_status:<10}  "
            f"{state_text}"
        )
    _out(
        f"{'TOTAL':<10}  {_n(totals['oci']):>9}  {_n(totals['oci_bytes']):>15}  "
        f"{_n(totals['copied']):>6}  {_n(totals['copied_bytes']):>15}  {'':<19}  "
        f"{_n(totals['pending']):>7}  {failed_days} failed"
    )
    _out(_daemon_line(state.daemon_heartbeats(instance)))
    if oci_error:
        _out(f"OCI could not be listed: {oci_error}")
        return EXIT_FAILED
    return EXIT_OK


def _day_state(oci_files: int, plan: object, run_status: str) -> str:
    """One word or phrase a person can act on; pending work beats the last run's outcome."""
    to_copy = plan.to_copy  # type: ignore[attr-defined]
    skipped = plan.skipped  # type: ignore[attr-defined]
    extra = f", {len(skipped)} skipped (not FOCUS names)" if skipped else ""
    if run_status in _ACTIVE:
        return f"copying (run {run_status.lower()}){extra}"
    if to_copy:
        reasons: dict[str, int] = {}
        for p in to_copy:
            reasons[p.reason] = reasons.get(p.reason, 0) + 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        word = "failed" if run_status == "FAILURE" else "pending"
        return f"{word}: {detail}{extra}"
    if run_status == "FAILURE":
        return f"up to date (last run failed){extra}"
    if oci_files == 0:
        return "no reports in OCI"
    return f"up to date{extra}"


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
    from focus_pipeline.defs import build_definitions, state

    settings = _settings()
    today = state.today_utc()
    start, end = args.start, args.end or today
    if end < start:
        raise CliError(f"--end {end} is before --start {start}.")
    if start < settings.start_date:
        raise CliError(
            f"--start {start} is before the first partition {settings.start_date}: lower "
            "FOCUS_START_DATE (OCI keeps reports for a year) or start later."
        )
    if end > today:
        raise CliError(f"--end {end} is in the future (today is {today}, UTC).")
    instance = _instance()
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def()
    # Failures are summarised on stdout; Dagster's own console log repeats them with stack
    # traces, so it stays quiet unless asked for (the run's event log keeps everything).
    log_level = "INFO" if args.verbose else "CRITICAL"
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "ops": {"byod_focus_reports": {"config": {"force": bool(args.force)}}},
    }
    s3_bucket = settings.s3_bucket
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    _out(f"Syncing {len(days)} days, {start} .. {end}, into s3://{s3_bucket}/ (one run per day)")
    failed: list[str] = []
    for day in days:
        key = day.isoformat()
        if key in state.days_with_active_runs(instance):
            # The queue allows one run per day; running beside it could copy a file twice.
            _out(f"{key}  SKIPPED: a run for this day is queued or in progress; sync it later.")
            failed.append(key)
            continue
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=key,
            asset_selection=[state.BYOD_ASSET],
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
    from focus_pipeline.defs import state

    run = result.run_id[:8]
    for f in state.files_copied_in(result):
        _out(f"  + s3://{bucket}/{f.s3_key}  ({_n(f.size)} bytes)")
    if result.success:
        mats = result.asset_materializations_for_node("byod_focus_reports")
        meta = {k: getattr(v, "value", v) for k, v in mats[-1].metadata.items()} if mats else {}
        _out(
            f"{key}  OK: copied {_files(int(meta.get('files_copied', 0)))} "
            f"({_n(int(meta.get('bytes_copied', 0)))} bytes), "
            f"{meta.get('files_unchanged', 0)} unchanged, {meta.get('files_skipped', 0)} skipped, "
            f"{meta.get('files_total', 0)} in S3 for the day; {meta.get('seconds', 0)}s, run {run}"
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
