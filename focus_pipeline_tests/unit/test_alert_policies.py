"""The Dagster+ alert policies name the job, asset, sensor and code location the code defines,
use event types of the alert-policy schema, and match the self-hosted alerts' threshold."""

from __future__ import annotations

import yaml

from focus_pipeline.defs.jobs import COPY_JOB_NAME
from focus_pipeline.defs.sensors import SENSOR_NAME
from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.settings import FocusSettings
from focus_pipeline_tests.support import ROOT

POLICIES = ROOT / "deploy" / "dagster-plus" / "alert_policies.yaml"
# Event types by category (Dagster+ "Alert policies YAML reference"): one policy may not mix
# categories.
CATEGORIES = {
    "job": {"JOB_FAILURE", "JOB_SUCCESS", "JOB_LONG_RUNNING"},
    "asset": {
        "ASSET_MATERIALIZATION_SUCCESS",
        "ASSET_MATERIALIZATION_FAILURE",
        "ASSET_CHECK_PASSED",
        "ASSET_CHECK_EXECUTION_FAILURE",
        "ASSET_CHECK_SEVERITY_WARN",
        "ASSET_CHECK_SEVERITY_ERROR",
        "ASSET_FRESHNESS_PASS",
        "ASSET_FRESHNESS_WARN",
        "ASSET_FRESHNESS_FAIL",
    },
    "tick": {"TICK_FAILURE"},
}


def policies() -> dict[str, dict]:
    document = yaml.safe_load(POLICIES.read_text())
    assert list(document) == ["alert_policies"]
    return {p["name"]: p for p in document["alert_policies"]}


def location() -> str:
    cloud = yaml.safe_load((ROOT / "dagster_cloud.yaml").read_text())
    return cloud["locations"][0]["location_name"]


def test_every_policy_is_complete_and_keeps_to_one_category() -> None:
    for name, policy in policies().items():
        assert policy["enabled"] is True, name
        assert policy["notification_service"], name
        kinds = {k for k, types in CATEGORIES.items() if set(policy["event_types"]) & types}
        assert len(kinds) == 1, name
        assert set(policy["event_types"]) <= set().union(*CATEGORIES.values()), name


def test_the_policies_cover_the_run_the_asset_and_the_sensor() -> None:
    by_name = policies()
    events = {e for p in by_name.values() for e in p["event_types"]}
    assert {
        "JOB_FAILURE",
        "ASSET_MATERIALIZATION_FAILURE",
        "ASSET_CHECK_SEVERITY_ERROR",
        "ASSET_FRESHNESS_FAIL",
        "TICK_FAILURE",
    } <= events

    [run] = [p for p in by_name.values() if "JOB_FAILURE" in p["event_types"]]
    [job] = run["alert_targets"][0]["run_result_target"]["jobs"]
    assert (job["job_name"], job["location_name"]) == (COPY_JOB_NAME, location())

    for policy in by_name.values():
        if set(policy["event_types"]) & CATEGORIES["asset"]:
            [target] = policy["alert_targets"]
            assert target["asset_key_target"]["asset_key"] == list(BYOD_ASSET.path)

    [tick] = [p for p in by_name.values() if "TICK_FAILURE" in p["event_types"]]
    [sensor] = tick["alert_targets"][0]["schedule_or_sensor_target"]["schedules_or_sensors"]
    assert (sensor["name"], sensor["location_name"]) == (SENSOR_NAME, location())
    threshold = FocusSettings.model_fields["alert_after_failed_ticks"].default
    assert tick["policy_options"]["consecutive_failure_threshold"] == threshold


def test_deployment_doc_explains_both_routes() -> None:
    text = (ROOT / "docs" / "DEPLOYMENT.md").read_text()
    assert "deploy/dagster-plus/alert_policies.yaml" in text
    assert "FOCUS_ALERT_URLS" in text
