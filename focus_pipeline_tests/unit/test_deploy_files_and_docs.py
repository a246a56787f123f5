"""The deployment files (deploy/**, dagster_cloud.yaml, the IAM policy) and the docs that tell
people how to run the pipeline agree with the code and with each other. Files only: the
PostgreSQL instance file is loaded against the real server in e2e/test_deploy_postgres.py.
"""

from __future__ import annotations

import configparser
import re

import yaml

from focus_pipeline.settings import FocusSettings
from focus_pipeline_tests.support import ROOT
from focus_pipeline_tests.support.iam import documented_policy, fill

# --- deployment files ------------------------------------------------------------------------


def test_kubernetes_values_and_dagster_cloud_yaml() -> None:
    cloud = yaml.safe_load((ROOT / "dagster_cloud.yaml").read_text())
    [location] = cloud["locations"]
    assert location["code_source"] == {"module_name": "focus_pipeline.definitions"}
    assert location["location_name"] == "focus_pipeline"

    values = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "values.yaml").read_text())
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "focus_pipeline.definitions"]
    assert {"name": "focus-pipeline-env"} in deployment["envSecrets"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    assert {
        "key": "dagster/partition",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    } in coordinator["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]


def test_systemd_units_run_one_daemon_and_the_webserver() -> None:
    units = {}
    for name in ("dagster-webserver.service", "dagster-daemon.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(ROOT / "deploy" / "systemd" / name)
        units[name] = parser
    for unit in units.values():
        service = unit["Service"]
        assert service["Restart"] == "on-failure"
        assert service["User"] and service["EnvironmentFile"]
        assert "DAGSTER_HOME=" in service["Environment"]
        assert "-w" in service["ExecStart"] and "workspace.yaml" in service["ExecStart"]
    assert "dagster-daemon run" in units["dagster-daemon.service"]["Service"]["ExecStart"]


# --- docs ------------------------------------------------------------------------------------


def test_config_reference_documents_every_setting() -> None:
    text = (ROOT / "docs" / "CONFIG_REFERENCE.md").read_text()
    missing = [
        f"FOCUS_{name.upper()}"
        for name in FocusSettings.model_fields
        if f"`FOCUS_{name.upper()}`" not in text
    ]
    assert not missing, f"undocumented settings: {missing}"
    for var in ("DAGSTER_HOME", "DAGSTER_PG_HOST", "DAGSTER_PG_PASSWORD", "AWS_PROFILE"):
        assert f"`{var}`" in text


def test_oci_setup_prints_the_tested_iam_policy() -> None:
    import json

    text = (ROOT / "docs" / "OCI_SETUP.md").read_text()
    policy = json.loads((ROOT / "deploy" / "aws" / "byod-iam-policy.json").read_text())
    block = re.search(r"```json\n(.*?)```", text, re.DOTALL)
    assert block is not None and json.loads(block[1]) == policy
    assert "endorse group <group> to read objects in tenancy usage-report" in text
    assert "endorse dynamic-group <dynamic-group> to read objects in tenancy usage-report" in text


def test_the_documented_policy_is_the_one_deployed() -> None:
    deployed = ROOT / "deploy" / "aws" / "byod-iam-policy.json"
    assert documented_policy() == fill(deployed.read_text())
