"""Settings: every bad value is named, none is echoed."""

import pytest

from focus_pipeline.settings import SettingsError, load_settings
from oci_emulator import make_api_key

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


USER = "ocid1.user.oc1..aaaaaaaasettingstestuser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk5rc"
FINGERPRINT = "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"


def _pem(pass_phrase: str | None = None) -> str:
    return make_api_key(pass_phrase).private_pem


def _api_key_env(monkeypatch, **overrides: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FOCUS_OCI_BUCKET", OCID)
    monkeypatch.setenv("FOCUS_S3_BUCKET", "byod-bucket")
    monkeypatch.setenv("FOCUS_OCI_AUTH", "api_key")
    for var, value in overrides.items():
        monkeypatch.setenv(var, value)


def test_api_key_mode_names_every_missing_variable(monkeypatch) -> None:
    _api_key_env(monkeypatch, FOCUS_OCI_USER=USER)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert (
        "FOCUS_OCI_FINGERPRINT, FOCUS_OCI_PRIVATE_KEY, FOCUS_OCI_REGION: required when "
        "FOCUS_OCI_AUTH=api_key"
    ) in str(err.value)


def test_api_key_pem_with_escaped_newlines_and_pass_phrase_is_accepted(monkeypatch) -> None:
    pem = _pem("s3cret-phrase")
    _api_key_env(
        monkeypatch,
        FOCUS_OCI_USER=USER,
        FOCUS_OCI_FINGERPRINT=FINGERPRINT.upper(),
        FOCUS_OCI_REGION="us-ashburn-1",
        FOCUS_OCI_PRIVATE_KEY=pem.replace("\n", "\\n"),
        FOCUS_OCI_PRIVATE_KEY_PASSPHRASE="s3cret-phrase",
    )
    s = load_settings()
    assert s.oci_fingerprint == FINGERPRINT
    assert "PRIVATE KEY" not in repr(s) and "s3cret" not in repr(s)


@pytest.mark.parametrize(
    ("key", "pass_phrase", "message"),
    [
        ("not a key at all", None, "is not a PEM private key"),
        (_pem("right-phrase"), "wrong-phrase", "could not be loaded"),
        (_pem("right-phrase"), None, "could not be loaded"),
    ],
)
def test_a_bad_api_key_is_named_and_never_echoed(monkeypatch, key, pass_phrase, message) -> None:
    extra = {"FOCUS_OCI_PRIVATE_KEY_PASSPHRASE": pass_phrase} if pass_phrase else {}
    _api_key_env(
        monkeypatch,
        FOCUS_OCI_USER=USER,
        FOCUS_OCI_FINGERPRINT=FINGERPRINT,
        FOCUS_OCI_REGION="us-ashburn-1",
        FOCUS_OCI_PRIVATE_KEY=key,
        **extra,
    )
    with pytest.raises(SettingsError) as err:
        load_settings()
    text = str(err.value)
    assert f"FOCUS_OCI_PRIVATE_KEY: {message}" in text
    body = [line for line in key.splitlines() if len(line) == 64]
    assert not any(line in text for line in body) and "phrase" not in text
    # A traceback shows no chained error, and the suppressed one holds no input either.
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not any(line in str(err.value.__context__) for line in body)
