"""The ``check_connectivity`` job, with the definitions' own resources (the checks
themselves: integration/test_connectivity.py)."""

from __future__ import annotations

import dagster as dg

from focus_pipeline.defs import build_definitions
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY

FOLDER = "FOCUS Reports/2024/11/28/"


def run_job(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    job = defs.resolve_job_def("check_connectivity")
    return job.execute_in_process(instance=instance, raise_on_error=False)


def test_job_passes_with_the_definitions_resources(focus_env, oci_emulator, s3_client) -> None:
    oci_emulator.put_object(TENANCY, FOLDER + "0001000002103533-00001.csv.gz", b"abc")
    with dg.instance_for_test() as instance:
        result = run_job(instance)
    assert result.success
    out = result.output_for_node("check_oci_and_s3")
    assert [(r["name"], r["ok"]) for r in out] == [("oci", True), ("s3", True)]
    assert "1 objects, first 'FOCUS Reports/2024/11/28/" in out[0]["message"]
    assert s3_client.list_objects_v2(Bucket=focus_env["FOCUS_S3_BUCKET"])["KeyCount"] == 0
