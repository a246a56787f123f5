"""The ``check_connectivity`` job and `focus-pipeline check` report the same failures, line
for line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg

from focus_pipeline.defs import build_definitions
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import free_port

WRONG_TENANCY = "ocid1.tenancy.oc1..aaaaaaaawrongtenancywrongtenancywrongtenancy"


def no_request_ids(text: str) -> str:
    return re.sub(r"\[opc-request-id [^\]]+\]", "[opc-request-id X]", text)


def run_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    job = defs.resolve_job_def("check_connectivity")
    return job.execute_in_process(instance=instance, raise_on_error=False)


def test_job_and_cli_report_the_same_failures(monkeypatch, focus_env, tmp_path) -> None:
    monkeypatch.setenv("FOCUS_OCI_BUCKET", WRONG_TENANCY)
    monkeypatch.setenv("FOCUS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with dg.instance_for_test() as instance:
        result = run_job(instance)
    assert not result.success
    failure = result.failure_data_for_node("check_oci_and_s3")
    job_lines = failure.user_failure_data.description.splitlines()
    assert [ln.split(":")[0] for ln in job_lines] == ["FAIL oci", "FAIL s3"]
    assert "404 BucketNotFound" in job_lines[0]
    assert "EndpointConnectionError" in job_lines[1]

    cli = Path(sys.executable).parent / "focus-pipeline"
    out = subprocess.run(
        [str(cli), "check"], env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 1, out.stdout + out.stderr
    cli_fail = [ln for ln in out.stdout.splitlines() if ln.startswith("FAIL")]
    assert [no_request_ids(ln) for ln in cli_fail] == [no_request_ids(ln) for ln in job_lines]
