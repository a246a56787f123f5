"""End to end: the terminal command a user runs, against a real Dagster instance.

Runs on SQLite (the local default) and on the real PostgreSQL server of this machine with the
self-hosted deploy/postgres/dagster.yaml; the PostgreSQL variant is skipped, with the reason,
when that server is unreachable.
"""

import os
import subprocess
import sys

import dagster as dg
import pytest

from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline_tests.support import TENANCY, b64md5, dagster_home, environ, s3_contents

DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"


def materialize_cli(env: dict[str, str], day: str = DAY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "focus_pipeline.definitions",
            "--select",
            "byod_focus_reports",
            "--partition",
            day,
        ],  # fmt: skip
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("storage", ["sqlite", "postgres"])
def test_cli_materialize_copies_then_skips_then_copies_the_change(
    storage, tmp_path, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    files = {f"0001000002103533-0000{i}.csv.gz": os.urandom(50_000 + i) for i in range(1, 4)}
    files["0001000002103533-00004.csv.gz"] = os.urandom(12 * 2**20)  # several parts
    for name, data in files.items():
        oci_emulator.put_object(TENANCY, FOLDER + name, data)
    expected = {f"byod/acct-1/{DAY}_{n}": b64md5(d) for n, d in files.items()}

    with dagster_home(tmp_path, storage) as home_env:
        first = materialize_cli(home_env)
        assert first.returncode == 0, first.stderr[-3000:]
        assert s3_contents(s3_client, s3_bucket) == expected

        oci_emulator.clear_requests()
        second = materialize_cli(home_env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert oci_emulator.count(op="GetObject") == 0
        assert oci_emulator.count(op="ListObjects") == 1

        changed = os.urandom(70_000)
        oci_emulator.put_object(TENANCY, FOLDER + "0001000002103533-00002.csv.gz", changed)
        oci_emulator.clear_requests()
        third = materialize_cli(home_env)
        assert third.returncode == 0, third.stderr[-3000:]
        assert [r.object_name for r in oci_emulator.requests if r.op == "GetObject"] == [
            FOLDER + "0001000002103533-00002.csv.gz"
        ]
        expected[f"byod/acct-1/{DAY}_0001000002103533-00002.csv.gz"] = b64md5(changed)
        assert s3_contents(s3_client, s3_bucket) == expected

        with environ(home_env), dg.DagsterInstance.get() as instance:
            mats = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=BYOD_ASSET, asset_partitions=[DAY]), limit=10
            ).records
            copied = [m.asset_materialization.metadata["files_copied"].value for m in mats]
            assert copied == [1, 0, 4]  # newest first
