"""`dg`, Dagster 1.13's project command, drives this project: check, list and launch a day."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from focus_pipeline_tests.support import ROOT, TENANCY, b64md5, dagster_home, s3_contents

DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"
DG = str(Path(sys.executable).with_name("dg"))


def dg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DG, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dg_checks_lists_and_launches_a_day(
    tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
):
    data = os.urandom(70_000)
    oci_emulator.put_object(TENANCY, FOLDER + "0001000002103533-00001.csv.gz", data)
    with dagster_home(tmp_path, "sqlite") as home_env:
        check = dg("check", "defs", env=home_env)
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
        assert "All definitions loaded successfully" in check.stdout + check.stderr

        listed = dg("list", "defs", "--json", env=home_env)
        assert listed.returncode == 0, listed.stderr[-2000:]
        for name in ("byod_focus_reports", "oci_focus_reports", "focus_copy_job"):
            assert name in listed.stdout, name

        launched = dg("launch", "--assets", "byod_focus_reports", "--partition", DAY, env=home_env)
        assert launched.returncode == 0, launched.stdout[-2000:] + launched.stderr[-3000:]
    key = f"byod/acct-1/{DAY}_0001000002103533-00001.csv.gz"
    assert s3_contents(s3_client, s3_bucket) == {key: b64md5(data)}
