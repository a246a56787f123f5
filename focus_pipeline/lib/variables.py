"""The names of the ``FOCUS_*`` environment variables, written once.

Messages in ``lib/`` name the variable a user should fix; the settings model reads exactly these
variables (``settings.py`` derives every name with :func:`variable`, and a unit test checks that
each name here is a field of the model), so a renamed setting cannot leave a stale hint behind.
"""

from __future__ import annotations

ENV_PREFIX = "FOCUS_"


def variable(field: str) -> str:
    """The environment variable of a settings field: ``oci_bucket`` -> ``FOCUS_OCI_BUCKET``."""
    return f"{ENV_PREFIX}{field.upper()}"


OCI_NAMESPACE = variable("oci_namespace")
OCI_BUCKET = variable("oci_bucket")
OCI_PREFIX = variable("oci_prefix")
OCI_REGION = variable("oci_region")
OCI_AUTH = variable("oci_auth")
OCI_CONFIG_FILE = variable("oci_config_file")
OCI_PROFILE = variable("oci_profile")
OCI_USER = variable("oci_user")
OCI_FINGERPRINT = variable("oci_fingerprint")
OCI_PRIVATE_KEY = variable("oci_private_key")
OCI_PRIVATE_KEY_PASSPHRASE = variable("oci_private_key_passphrase")
OCI_ENDPOINT = variable("oci_endpoint")
S3_BUCKET = variable("s3_bucket")
S3_PREFIX = variable("s3_prefix")
S3_REGION = variable("s3_region")
S3_ENDPOINT_URL = variable("s3_endpoint_url")
MAX_CONCURRENT_TRANSFERS = variable("max_concurrent_transfers")
STREAMS_PER_FILE = variable("streams_per_file")
PART_SIZE_MB = variable("part_size_mb")
MAX_RETRIES = variable("max_retries")
RETRY_BACKOFF_SECONDS = variable("retry_backoff_seconds")
VERIFY_GZIP = variable("verify_gzip")
STALE_UPLOAD_HOURS = variable("stale_upload_hours")
STALLED_RUN_SECONDS = variable("stalled_run_seconds")
FAILED_DAY_RETRY_SECONDS = variable("failed_day_retry_seconds")
FULL_SCAN_HOURS = variable("full_scan_hours")
START_DATE = variable("start_date")
LATE_AFTER_MINUTES = variable("late_after_minutes")
FRESHNESS_FAIL_HOURS = variable("freshness_fail_hours")
ALERT_URLS = variable("alert_urls")
UI_URL = variable("ui_url")
ALERT_AFTER_FAILED_TICKS = variable("alert_after_failed_ticks")
