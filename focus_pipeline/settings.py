"""Every setting of the pipeline, read and validated in one place.

Settings come from ``FOCUS_*`` environment variables (and ``.env``, which ``dagster dev``
loads). They are validated when the definitions load, so a wrong value stops the code location
with a message that names the variable and what it expects, long before a run starts. The
message never repeats the value: some deployments put these in secret stores.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from focus_pipeline.lib import alerts, naming, retry, transfer
from focus_pipeline.lib.gzip_check import DEFAULT_VERIFY_GZIP, VERIFY_GZIP_MODES, GzipVerify
from focus_pipeline.lib.oci_source import (
    AUTH_MODES,
    DEFAULT_CONFIG_FILE,
    DEFAULT_PROFILE,
    OciAuth,
    load_api_key,
)
from focus_pipeline.lib.variables import ENV_PREFIX, variable

# ocid1.tenancy.<realm>..<unique id>; realms are oc1, oc2, ... and the region part is empty.
_TENANCY_OCID = re.compile(r"^ocid1\.tenancy\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]{20,}$")
# S3 bucket naming rules (general purpose buckets).
_S3_BUCKET = re.compile(r"^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,4}$")
_NAMESPACE = re.compile(r"^[a-z0-9-]{1,64}$")
_USER_OCID = re.compile(r"^ocid1\.user\.oc[0-9]+\.[a-z0-9-]*\.[a-z0-9]{20,}$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){15}$")
# The variables FOCUS_OCI_AUTH=api_key needs (the tenancy is FOCUS_OCI_BUCKET).
API_KEY_FIELDS = ("oci_user", "oci_fingerprint", "oci_private_key", "oci_region")


def default_start_date() -> dt.date:
    """OCI keeps a year of reports: start at the first of the month a year ago."""
    today = dt.datetime.now(dt.timezone.utc).date()
    return today.replace(year=today.year - 1, day=1)


class SettingsError(ValueError):
    """Raised with one line per invalid variable, naming it and what it expects."""


class FocusSettings(BaseSettings):
    """The pipeline's public configuration interface (see docs/CONFIG_REFERENCE.md)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
        # An empty line in .env (FOCUS_OCI_REGION=) means "use the default", not "empty".
        env_ignore_empty=True,
    )

    oci_namespace: str = Field("bling", description="Object Storage namespace of the reports.")
    oci_bucket: str = Field(description="Bucket holding the reports: your tenancy OCID.")
    oci_prefix: str = Field(
        naming.OCI_REPORTS_PREFIX, description="Where the day folders start in the bucket."
    )
    oci_region: str | None = Field(None, description="Home region; default from OCI config.")
    oci_auth: OciAuth = Field(
        "config_file", description=f"How to authenticate to OCI: {', '.join(AUTH_MODES)}."
    )
    oci_config_file: str = Field(DEFAULT_CONFIG_FILE, description="OCI config file.")
    oci_profile: str = Field(DEFAULT_PROFILE, description="Profile in the OCI config file.")
    # FOCUS_OCI_AUTH=api_key: the API key itself from the environment, for hosts where no
    # file can be mounted (Dagster+ Serverless). The key is a secret: SecretStr keeps it out of
    # reprs, and resources only ever get it as an EnvVar reference.
    oci_user: str | None = Field(None, description="User OCID of the API key (api_key auth).")
    oci_fingerprint: str | None = Field(None, description="API key fingerprint (api_key auth).")
    oci_private_key: SecretStr | None = Field(
        None, description="API private key, PEM text; \\n escapes allowed (api_key auth)."
    )
    oci_private_key_passphrase: SecretStr | None = Field(
        None, description="Pass phrase of an encrypted FOCUS_OCI_PRIVATE_KEY."
    )
    oci_endpoint: str | None = Field(None, description="Object Storage endpoint override.")

    s3_bucket: str = Field(description="Destination bucket.")
    s3_prefix: str = Field("", description="BYOD account path inside the bucket.")
    s3_region: str | None = Field(None, description="Destination region; default AWS chain.")
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint override.")

    start_date: dt.date = Field(default_factory=default_start_date, description="First day.")
    max_concurrent_transfers: int = Field(
        transfer.DEFAULT_CONCURRENT_FILES, ge=1, le=64, description="Files copied at once."
    )
    streams_per_file: int = Field(
        transfer.DEFAULT_STREAMS_PER_FILE, ge=1, le=32, description="Parts of one file in flight."
    )
    part_size_mb: int = Field(
        transfer.DEFAULT_PART_SIZE_MB,
        ge=transfer.S3_MIN_PART_SIZE // transfer.MIB,
        le=transfer.S3_MAX_PART_SIZE // transfer.MIB,
        description="Multipart part size in MiB (raised for files over 10,000 parts).",
    )
    max_retries: int = Field(
        retry.DEFAULT_MAX_RETRIES,
        ge=0,
        le=retry.MAX_RETRIES_LIMIT,
        description="Retries of one OCI or S3 request or part.",
    )
    retry_backoff_seconds: float = Field(
        retry.DEFAULT_BACKOFF_SECONDS,
        gt=0,
        le=retry.MAX_BACKOFF_SECONDS,
        description="First retry delay in seconds, doubled per retry (full jitter).",
    )
    verify_gzip: GzipVerify = Field(
        DEFAULT_VERIFY_GZIP,
        description="Which .gz reports are inflated as they copy, each gzip member's CRC32 and "
        f"length checked against its trailer: {', '.join(VERIFY_GZIP_MODES)} (multipart: "
        "those OCI lists without a whole-file MD5).",
    )
    step_retries: int = Field(3, ge=0, le=10, description="Dagster retries of a failed day.")
    step_retry_delay_seconds: int = Field(
        60, ge=0, le=3600, description="First delay before Dagster retries a failed day."
    )
    # A killed run cannot abort its multipart upload; each run aborts those under the prefix
    # idle this long. Far above the longest copy of one file; 0 turns the sweep off.
    stale_upload_hours: int = Field(
        24, ge=0, le=24 * 30, description="Abort multipart uploads idle this long (0: never)."
    )
    # Seconds are for tests and demos; OCI writes a few files a day.
    poll_interval_seconds: int = Field(600, ge=1, le=86400, description="Sensor interval.")
    lookback_days: int = Field(7, ge=1, le=365, description="Day folders the sensor re-lists.")
    # Self-healing (docs/reliability.md). Each accepts decimals so tests and demos can use
    # seconds; 0 switches it off.
    stalled_run_seconds: float = Field(
        900,
        ge=0,
        description="A copy run with no recorded progress for this long is dead: marked "
        "failed and its day copied again (0: never).",
    )
    failed_day_retry_seconds: float = Field(
        3600,
        ge=0,
        description="Wait before the sensor requests a failed or cancelled day again, "
        "doubled after each further failure up to a day (0: never).",
    )
    late_after_minutes: float = Field(
        120,
        gt=0,
        description="A day whose copy differs from OCI's folder for longer than this is late: "
        "its day_up_to_date check turns from WARN to ERROR.",
    )
    freshness_fail_hours: float = Field(
        30,
        gt=0,
        description="The copy asset's freshness policy fails when nothing was copied for this "
        "long (warns at half of it).",
    )
    owners: str = Field(
        "", description="Owners shown in the catalog: emails or team:name, comma-separated."
    )
    full_scan_hours: float = Field(
        24,
        ge=0,
        description="How often the sensor also compares every day since FOCUS_START_DATE "
        "with OCI (0: never).",
    )
    # Alerts (docs/DEPLOYMENT.md, "Alerts"). The URLs hold tokens: SecretStr keeps them out of
    # reprs and validation messages, and the resource only ever gets an EnvVar reference.
    alert_urls: SecretStr | None = Field(
        None,
        description="Apprise URLs alerts go to (Slack, Teams, email, PagerDuty, json:// "
        "webhooks, ...), separated by spaces or commas; unset: no alerts.",
    )
    ui_url: str | None = Field(
        None, description="Dagster UI base URL, for links to runs in alerts."
    )
    alert_after_failed_ticks: int = Field(
        3,
        ge=1,
        le=alerts.MAX_FAILED_TICKS,
        description="Consecutive failed ticks of the OCI sensor before one alert is sent.",
    )
    date_format: str = Field(
        naming.DEFAULT_DATE_FORMAT, description="strftime format of the day in the S3 key."
    )
    name_separator: str = Field(
        naming.DEFAULT_NAME_SEPARATOR, description="Between the day and the file name in the key."
    )

    @field_validator("owners")
    @classmethod
    def _owners(cls, v: str) -> str:
        for owner in (o.strip() for o in v.split(",")):
            if owner and "@" not in owner and not owner.startswith("team:"):
                raise ValueError("must be emails or team:<name>, comma-separated")
        return v

    @property
    def owner_list(self) -> list[str]:
        return [o.strip() for o in self.owners.split(",") if o.strip()]

    @field_validator("oci_bucket")
    @classmethod
    def _tenancy_ocid(cls, v: str) -> str:
        if not _TENANCY_OCID.match(v):
            raise ValueError("must be your tenancy OCID, like ocid1.tenancy.oc1..aaaa…")
        return v

    @field_validator("oci_user")
    @classmethod
    def _user_ocid(cls, v: str | None) -> str | None:
        if v is not None and not _USER_OCID.match(v):
            raise ValueError("must be the API key's user OCID, like ocid1.user.oc1..aaaa…")
        return v

    @field_validator("oci_fingerprint")
    @classmethod
    def _fingerprint(cls, v: str | None) -> str | None:
        if v is not None and not _FINGERPRINT.match(v.lower()):
            raise ValueError("must be the API key's fingerprint, 16 hex pairs like 12:ab:…")
        return v.lower() if v else v

    @model_validator(mode="after")
    def _api_key(self) -> FocusSettings:
        if self.oci_auth != "api_key":
            return self
        missing = [env_name(f) for f in API_KEY_FIELDS if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required when FOCUS_OCI_AUTH=api_key")
        assert self.oci_private_key is not None
        passphrase = self.oci_private_key_passphrase
        try:
            load_api_key(
                self.oci_private_key.get_secret_value(),
                passphrase.get_secret_value() if passphrase else None,
            )
        except ValueError as exc:
            raise ValueError(f"FOCUS_OCI_PRIVATE_KEY: {exc}") from None
        return self

    @field_validator("oci_namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not _NAMESPACE.match(v):
            raise ValueError("must be an Object Storage namespace (FOCUS reports: 'bling')")
        return v

    @field_validator("oci_region", "s3_region", mode="before")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not _REGION.match(v):
            raise ValueError("must be a region identifier like us-ashburn-1 or eu-west-1")
        return v

    @field_validator("oci_endpoint", "s3_endpoint_url", mode="before")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^https?://[^/?#\s]+/?$", v):
            raise ValueError("must be a URL like https://host[:port] with no path or query")
        return v.rstrip("/")

    @field_validator("alert_urls")
    @classmethod
    def _alert_urls(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        problem = alerts.url_list_problem(v.get_secret_value())
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("ui_url", mode="before")
    @classmethod
    def _ui_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^https?://[^/?#\s]+(/[^?#\s]*)?$", v):
            raise ValueError("must be the Dagster UI's address, like https://dagster.example.com")
        return v.rstrip("/")

    @field_validator("oci_prefix")
    @classmethod
    def _oci_prefix(cls, v: str) -> str:
        return naming.normalize_oci_prefix(v)

    @field_validator("s3_bucket")
    @classmethod
    def _s3_bucket(cls, v: str) -> str:
        if not _S3_BUCKET.match(v) or ".." in v:
            raise ValueError("must be an S3 bucket name (3-63 lower-case letters, digits, . -)")
        return v

    @field_validator("s3_prefix")
    @classmethod
    def _s3_prefix(cls, v: str) -> str:
        return naming.normalize_s3_prefix(v)

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str) -> str:
        naming.validate_date_format(v)
        return v

    @field_validator("name_separator")
    @classmethod
    def _separator(cls, v: str) -> str:
        naming.validate_separator(v)
        return v


def env_name(field: str) -> str:
    """The variable that sets ``field``."""
    return variable(field)


def load_settings(**overrides: object) -> FocusSettings:
    """Read the settings, or raise :class:`SettingsError` naming every bad variable."""
    try:
        return FocusSettings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False, include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            if not err["loc"]:  # a rule across variables: its message names them
                lines.append(msg)
                continue
            field = str(err["loc"][0])
            if err["type"] == "missing":
                msg = f"is required: {FocusSettings.model_fields[field].description}"
            lines.append(f"{env_name(field)}: {msg}")
        raise SettingsError(
            "Invalid focus-pipeline settings (see .env.example):\n  " + "\n  ".join(lines)
        ) from None


# The key under which a resource field names the setting it takes (see setting_field).
SETTING_KEY = "focus_setting"


def setting_field(name: str) -> Any:
    """A resource field with the default and description of the setting ``name``: both are
    written once, here, and the field remembers which setting fills it. No bounds: resource
    values arrive as EnvVar references, checked only at launch; the settings model validates
    the variables when the definitions load."""
    field = FocusSettings.model_fields[name]
    extra = {SETTING_KEY: name}
    if field.is_required():
        return Field(description=field.description, json_schema_extra=extra)
    return Field(
        default=field.get_default(), description=field.description, json_schema_extra=extra
    )
