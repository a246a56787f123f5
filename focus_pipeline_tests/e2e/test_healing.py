"""Self-healing with a real daemon: a killed run, an S3 outage and a day outside the window all
end with the day in S3 and nobody clicking."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg

from focus_pipeline_tests.support import (
    TENANCY,
    S3Fault,
    b64md5,
    dagster_home,
    open_uploads,
    s3_contents,
    wait_until,
)
from oci_emulator import Fault

DAEMON = str(Path(sys.executable).with_name("dagster-daemon"))
# Short intervals so that healing happens within a test; each is minutes or hours by default.
FAST = {
    "FOCUS_POLL_INTERVAL_SECONDS": "2",
    "FOCUS_STALLED_RUN_SECONDS": "8",
    "FOCUS_FAILED_DAY_RETRY_SECONDS": "3",
    "FOCUS_LOOKBACK_DAYS": "3",
    "FOCUS_MAX_RETRIES": "0",
}


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def report(day: dt.date, n: int = 1) -> tuple[str, str]:
    """The OCI object name of a report of ``day`` and the key of its copy."""
    file = f"0001000002103533-{n:05d}.csv.gz"
    return f"FOCUS Reports/{day:%Y/%m/%d}/{file}", f"byod/acct-1/{day.isoformat()}_{file}"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (run workers may start sessions of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_all(proc: subprocess.Popen) -> None:
    """SIGKILL to the daemon's process group and every process below it, at once."""
    pids = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def daemon(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "a") as out:
        proc = subprocess.Popen(
            [DAEMON, "run", "-m", "focus_pipeline.definitions"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                kill_all(proc)


def copy_runs(home: dict[str, str]) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(home["DAGSTER_HOME"]) as instance:
        return list(instance.get_runs(dg.RunsFilter(job_name="focus_copy_job")))


def days_with(home: dict[str, str], status: dg.DagsterRunStatus) -> set[str]:
    """Days with a copy run in ``status``; none while the daemon is still creating storage."""
    try:
        runs = copy_runs(home)
    except Exception:  # the SQLite schema is being created by the daemon right now
        return set()
    return {r.tags["dagster/partition"] for r in runs if r.status == status}


def test_a_killed_run_is_found_dead_and_its_day_lands_after_a_restart(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    name, key = report(today())
    data = os.urandom(12 << 20)  # three parts: an upload is open while they are read
    oci_emulator.put_object(TENANCY, name, data)
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=60))
    log = tmp_path / "daemon.log"
    with dagster_home(tmp_path, "sqlite") as home:
        env = {**home, **FAST, "FOCUS_FULL_SCAN_HOURS": "0"}
        with daemon(env, log) as first:
            copying = wait_until(lambda: open_uploads(s3_client, s3_bucket) == [key], first)
            assert copying, log.read_text()[-4000:]
            kill_all(first)  # a host restart: every process dies at once
        [dead] = copy_runs(home)
        assert dead.status == dg.DagsterRunStatus.STARTED  # nothing can tell it died

        oci_emulator.faults.clear()
        with daemon(env, log) as second:
            landed = wait_until(
                lambda: s3_contents(s3_client, s3_bucket) == {key: b64md5(data)}, second
            )
            assert landed, log.read_text()[-4000:]
            assert wait_until(
                lambda: (
                    len(copy_runs(home)) == 2
                    and all(
                        r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
                        for r in copy_runs(home)
                    )
                ),
                second,
            )
        runs = {r.run_id: r for r in copy_runs(home)}
        assert runs[dead.run_id].status == dg.DagsterRunStatus.FAILURE
        assert runs[dead.run_id].tags.get("focus_pipeline/dead_run") == "true"
        [healed] = [r for r in runs.values() if r.run_id != dead.run_id]
        assert healed.status == dg.DagsterRunStatus.SUCCESS
        assert healed.tags["focus_pipeline/attempt"] == "1"
    assert open_uploads(s3_client, s3_bucket) == []


def test_days_that_failed_in_an_s3_outage_land_once_s3_is_back(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket, proxy
) -> None:
    days = [today(), today() - dt.timedelta(days=1), today() - dt.timedelta(days=10)]
    expected = {}
    for day in days:  # the third is outside the window: only the full scan sees it
        name, key = report(day)
        data = os.urandom(30_000)
        oci_emulator.put_object(TENANCY, name, data)
        expected[key] = b64md5(data)
    log = tmp_path / "daemon.log"
    with dagster_home(tmp_path, "sqlite") as home:
        proxy.add(S3Fault(op="*", status=503, code="SlowDown"))  # S3 down
        env = {
            **home,
            **FAST,
            "FOCUS_S3_ENDPOINT_URL": proxy.endpoint,
            "FOCUS_FULL_SCAN_HOURS": "0.002",
        }
        with daemon(env, log) as proc:
            all_days = {d.isoformat() for d in days}
            failed = wait_until(
                lambda: days_with(home, dg.DagsterRunStatus.FAILURE) == all_days, proc
            )
            assert failed, log.read_text()[-4000:]
            assert s3_contents(s3_client, s3_bucket) == {}

            proxy.clear()  # S3 is back
            healed = wait_until(
                lambda: (
                    days_with(home, dg.DagsterRunStatus.SUCCESS) == all_days
                    and s3_contents(s3_client, s3_bucket) == expected
                ),
                proc,
            )
            assert healed, log.read_text()[-4000:]
        # Every day's success came after a failed run of it: healed, not copied first time.
        for day in all_days:
            statuses = [
                r.status for r in reversed(copy_runs(home)) if r.tags["dagster/partition"] == day
            ]
            assert (
                dg.DagsterRunStatus.FAILURE
                in statuses[: statuses.index(dg.DagsterRunStatus.SUCCESS)]
            )


def test_two_runs_for_one_day_exactly_one_copies(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    name, key = report(dt.date(2024, 11, 28))
    data = os.urandom(12 << 20)
    oci_emulator.put_object(TENANCY, name, data)
    oci_emulator.faults.add(Fault(op="GetObject", latency_s=30))
    command = [
        sys.executable, "-m", "dagster", "asset", "materialize",
        "-m", "focus_pipeline.definitions", "--select", "byod_focus_reports",
        "--partition", "2024-11-28",
    ]  # fmt: skip
    with dagster_home(tmp_path, "sqlite") as home:
        env = {**os.environ, **home}
        first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started = wait_until(lambda: open_uploads(s3_client, s3_bucket) == [key], first)
        assert started, first.communicate()[0].decode()[-3000:]
        [writer] = copy_runs_any(home)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        oci_emulator.faults.clear()
        out, _ = first.communicate(timeout=300)
        assert first.returncode == 0, out.decode()[-3000:]
    assert second.returncode != 0
    assert f"Run {writer.run_id}" in second.stdout + second.stderr
    assert "is already copying 2024-11-28" in second.stdout + second.stderr
    assert s3_contents(s3_client, s3_bucket) == {key: b64md5(data)}
    assert open_uploads(s3_client, s3_bucket) == []


def copy_runs_any(home: dict[str, str]) -> list[dg.DagsterRun]:
    """Runs of the copy asset whatever job launched them (the CLI uses the implicit job)."""
    with dg.DagsterInstance.from_config(home["DAGSTER_HOME"]) as instance:
        return list(instance.get_runs())
