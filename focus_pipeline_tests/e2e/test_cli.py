"""The `focus-pipeline` console script (check, status, sync).

The console script runs as a subprocess with the environment a user would have, against the
OCI emulator and moto over HTTP and a real DAGSTER_HOME (the repo's dagster.yaml on SQLite).
What it refuses before touching anything: unit/test_cli.py; the deployment files and docs that
tell people how to run it: unit/test_deploy_files_and_docs.py and test_deploy_postgres.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import (
    TENANCY,
    b64md5,
    dagster_home,
    environ,
    free_port,
    s3_contents,
)
from oci_emulator import Fault

CLI = str(Path(sys.executable).parent / "focus-pipeline")
SECRET = "wJalrXUtnFEMI-not-a-real-secret-K7MDENG"
F1, F2, F3 = (f"0001000002103533-0000{i}.csv.gz" for i in (1, 2, 3))


def folder(day: str) -> str:
    return f"FOCUS Reports/{day.replace('-', '/')}/"


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess:
    # cwd is a clean folder: a developer's .env must not leak into what is tested.
    return subprocess.run(
        [CLI, *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- check -----------------------------------------------------------------------------------


def test_check_passes_against_the_local_servers(focus_env, oci_emulator, tmp_path) -> None:
    oci_emulator.put_object(TENANCY, folder("2024-11-28") + F1, b"report")
    out = run_cli("check", env={"AWS_SECRET_ACCESS_KEY": SECRET}, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines[:3]] == ["PASS settings", "PASS oci", "PASS s3"]
    assert f"first '{folder('2024-11-28')}{F1}'" in lines[1]
    assert f"bucket '{focus_env['FOCUS_S3_BUCKET']}' under 'byod/acct-1/'" in lines[2]
    assert lines[3:] == ["All 3 checks passed."]
    assert SECRET not in out.stdout + out.stderr


def test_check_wrong_bucket_is_the_cross_tenancy_policy(focus_env, tmp_path) -> None:
    wrong = "ocid1.tenancy.oc1..aaaaaaaanotmytenancynotmytenancynotmytenancy"
    out = run_cli("check", env={"FOCUS_OCI_BUCKET": wrong}, cwd=tmp_path)
    assert out.returncode == 1
    fail = [ln for ln in out.stdout.splitlines() if ln.startswith("FAIL")]
    assert len(fail) == 1
    assert fail[0].startswith(
        f"FAIL oci: OCI Object Storage (namespace 'bling', bucket '{wrong}') answered 404 "
        "BucketNotFound [opc-request-id "
    )
    assert fail[0].endswith(
        "]: check FOCUS_OCI_BUCKET is your tenancy OCID and that your root compartment has the "
        "cross-tenancy policy 'define tenancy usage-report as ocid1.tenancy.oc1..aaaaaaaaned4fkp"
        "kisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq' and 'endorse group <group> to read "
        "objects in tenancy usage-report' (see docs/OCI_SETUP.md)."
    )
    assert "PASS s3" in out.stdout and out.stdout.endswith("1 of 3 checks failed.\n")


def test_check_wrong_s3_endpoint(focus_env, tmp_path) -> None:
    out = run_cli(
        "check", env={"FOCUS_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}, cwd=tmp_path
    )
    assert out.returncode == 1
    assert (
        f"FAIL s3: S3 bucket '{focus_env['FOCUS_S3_BUCKET']}' could not be reached "
        "(EndpointConnectionError): check FOCUS_S3_ENDPOINT_URL (leave it unset for AWS itself) "
        "and FOCUS_S3_REGION, and that this machine may open HTTPS connections to S3."
    ) in out.stdout.splitlines()
    assert "PASS oci" in out.stdout


def test_check_missing_variable_names_it(focus_env, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FOCUS_S3_BUCKET"}
    out = subprocess.run(
        [CLI, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        "FAIL settings: FOCUS_S3_BUCKET: is required: Destination bucket.",
        "1 of 1 checks failed.",
    ]


# --- status ----------------------------------------------------------------------------------


def status_rows(stdout: str) -> dict[str, list[str]]:
    """Table rows by day, columns split on runs of two or more spaces."""
    rows = {}
    for line in stdout.splitlines():
        if re.match(r"^\d{4}-\d{2}-\d{2}  ", line):
            rows[line[:10]] = re.split(r"\s{2,}", line.strip())
    return rows


def test_status_prints_the_window_after_a_few_materializations(
    focus_env, oci_emulator, s3_bucket, tmp_path
) -> None:
    days = {
        "2024-11-25": {F1: os.urandom(1000)},  # its run fails
        "2024-11-26": {},  # OCI has nothing
        "2024-11-27": {F1: os.urandom(2000), F2: os.urandom(3000)},  # copied, then one more
        "2024-11-28": {F1: os.urandom(4000)},  # copied, then rewritten
        "2024-11-29": {F1: os.urandom(500)},  # never copied, outside the window
    }
    for day, files in days.items():
        for name, data in files.items():
            oci_emulator.put_object(TENANCY, folder(day) + name, data)
    defs = build_definitions(load_settings())
    asset = defs.get_assets_def("byod_focus_reports")

    with dagster_home(tmp_path, "sqlite") as home_env:
        with environ(home_env), dg.DagsterInstance.get() as instance:
            for day in ("2024-11-27", "2024-11-28"):
                ok = dg.materialize(
                    [asset], partition_key=day, instance=instance, resources=dict(defs.resources)
                )
                assert ok.success
            oci_emulator.faults.add(Fault(op="GetObject", status=403, times=1))
            failed = dg.materialize(
                [asset],
                partition_key="2024-11-25",
                instance=instance,
                resources=dict(defs.resources),
                raise_on_error=False,
            )
            assert not failed.success
        oci_emulator.put_object(TENANCY, folder("2024-11-27") + F3, os.urandom(700))
        oci_emulator.put_object(TENANCY, folder("2024-11-28") + F1, os.urandom(4100))

        out = run_cli("status", "--days", "4", "--end", "2024-11-28", env=home_env, cwd=tmp_path)

    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == (
        "Window 2024-11-25 .. 2024-11-28 (4 days, UTC): OCI 'FOCUS Reports/' -> "
        f"s3://{s3_bucket}/byod/acct-1/"
    )
    rows = status_rows(out.stdout)
    assert list(rows) == ["2024-11-28", "2024-11-27", "2024-11-26", "2024-11-25"]
    # DAY, OCI FILES, OCI BYTES, COPIED, COPIED BYTES, LAST COPY, PENDING, LAST RUN,
    # UP TO DATE (a difference first seen now is not late yet: WARN), STATE
    r = rows["2024-11-28"]
    assert r[1:5] == ["1", "4,100", "1", "4,000"] and r[6:] == [
        "1",
        "SUCCESS",
        "WARN",
        "pending: 1 changed",
    ]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", r[5])
    r = rows["2024-11-27"]
    assert r[1:5] == ["3", "5,700", "2", "5,000"]
    assert r[6:] == ["1", "SUCCESS", "WARN", "pending: 1 new"]
    assert rows["2024-11-26"][1:] == [
        "0", "0", "0", "0", "-", "0", "-", "PASS", "no reports in OCI"
    ]  # fmt: skip
    r = rows["2024-11-25"]
    assert r[1:] == ["1", "1,000", "0", "0", "-", "1", "FAILURE", "WARN", "failed: 1 new"]
    total = next(ln for ln in lines if ln.startswith("TOTAL"))
    assert re.split(r"\s{2,}", total) == [
        "TOTAL", "5", "10,800", "3", "9,000", "3", "1 failed, 0 late"
    ]  # fmt: skip
    assert "Daemon: no heartbeat in this instance" in out.stdout


# --- sync ------------------------------------------------------------------------------------


def test_sync_copies_a_two_day_range_into_a_real_instance(
    focus_env, oci_emulator, s3_client, s3_bucket, tmp_path
) -> None:
    files = {
        "2024-11-27": {F1: os.urandom(11_000), F2: os.urandom(6 * 2**20)},  # one multipart
        "2024-11-28": {F1: os.urandom(13_000)},
    }
    for day, day_files in files.items():
        for name, data in day_files.items():
            oci_emulator.put_object(TENANCY, folder(day) + name, data)
    expected = {
        f"byod/acct-1/{day}_{name}": b64md5(data)
        for day, day_files in files.items()
        for name, data in day_files.items()
    }
    dest = f"s3://{s3_bucket}/byod/acct-1"

    with dagster_home(tmp_path, "sqlite") as home_env:
        first = run_cli(
            "sync", "--start", "2024-11-27", "--end", "2024-11-28", env=home_env, cwd=tmp_path
        )
        assert first.returncode == 0, first.stdout + first.stderr
        lines = first.stdout.splitlines()
        assert lines[0] == (
            f"Syncing 2 days, 2024-11-27 .. 2024-11-28, into s3://{s3_bucket}/ (one run per day)"
        )
        assert sorted(lines[1:3]) == [
            f"  + {dest}/2024-11-27_{F1}  (11,000 bytes)",
            f"  + {dest}/2024-11-27_{F2}  (6,291,456 bytes)",
        ]
        assert lines[3].startswith(
            "2024-11-27  OK: copied 2 files (6,302,456 bytes), 0 unchanged, 0 skipped, "
            "2 in S3 for the day; "
        )
        assert lines[4] == f"  + {dest}/2024-11-28_{F1}  (13,000 bytes)"
        assert lines[5].startswith("2024-11-28  OK: copied 1 file (13,000 bytes), 0 unchanged")
        assert lines[6].startswith("Synced 2 of 2 days.")
        assert s3_contents(s3_client, s3_bucket) == expected

        with environ(home_env), dg.DagsterInstance.get() as instance:
            runs = instance.get_runs(
                dg.RunsFilter(tags={"focus_pipeline/launched_by": "focus-pipeline sync"})
            )
            assert sorted(r.tags["dagster/partition"] for r in runs) == ["2024-11-27", "2024-11-28"]
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
            for day in files:
                mats = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=BYOD_ASSET, asset_partitions=[day]), limit=5
                ).records
                assert len(mats) == 1

        # Again: nothing to copy. Then one day fails: exit 1, the other day still synced.
        oci_emulator.put_object(TENANCY, folder("2024-11-28") + F2, os.urandom(900))
        oci_emulator.faults.add(Fault(op="GetObject", name_pattern="/28/", status=403))
        second = run_cli(
            "sync", "--start", "2024-11-27", "--end", "2024-11-28", env=home_env, cwd=tmp_path
        )
        assert second.returncode == 1
        out = second.stdout.splitlines()
        assert out[1].startswith("2024-11-27  OK: copied 0 files (0 bytes), 2 unchanged")
        assert out[2].startswith("2024-11-28  FAILED (run ")
        assert out[3].strip() == (
            "1 of 1 reports of 2024-11-28 failed to copy (0 landed and will not be copied again):"
        )
        assert "answered 403 NotAuthorizedOrNotFound" in out[4]
        assert out[-1].startswith("Synced 1 of 2 days; failed: 2024-11-28.")
        assert "Traceback" not in second.stderr


def test_check_with_an_api_key_given_in_dotenv(focus_env, oci_emulator, tmp_path) -> None:
    """The key by value (FOCUS_OCI_AUTH=api_key) from a .env file: the command loads it into
    the environment, as dagster dev does, so the resource's EnvVar finds it."""
    from oci_emulator import make_api_key

    user = "ocid1.user.oc1..aaaaaaaaclitestapikeyuser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk5"
    key = make_api_key()
    oci_emulator.register_api_key(f"{TENANCY}/{user}/{key.fingerprint}", key.public_pem)
    oci_emulator.put_object(TENANCY, folder("2024-11-28") + F1, b"report")
    pem = key.private_pem.replace("\n", "\\n")
    (tmp_path / ".env").write_text(
        f"FOCUS_OCI_AUTH=api_key\nFOCUS_OCI_USER={user}\nFOCUS_OCI_FINGERPRINT={key.fingerprint}\n"
        f"FOCUS_OCI_REGION=us-ashburn-1\nFOCUS_OCI_PRIVATE_KEY={pem}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FOCUS_OCI_CONFIG_FILE"}
    out = subprocess.run(
        [CLI, "check"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[1].startswith("PASS oci")
    assert not any(line in out.stdout + out.stderr for line in pem.split("\\n") if len(line) > 40)
