"""Secrets never reach anything Dagster stores or shows.

Unique secret values (AWS secret key and session token, the OCI key's pass phrase and the key
itself, as a file or by value in FOCUS_OCI_PRIVATE_KEY) are set the way a deployment sets
them, then a good day and a failing day run
through a real instance (``dagster asset materialize`` with its own DAGSTER_HOME). Every byte
Dagster wrote (event log and run storage databases, compute logs), every event's text and
metadata, the run config and the terminal output are searched: no secret may appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
from cryptography.hazmat.primitives import serialization
from dagster._serdes import serialize_value

from focus_pipeline.lib.transfer import MIB
from focus_pipeline_tests.support import TENANCY, S3Fault, S3FaultProxy, dagster_home, environ
from oci_emulator import Fault, OciEmulator, make_api_key, make_oci_config

GOOD_DAY, BAD_DAY = "2024-11-28", "2024-11-27"


USER = "ocid1.user.oc1..aaaaaaaasecretstestuser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk5rc"


def oci_credentials(
    auth: str, directory: Path, pass_phrase: str, emulator: OciEmulator
) -> tuple[dict[str, str], list[str]]:
    """An encrypted API key, as ``auth`` takes it: a profile naming the key file and its pass
    phrase (as the OCI CLI writes it), or the key and pass phrase by value in variables. The
    emulator is told the public key, so every request's signature is checked. Returns the
    FOCUS_OCI_* variables and the key's PEM body lines, encrypted and decrypted."""
    key = make_api_key(pass_phrase)
    emulator.register_api_key(f"{TENANCY}/{USER}/{key.fingerprint}", key.public_pem)
    plain = serialization.load_pem_private_key(
        key.private_pem.encode(), pass_phrase.encode()
    ).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Every full line of both PEM forms: any one of them in a log means the key leaked.
    body_lines = [
        line
        for pem in (key.private_pem, plain.decode())
        for line in pem.splitlines()
        if len(line) == 64
    ]
    if auth == "api_key":
        return {
            "FOCUS_OCI_AUTH": "api_key",
            "FOCUS_OCI_USER": USER,
            "FOCUS_OCI_FINGERPRINT": key.fingerprint,
            "FOCUS_OCI_REGION": "us-ashburn-1",
            "FOCUS_OCI_PRIVATE_KEY": key.private_pem,
            "FOCUS_OCI_PRIVATE_KEY_PASSPHRASE": pass_phrase,
        }, body_lines
    config, _ = make_oci_config(
        directory, key=key, user=USER, tenancy=TENANCY, pass_phrase=pass_phrase
    )
    return {"FOCUS_OCI_CONFIG_FILE": str(config)}, body_lines


