"""The asset sweeps the uploads killed runs left open before it copies (the sweep itself:
integration/test_sweep.py)."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from focus_pipeline.defs import build_definitions
from focus_pipeline.lib.transfer import MIB
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY, open_upload_keys, start_upload


@pytest.mark.parametrize("hours", ["24", "0"])
def test_the_asset_sweeps_before_it_copies_unless_turned_off(
    hours, monkeypatch, focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    """A run killed outright left an upload open; the next run of any day aborts it."""
    monkeypatch.setenv("FOCUS_STALE_UPLOAD_HOURS", hours)
    killed = "byod/acct-1/2024-11-27_0001000002103533-00001.csv.gz"
    start_upload(s3_client, s3_bucket, killed)
    data = os.urandom(6 * MIB)
    oci_emulator.put_object(TENANCY, "FOCUS Reports/2024/11/28/f.csv.gz", data)
    defs = build_definitions(load_settings())
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key="2024-11-28",
            instance=instance,
            resources=defs.resources,
        )
        assert result.success
        meta = result.asset_materializations_for_node("byod_focus_reports")[-1].metadata
        logs = [e.message for e in instance.all_logs(result.run_id)]
    if hours == "0":
        assert open_upload_keys(s3_client, s3_bucket) == {killed}
        assert meta["stale_uploads_aborted"].value == 0
    else:
        assert open_upload_keys(s3_client, s3_bucket) == set()
        assert meta["stale_uploads_aborted"].value == 1
        assert any("Aborted 1 multipart upload(s)" in m and killed in m for m in logs)
    # The day's own copy is unaffected.
    body = s3_client.get_object(Bucket=s3_bucket, Key="byod/acct-1/2024-11-28_f.csv.gz")
    assert body["Body"].read() == data
