"""The whole loop with nobody clicking: the daemon's sensor sees a new report and it lands."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

from focus_pipeline_tests.support import TENANCY, b64md5, dagster_home, s3_contents

DEADLINE_SECONDS = 150
DAEMON = os.path.join(os.path.dirname(sys.executable), "dagster-daemon")


def wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        assert proc.poll() is None, "dagster-daemon exited early"
        time.sleep(1)
    return False


def test_new_report_lands_in_s3_with_no_other_action(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    folder = f"FOCUS Reports/{today:%Y/%m/%d}/"
    first = os.urandom(40_000)
    oci_emulator.put_object(TENANCY, folder + "0001000002103533-00001.csv.gz", first)
    prefix = f"byod/acct-1/{today.isoformat()}_"

    with dagster_home(tmp_path, "sqlite") as home_env:
        env = {
            **os.environ,
            **home_env,
            "FOCUS_POLL_INTERVAL_SECONDS": "10",
            "FOCUS_LOOKBACK_DAYS": "2",
        }
        log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen(
            [DAEMON, "run", "-m", "focus_pipeline.definitions"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            landed = wait_for(
                lambda: (
                    s3_contents(s3_client, s3_bucket)
                    == {prefix + "0001000002103533-00001.csv.gz": b64md5(first)}
                ),
                DEADLINE_SECONDS,
                proc,
            )
            assert landed, (tmp_path / "daemon.log").read_text()[-4000:]

            second = os.urandom(30_000)
            oci_emulator.put_object(TENANCY, folder + "0001000002103533-00002.csv.gz", second)
            both = {
                prefix + "0001000002103533-00001.csv.gz": b64md5(first),
                prefix + "0001000002103533-00002.csv.gz": b64md5(second),
            }
            landed = wait_for(
                lambda: s3_contents(s3_client, s3_bucket) == both, DEADLINE_SECONDS, proc
            )
            assert landed, (tmp_path / "daemon.log").read_text()[-4000:]
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
