"""The connectivity checks where no server is needed: settings, the check's S3 key, and
endpoints nobody listens on (against the servers: integration/test_connectivity.py)."""

from __future__ import annotations

from focus_pipeline.cli import check_settings
from focus_pipeline.lib.connectivity import CHECK_KEY_PREFIX, check_oci, check_s3
from focus_pipeline.lib.oci_source import OciConnection
from focus_pipeline_tests.support import NAMESPACE, REGION, TENANCY, free_port

PREFIX = "FOCUS Reports/"


def test_oci_check_unreachable_endpoint(oci_config_file) -> None:
    conn = OciConnection(
        config_file=str(oci_config_file), endpoint=f"http://127.0.0.1:{free_port()}"
    )
    result = check_oci(conn, NAMESPACE, TENANCY, PREFIX)
    assert not result.ok
    assert "could not be reached (RequestException)" in result.message
    assert "FOCUS_OCI_ENDPOINT" in result.message


def test_s3_check_key_is_under_the_prefix_and_never_a_report_name() -> None:
    from focus_pipeline.lib.connectivity import check_key

    key = check_key("/byod/acct-1/")
    assert (
        key.startswith(f"byod/acct-1/{CHECK_KEY_PREFIX}")
        and len(key) == len(f"byod/acct-1/{CHECK_KEY_PREFIX}") + 32
    )
    assert check_key("").startswith(CHECK_KEY_PREFIX)
    assert check_key("p") != check_key("p")


def test_s3_check_connection_refused() -> None:
    from focus_pipeline.defs.jobs import CHECK_S3_CONFIG
    from focus_pipeline.defs.resources import ByodS3Resource

    s3 = ByodS3Resource(
        bucket="byod", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name=REGION
    )
    result = check_s3(lambda: s3.get_client(CHECK_S3_CONFIG), "byod", "acct")
    assert not result.ok
    assert result.message.startswith(
        "S3 bucket 'byod' could not be reached (EndpointConnectionError): check "
        "FOCUS_S3_ENDPOINT_URL"
    )


def test_settings_check_names_each_bad_variable(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("FOCUS_S3_BUCKET", raising=False)
    monkeypatch.setenv("FOCUS_OCI_BUCKET", "not-an-ocid")
    settings, results = check_settings()
    assert settings is None
    lines = [r.line for r in results]
    assert any(
        ln.startswith("FAIL settings: FOCUS_OCI_BUCKET: must be your tenancy OCID") for ln in lines
    )
    assert "FAIL settings: FOCUS_S3_BUCKET: is required: Destination bucket." in lines
    assert not any("not-an-ocid" in ln for ln in lines)