def materialize(env: dict[str, str], day: str) -> subprocess.Popen[str]:
    """The terminal command, with the in-process executor: the step's logs, events and compute
    logs are the same as in a step subprocess, at half the start-up cost (test_termination.py
    runs the multiprocess path)."""
    command = "dagster asset materialize -m focus_pipeline.definitions --select byod_focus_reports"
    in_process = '{"execution": {"config": {"in_process": {}}}}'
    return subprocess.Popen(
        [sys.executable, "-m", *command.split(), "--partition", day, "--config-json", in_process],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("auth", ["config_file", "api_key"])
def test_no_secret_in_events_logs_run_config_or_output(
    auth, tmp_path, focus_env, oci_emulator, s3_endpoint, s3_client, s3_bucket
) -> None:
    tag = uuid.uuid4().hex
    secrets = {
        "AWS_SECRET_ACCESS_KEY": f"awsSecret{tag}",
        "AWS_SESSION_TOKEN": f"awsSessionToken{tag}",
        "pass_phrase": f"ociPassPhrase{tag}",
    }
    oci_env, key_lines = oci_credentials(
        auth, tmp_path / "oci", secrets["pass_phrase"], oci_emulator
    )
    needles = [*secrets.values(), *key_lines]
    for day in (GOOD_DAY, BAD_DAY):
        folder = f"FOCUS Reports/{day.replace('-', '/')}/"
        oci_emulator.put_object(TENANCY, folder + "f1.csv.gz", os.urandom(40_000))
        oci_emulator.put_object(TENANCY, folder + "f2.csv.gz", os.urandom(6 * MIB))
        oci_emulator.put_object(TENANCY, folder + "f3.csv.gz", os.urandom(1000))
    # The failing day: one report OCI keeps refusing, one S3 refuses, one that lands.
    oci_emulator.faults.add(Fault(op="GetObject", name_pattern="2024/11/27/f1", status=500))
    proxy = S3FaultProxy(s3_endpoint).start()
    proxy.add(S3Fault(op="*", key_pattern="2024-11-27_f2", status=403, code="AccessDenied"))
    common = {
        "AWS_SECRET_ACCESS_KEY": secrets["AWS_SECRET_ACCESS_KEY"],
        "AWS_SESSION_TOKEN": secrets["AWS_SESSION_TOKEN"],
        **oci_env,
        "FOCUS_MAX_RETRIES": "1",
        "FOCUS_RETRY_BACKOFF_SECONDS": "0.01",
    }
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    try:
        with (
            dagster_home(tmp_path / "good", "sqlite") as good_home,
            dagster_home(tmp_path / "bad", "sqlite") as bad_home,
        ):
            runs = {
                GOOD_DAY: (good_home, materialize({**common, **good_home}, GOOD_DAY)),
                BAD_DAY: (
                    bad_home,
                    materialize(
                        {**common, **bad_home, "FOCUS_S3_ENDPOINT_URL": proxy.endpoint}, BAD_DAY
                    ),
                ),
            }
            outputs = {day: proc.communicate(timeout=180) for day, (_, proc) in runs.items()}
            assert runs[GOOD_DAY][1].returncode == 0, outputs[GOOD_DAY][1][-3000:]
            assert runs[BAD_DAY][1].returncode != 0, outputs[BAD_DAY][1][-3000:]

            haystacks: dict[str, str] = {}
            for day, (home_env, _) in runs.items():
                stdout, stderr = outputs[day]
                haystacks[f"{day} stdout"] = stdout
                haystacks[f"{day} stderr"] = stderr
                home = Path(home_env["DAGSTER_HOME"])
                for path in home.rglob("*"):
                    if path.is_file():
                        haystacks[str(path)] = path.read_bytes().decode("latin-1")
                with environ(home_env), dg.DagsterInstance.get() as instance:
                    for run in instance.get_runs():
                        haystacks[f"{day} run config"] = json.dumps(run.run_config)
                        haystacks[f"{day} run tags"] = json.dumps(dict(run.tags))
                        haystacks[f"{day} events"] = "\n".join(
                            serialize_value(e) for e in instance.all_logs(run.run_id)
                        )
    finally:
        proxy.stop()

    # The search sees what the runs did: copies, both failure reasons, the compute logs.
    events, bad_err = haystacks[f"{BAD_DAY} events"], outputs[BAD_DAY][1][-3000:]
    assert "2 of 3 reports of 2024-11-27 failed" in events, bad_err
    assert "500 InternalServerError" in events and "403 AccessDenied" in events, bad_err
    good_events = haystacks[f"{GOOD_DAY} events"]
    assert f"{s3_bucket}/byod/acct-1/{GOOD_DAY}_f2.csv.gz" in good_events, good_events[-3000:]
    compute_logs = [k for k in haystacks if "compute_logs" in k and k.endswith(".err")]
    assert any("Copied" in haystacks[k] for k in compute_logs), sorted(haystacks)

    leaks = [
        (where, needle[:12] + "...")
        for where, text in haystacks.items()
        for needle in needles
        if needle in text
    ]
    assert leaks == []
