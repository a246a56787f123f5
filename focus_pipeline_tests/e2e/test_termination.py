"""Terminating a real run mid-copy leaves nothing behind in S3.

``dagster asset materialize`` runs the step in a child process of the multiprocess executor,
as a run launched from the UI does. Dagster terminates a run by interrupting the run process
(the UI's "Terminate" reaches it through the code server; here SIGTERM, which Dagster maps to
SIGINT); the executor then sets the step's termination event, the step process interrupts its
own main thread, and ``DagsterExecutionInterruptedError`` (a ``BaseException``) surfaces in
``copy_all``'s wait. Everything below that point is the pipeline's: stop the part threads,
abort the multipart upload, re-raise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import dagster as dg

from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.lib.transfer import MIB
from focus_pipeline_tests.support import (
    TENANCY,
    WAIT_SECONDS,
    dagster_home,
    environ,
    open_uploads,
    s3_contents,
    wait_until,
)

DAY = "2024-11-28"
NAME = "0001000002103533-00001.csv.gz"
KEY = f"byod/acct-1/{DAY}_{NAME}"


def materialize_cmd(day: str = DAY) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "asset", "materialize",
        "-m", "focus_pipeline.definitions",
        "--select", "byod_focus_reports", "--partition", day,
    ]  # fmt: skip


def test_sigterm_mid_copy_aborts_the_upload_and_stops_the_threads(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    # 4 parts read one at a time at 4 MiB/s: about 5 s of copying, time enough to interrupt
    # once a part has landed in the open upload. From the interrupt on, the source crawls.
    oci_emulator.put_object(TENANCY, f"FOCUS Reports/2024/11/28/{NAME}", os.urandom(16 * MIB))
    oci_emulator.update_settings(rate_limit_bytes_per_sec=4 * MIB)
    env = {"FOCUS_STREAMS_PER_FILE": "1", "FOCUS_STALE_UPLOAD_HOURS": "0"}

    def parts_uploaded() -> int:
        uploads = s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
        if not uploads:
            return 0
        u = uploads[0]
        return len(
            s3_client.list_parts(Bucket=s3_bucket, Key=u["Key"], UploadId=u["UploadId"]).get(
                "Parts", []
            )
        )

    with dagster_home(tmp_path, "sqlite") as home_env:
        out = open(tmp_path / "cli.log", "w")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen(
            materialize_cmd(),
            env={**os.environ, **home_env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            assert wait_until(lambda: parts_uploaded() >= 1, proc), (
                tmp_path / "cli.log"
            ).read_text()[-4000:]
            assert open_uploads(s3_client, s3_bucket) == [KEY]
            # What "Terminate" in the UI does: mark the run CANCELING, then interrupt the run
            # process (the run launcher asks the code server, which signals it).
            with environ(home_env), dg.DagsterInstance.get() as instance:
                [run] = instance.get_runs()
                instance.report_run_canceling(run)
            # The part being read cannot finish now (64 KiB/s: over a minute per part) however
            # long the interrupt takes to reach the step, so only a thread that goes on after
            # the interrupt starts another read.
            oci_emulator.update_settings(rate_limit_bytes_per_sec=64 * 1024)
            signalled = time.time()
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=WAIT_SECONDS)  # no hang waiting on worker threads
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            out.close()
        log = (tmp_path / "cli.log").read_text()

        assert proc.returncode != 0, log[-4000:]
        # Stopped, not finished: had the part threads gone on, the object would have landed.
        assert s3_contents(s3_client, s3_bucket) == {}
        assert open_uploads(s3_client, s3_bucket) == []
        # The part threads stopped with the step: no read of OCI began after the interrupt
        # (one read at a time: at most the one starting as the signal went out).
        late = [r for r in oci_emulator.requests if r.op == "GetObject" and r.time > signalled]
        assert len(late) <= 1, [(r.headers.get("range"), r.time - signalled) for r in late]

        with environ(home_env), dg.DagsterInstance.get() as instance:
            [run] = instance.get_runs()
            assert run.status == dg.DagsterRunStatus.CANCELED
            messages = [e.message or "" for e in instance.all_logs(run.run_id)]
            assert any("interrupt" in m.lower() for m in messages), messages[-10:]
            # Nothing was recorded as copied, so the next run copies the file again.
            obs = instance.fetch_observations(
                dg.AssetRecordsFilter(asset_key=BYOD_ASSET, asset_partitions=[DAY]), limit=10
            )
            assert obs.records == []
