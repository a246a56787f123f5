"""What the catalog shows: freshness, where the data lives, owners, kinds, the per-day checks."""

from __future__ import annotations

import dagster as dg

from focus_pipeline.defs import build_definitions, checks, state
from focus_pipeline.settings import load_settings


def test_the_copy_asset_carries_freshness_uri_owners_and_kinds(focus_env, monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_OWNERS", "finops@acme.example, team:platform")
    monkeypatch.setenv("FOCUS_FRESHNESS_FAIL_HOURS", "30")
    defs = build_definitions(load_settings())
    byod = defs.get_assets_def("byod_focus_reports")
    spec = byod.specs_by_key[state.BYOD_ASSET]
    policy = spec.freshness_policy
    assert policy.fail_window.to_timedelta().total_seconds() == 30 * 3600
    assert policy.warn_window.to_timedelta().total_seconds() == 15 * 3600
    bucket = focus_env["FOCUS_S3_BUCKET"]
    assert spec.metadata["dagster/uri"] == f"s3://{bucket}/byod/acct-1/"
    assert spec.owners == ["finops@acme.example", "team:platform"]
    assert "s3" in spec.kinds
    assert "dagster/code_references" in spec.metadata

    oci = defs.resolve_asset_graph().get(state.OCI_ASSET)
    tenancy = focus_env["FOCUS_OCI_BUCKET"]
    assert oci.metadata["dagster/uri"] == f"oci://bling@{tenancy}/FOCUS Reports/"
    assert "oracle" in oci.kinds and oci.owners == spec.owners


def test_every_check_is_per_day(focus_env) -> None:
    defs = build_definitions(load_settings())
    graph = defs.resolve_asset_graph()
    names = set()
    for key in graph.asset_check_keys:
        names.add(key.name)
        assert graph.get_check_spec(key).partitions_def is not None, key.name
    assert names == {
        checks.ALL_REPORTS_COPIED,
        checks.NO_UNEXPECTED_OBJECTS,
        checks.REPORTS_ARE_FOCUS,
        checks.DAY_UP_TO_DATE,
    }
    assert defs.resolve_job_def("focus_health_job").partitions_def is not None
    assert isinstance(defs.resolve_job_def("focus_copy_job"), dg.JobDefinition)
