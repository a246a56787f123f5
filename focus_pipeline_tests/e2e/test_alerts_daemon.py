"""Alerts with nobody clicking: a real dagster-daemon runs the OCI sensor, the copy run and both
alert sensors; a local webhook receiver gets one message for the failed run, one when the OCI
sensor has failed FOCUS_ALERT_AFTER_FAILED_TICKS ticks in a row, and one when it recovers. The
token in the alert URL appears in no message, no log and nowhere in DAGSTER_HOME."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from focus_pipeline_tests.support import TENANCY, dagster_home, environ
from focus_pipeline_tests.support.receiver import FAKE_TOKEN, Receiver
from oci_emulator import Fault

DAEMON = os.path.join(os.path.dirname(sys.executable), "dagster-daemon")
DEADLINE_SECONDS = 150
# The daemon evaluates sensors every 5 s: a few loops with nothing more to say.
QUIET_SECONDS = 12
UI = "https://dagster.example.com"


def wait_for_messages(receiver: Receiver, count: int, proc: subprocess.Popen, log: Path) -> list:
    end = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < end and len(receiver.received) < count:
        assert proc.poll() is None, "dagster-daemon exited early:\n" + log.read_text()[-4000:]
        time.sleep(0.5)
    received = receiver.received
    assert len(received) >= count, (
        [m.title for m in received],
        log.read_text()[-4000:],
    )
    return received


def stays(receiver: Receiver, count: int) -> None:
    time.sleep(QUIET_SECONDS)
    assert len(receiver.received) == count, [m.title for m in receiver.received]


def test_the_daemon_sends_each_alert_once(tmp_path, focus_env, oci_emulator) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    oci_emulator.put_object(
        TENANCY, f"FOCUS Reports/{today:%Y/%m/%d}/0001000002103533-00001.csv.gz", b"x" * 100
    )
    with Receiver() as receiver, dagster_home(tmp_path, "sqlite") as home_env:
        env = {
            **os.environ,
            **home_env,
            "FOCUS_POLL_INTERVAL_SECONDS": "2",
            "FOCUS_LOOKBACK_DAYS": "2",
            "FOCUS_FULL_SCAN_HOURS": "0",
            "FOCUS_MAX_RETRIES": "0",
            # The copy fails: the destination bucket does not exist.
            "FOCUS_S3_BUCKET": f"byod-missing-{uuid.uuid4().hex[:8]}",
            "FOCUS_ALERT_URLS": receiver.url,
            "FOCUS_UI_URL": UI,
            "FOCUS_ALERT_AFTER_FAILED_TICKS": "3",
        }
        log_path = tmp_path / "daemon.log"
        log = open(log_path, "w")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen(
            [DAEMON, "run", "-m", "focus_pipeline.definitions"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # 1. The sensor requests today, the run fails, one message says so.
            [failed] = wait_for_messages(receiver, 1, proc, log_path)
            assert f"copy of {today.isoformat()} failed" in failed.title
            run_id = re.search(r"^Run: (\S+)", failed.message, re.MULTILINE)
            assert run_id, failed.message
            assert f"{UI}/runs/{run_id[1]}" in failed.message
            assert "NoSuchBucket" in failed.message
            with environ(home_env), dg.DagsterInstance.get() as instance:
                run = instance.get_run_by_id(run_id[1])
                assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
                assert run.tags["dagster/partition"] == today.isoformat()

            # 2. OCI refuses the sensor: one message after 3 failed ticks, not one per tick.
            oci_emulator.faults.add(Fault(op="ListObjects", status=401))
            _, failing = wait_for_messages(receiver, 2, proc, log_path)
            assert "OCI polling sensor failed" in failing.title
            assert "401 NotAuthenticated" in failing.message
            stays(receiver, 2)

            # 3. OCI answers again: one message that it recovered, and quiet after it.
            oci_emulator.faults.clear()
            *_, recovered = wait_for_messages(receiver, 3, proc, log_path)
            assert "OCI polling sensor recovered" in recovered.title
            stays(receiver, 3)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()

        for message in receiver.received:
            assert FAKE_TOKEN not in message.text and "json://" not in message.text
        assert FAKE_TOKEN not in log_path.read_text()
        home = Path(home_env["DAGSTER_HOME"])
        leaked = [
            str(p) for p in home.rglob("*") if p.is_file() and FAKE_TOKEN.encode() in p.read_bytes()
        ]
        assert leaked == []
