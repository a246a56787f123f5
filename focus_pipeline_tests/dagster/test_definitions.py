"""The code location loads, with the expected assets, sensor and wiring."""

import subprocess
import sys

import dagster as dg

from focus_pipeline.defs import build_definitions
from focus_pipeline.settings import load_settings


def test_definitions_load_and_validate(focus_env) -> None:
    defs = build_definitions(load_settings())
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    byod = graph.get(dg.AssetKey("byod_focus_reports"))
    assert byod.parent_keys == {dg.AssetKey("oci_focus_reports")}
    assert not graph.get(dg.AssetKey("oci_focus_reports")).is_materializable
    assert defs.get_assets_def("byod_focus_reports").partitions_def.get_first_partition_key() == (
        "2024-11-01"
    )
    sensor = defs.get_sensor_def("oci_focus_reports_sensor")
    assert sensor.minimum_interval_seconds == 600
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert set(defs.resources) == {"oci", "s3", "transfer", "alerts"}


def test_module_loads_from_the_cli(focus_env) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "focus_pipeline.definitions",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "passed validation" in out.stdout + out.stderr


def test_missing_setting_fails_the_load_naming_the_variable(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("FOCUS_OCI_BUCKET", "FOCUS_S3_BUCKET"):
        monkeypatch.delenv(var, raising=False)
    out = subprocess.run(
        [sys.executable, "-c", "import focus_pipeline.definitions"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "FOCUS_OCI_BUCKET: is required" in out.stderr


def test_resources_reference_env_vars_but_get_normalised_values(focus_env, monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_OCI_ENDPOINT", focus_env["FOCUS_OCI_ENDPOINT"] + "/")
    monkeypatch.setenv("FOCUS_OCI_PREFIX", "FOCUS Reports")
    resources = build_definitions(load_settings()).resources
    oci = resources["oci"]
    assert oci.endpoint == focus_env["FOCUS_OCI_ENDPOINT"]  # trailing slash stripped
    assert oci.prefix == "FOCUS Reports/"
    assert isinstance(oci.bucket, dg.EnvVar) and oci.bucket.env_var_name == "FOCUS_OCI_BUCKET"
    assert resources["transfer"].part_size_mb.env_var_name == "FOCUS_PART_SIZE_MB"
