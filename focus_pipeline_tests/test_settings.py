"""Settings: every bad value is named, none is echoed."""

import pytest

from focus_pipeline.settings import SettingsError, load_settings

OCID = "ocid1.tenancy.oc1..aaaaaaaaned4fkpkisbwjlr56u7cj63lf3wffbilvqknstgtvzub7vhqkggq"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    for key in list(os.environ):
        if key.startswith("FOCUS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_with_the_two_required_variables(monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_OCI_BUCKET", OCID)
    monkeypatch.setenv("FOCUS_S3_BUCKET", "byod-bucket")
    s = load_settings()
    assert (s.oci_namespace, s.oci_prefix, s.oci_auth) == ("bling", "FOCUS Reports/", "config_file")
    assert (s.max_concurrent_transfers, s.poll_interval_seconds, s.lookback_days) == (4, 600, 7)
    assert (s.date_format, s.name_separator, s.s3_prefix) == ("%Y-%m-%d", "_", "")
    assert s.start_date.day == 1


def test_missing_variables_are_named() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings()
    text = str(err.value)
    assert "FOCUS_OCI_BUCKET: is required" in text
    assert "FOCUS_S3_BUCKET: is required" in text


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("FOCUS_OCI_BUCKET", "my-bucket-secret-value", "must be your tenancy OCID"),
        ("FOCUS_S3_BUCKET", "Bad_Bucket", "must be an S3 bucket name"),
        ("FOCUS_S3_REGION", "mars", "must be a region identifier"),
        ("FOCUS_OCI_REGION", "US EAST", "must be a region identifier"),
        ("FOCUS_NAME_SEPARATOR", "sep/zz", "must not contain '/'"),
        ("FOCUS_DATE_FORMAT", "%Y-%m-zz", "identify the day"),
        ("FOCUS_MAX_CONCURRENT_TRANSFERS", "-1", "greater than or equal to 1"),
        ("FOCUS_PART_SIZE_MB", "2", "greater than or equal to 5"),
        ("FOCUS_OCI_AUTH", "password", "config_file"),
        ("FOCUS_OCI_ENDPOINT", "http://host/path?x=1", "no path or query"),
        ("FOCUS_START_DATE", "yesterday", "date"),
    ],
)
def test_invalid_values_name_the_variable_and_never_echo_the_value(
    monkeypatch, var: str, value: str, message: str
) -> None:
    monkeypatch.setenv("FOCUS_OCI_BUCKET", OCID)
    monkeypatch.setenv("FOCUS_S3_BUCKET", "byod-bucket")
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    text = str(err.value)
    assert f"{var}: " in text and message in text
    assert value not in text.replace(f"{var}:", "")


def test_prefixes_are_normalised(monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_OCI_BUCKET", OCID)
    monkeypatch.setenv("FOCUS_S3_BUCKET", "byod-bucket")
    monkeypatch.setenv("FOCUS_OCI_PREFIX", "FOCUS Reports")
    monkeypatch.setenv("FOCUS_S3_PREFIX", "/acct/1/")
    s = load_settings()
    assert (s.oci_prefix, s.s3_prefix) == ("FOCUS Reports/", "acct/1")


def test_dotenv_is_read_and_empty_lines_mean_default(tmp_path) -> None:
    (tmp_path / ".env").write_text(
        f"FOCUS_OCI_BUCKET={OCID}\nFOCUS_S3_BUCKET=from-dotenv\nFOCUS_OCI_REGION=\n"
        "FOCUS_START_DATE=\nFOCUS_OCI_PREFIX=FOCUS Reports/\n"
    )
    s = load_settings()
    assert s.s3_bucket == "from-dotenv"
    assert s.oci_region is None and s.oci_prefix == "FOCUS Reports/"
    assert s.start_date.day == 1
