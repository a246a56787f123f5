"""Connections to OCI Object Storage and to the BYOD S3 bucket, plus transfer tuning.

Each resource owns its side: its client, its retry policy and its layout (the OCI day folders,
the S3 keys). Fields take their defaults and descriptions from the settings model, and values
reach the resources as ``EnvVar`` references wherever the variable is set, so the UI and run
config show variable names rather than values. AWS credentials are never settings here: they
come from the standard AWS chain (environment, profile, instance role).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

import boto3
import dagster as dg
from botocore.config import Config
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import construct_boto_client_retry_config
from pydantic import Field, SecretStr

from focus_pipeline.lib import alerts as lib_alerts
from focus_pipeline.lib import variables as var
from focus_pipeline.lib.errors import describe_oci_error, describe_s3_error
from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.oci_source import ApiKey, OciConnection, OciReportSource
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.sweep import (
    SweepResult,
    abort_uploads_of,
    list_prefix,
    sweep_stale_uploads,
)
from focus_pipeline.lib.transfer import MIB, TransferOptions
from focus_pipeline.settings import (
    SETTING_KEY,
    FocusSettings,
    SettingsError,
    env_name,
    setting_field,
)


class OciFocusReportsResource(dg.ConfigurableResource):
    """The OCI bucket where Oracle writes your tenancy's FOCUS reports."""

    namespace: str = setting_field("oci_namespace")
    bucket: str = setting_field("oci_bucket")
    prefix: str = setting_field("oci_prefix")
    region: str | None = setting_field("oci_region")
    auth: str = setting_field("oci_auth")
    config_file: str = setting_field("oci_config_file")
    profile: str = setting_field("oci_profile")
    user: str | None = setting_field("oci_user")
    fingerprint: str | None = setting_field("oci_fingerprint")
    # Secrets: only ever EnvVar references (see build_resources).
    private_key: str | None = setting_field("oci_private_key")
    private_key_passphrase: str | None = setting_field("oci_private_key_passphrase")
    endpoint: str | None = setting_field("oci_endpoint")
    max_retries: int = setting_field("max_retries")
    retry_backoff_seconds: float = setting_field("retry_backoff_seconds")

    def connection(self) -> OciConnection:
        api_key = None
        if self.auth == "api_key" and self.user and self.fingerprint and self.private_key:
            # The bucket of the FOCUS reports is the tenancy OCID the key belongs to.
            api_key = ApiKey(
                tenancy=self.bucket,
                user=self.user,
                fingerprint=self.fingerprint,
                private_key=self.private_key,
                passphrase=self.private_key_passphrase or None,
            )
        return OciConnection(
            auth=self.auth,  # type: ignore[arg-type]
            config_file=self.config_file,
            profile=self.profile,
            region=self.region or None,
            endpoint=self.endpoint or None,
            api_key=api_key,
        )

    def retry_policy(self) -> RetryPolicy:
        """OCI requests and the bodies that follow them retry under this policy."""
        return RetryPolicy(int(self.max_retries), float(self.retry_backoff_seconds))

    def layout(self) -> OciLayout:
        """Where the day folders are: the OCI side owns this layout."""
        return OciLayout(self.prefix)

    def source(self) -> OciReportSource:
        """A thread-safe reader; build one per run or tick and share it."""
        return OciReportSource(
            self.connection().build_client, self.namespace, self.bucket, self.retry_policy()
        )

    def describe_error(self, exc: BaseException) -> str:
        return describe_oci_error(exc, self.namespace, self.bucket)


class ByodS3Resource(S3Resource):
    """The Umbrella BYOD bucket and account path the reports are delivered to.

    Extends dagster-aws's ``S3Resource`` (credentials, region, endpoint) with the destination
    and a connection pool sized for parallel part uploads: botocore's default of 10 connections
    would be exhausted by a few files copying parts in parallel.

    Retries have one layer: the copy wraps every S3 call in :meth:`retry_policy` (full jitter,
    cancellable), so botocore's own retries are off. Both layers together would multiply
    attempts (6 x 6 = 36 per part with dagster-aws's default) and botocore's sleeps cannot be
    cut short when a run is terminated. botocore's
    ``max_attempts`` counts retries after the first attempt, whatever dagster-aws's field
    description says: 0 means one attempt.
    """

    max_attempts: int = Field(
        default=0,
        description="botocore retries per S3 call after the first attempt; 0 leaves retries "
        f"to {var.MAX_RETRIES} (a larger value multiplies the two layers).",
    )
    bucket: str = setting_field("s3_bucket")
    prefix: str = setting_field("s3_prefix")
    region_name: str | None = setting_field("s3_region")
    endpoint_url: str | None = setting_field("s3_endpoint_url")
    date_format: str = setting_field("date_format")
    name_separator: str = setting_field("name_separator")
    stale_upload_hours: int = setting_field("stale_upload_hours")
    max_retries: int = setting_field("max_retries")
    retry_backoff_seconds: float = setting_field("retry_backoff_seconds")
    # Parallel part uploads of several files: botocore's default of 10 would queue them.
    max_pool_connections: int = Field(default=64, description="HTTP connections to S3 per run.")

    def retry_policy(self) -> RetryPolicy:
        """Every S3 call of a run retries under this policy."""
        return RetryPolicy(int(self.max_retries), float(self.retry_backoff_seconds))

    def layout(self) -> S3Layout:
        """How keys are formed: the S3 side owns this layout."""
        return S3Layout(
            self.prefix,
            self.date_format,
            self.name_separator,
            bucket=self.bucket,
            endpoint=self.endpoint_url or "",
        )

    def describe_error(self, exc: BaseException) -> str:
        return describe_s3_error(exc, self.bucket)

    def abort_day_uploads(self, client: Any, day: dt.date, keys: set[str], log: Any) -> None:
        """Abort uploads of the day's keys left open by a run that died; call only as the
        day's one writer. Never fails the day: a refusal is a warning."""
        prefix = self.layout().day_key_prefix(day)
        try:
            result = abort_uploads_of(client, self.bucket, prefix, keys, retry=self.retry_policy())
        except Exception as exc:
            log.warning(f"Could not look for uploads left open: {self.describe_error(exc)}")
            return
        if result.aborted:
            log.warning(
                f"Aborted {len(result.aborted)} upload(s) left open by a run that died: "
                f"{result.aborted[:10]}"
            )

    def sweep_stale_uploads(self, client: Any, log: Any) -> SweepResult | None:
        """Abort multipart uploads that killed runs left under the prefix.

        Housekeeping, so it never fails the day: a refused listing (a BYOD key without
        s3:ListBucketMultipartUploads) or an unreachable S3 is a warning, and the copy goes on.
        """
        hours = int(self.stale_upload_hours)
        if hours <= 0:
            return None
        where = f"s3://{self.bucket}/{list_prefix(self.prefix)}"
        try:
            result = sweep_stale_uploads(
                client,
                self.bucket,
                self.prefix,
                dt.timedelta(hours=hours),
                retry=self.retry_policy(),
            )
        except Exception as exc:
            log.warning(
                f"Could not sweep stale multipart uploads under {where}: "
                f"{self.describe_error(exc)} The copy goes on."
            )
            return None
        if result.denied:
            log.warning(
                f"Could not list multipart uploads under {where} (ListMultipartUploads "
                f"answered {result.denied}), so uploads left open by killed runs are not "
                "aborted. Grant s3:ListBucketMultipartUploads (docs/reliability.md), or ask the "
                "bucket owner for an AbortIncompleteMultipartUpload lifecycle rule and set "
                f"{var.STALE_UPLOAD_HOURS}=0. The copy goes on."
            )
        elif result.aborted or result.failed:
            log.warning(
                f"Aborted {len(result.aborted)} multipart upload(s) under {where} idle for more "
                f"than {hours} h (left by killed runs): {result.aborted[:10]}"
                + (f"; could not abort {result.failed[:10]}" if result.failed else "")
            )
        return result

    def get_client(self, config: Config | None = None) -> Any:
        """A client with this resource's credentials and endpoint; ``config`` overrides the
        defaults (the connectivity check uses it to fail fast)."""
        session = boto3.session.Session(profile_name=self.profile_name)
        merged = construct_boto_client_retry_config(self.max_attempts).merge(
            Config(
                max_pool_connections=self.max_pool_connections,
                # Bodies go with botocore's CRC32 header (signed; S3 checks the body against
                # it) but no SHA-256 of the body in the signature. Over https this is
                # botocore's own default; over a plain http endpoint (a private S3-compatible
                # store) it saves hashing every byte (~15% of the copy's CPU), while the
                # CRC32 still catches corruption but not deliberate tampering, which plain
                # http does not guard against anyway: it sends the reports readable.
                s3={"payload_signing_enabled": False},
            )
        )
        if config is not None:
            merged = merged.merge(config)
        return session.client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            use_ssl=self.use_ssl,
            verify=self.verify,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            config=merged,
        )


class TransferResource(dg.ConfigurableResource):
    """How hard a run pushes (files at once, parts per file, part size) and how much of each
    copy's content it verifies beyond size and MD5 (the gzip check)."""

    max_concurrent_transfers: int = setting_field("max_concurrent_transfers")
    streams_per_file: int = setting_field("streams_per_file")
    part_size_mb: int = setting_field("part_size_mb")
    verify_gzip: str = setting_field("verify_gzip")

    def options(self) -> TransferOptions:
        return TransferOptions(
            part_size=int(self.part_size_mb) * MIB,
            streams_per_file=int(self.streams_per_file),
            max_concurrent_files=int(self.max_concurrent_transfers),
            verify_gzip=self.verify_gzip,  # type: ignore[arg-type]  # checked by TransferOptions
        )


class AlertsResource(dg.ConfigurableResource):
    """Sends alerts to the Apprise URLs of ``FOCUS_ALERT_URLS``; does nothing without them.

    ``urls`` is a secret (the URLs hold tokens): it is only ever an ``EnvVar`` reference, so
    the UI and run config show the variable's name. Every method returns whether the message
    was delivered, and never raises.
    """

    urls: str | None = setting_field("alert_urls")
    ui_url: str | None = setting_field("ui_url")

    def enabled(self) -> bool:
        return bool(lib_alerts.split_urls(self.urls))

    def _send(self, message: tuple[str, str], event: str, notify_type: str) -> bool:
        if not self.enabled():
            return False
        title, body = message
        return lib_alerts.send(self.urls or "", title, body, event=event, notify_type=notify_type)

    def run_failed(
        self, days: Sequence[str], reason: str, run_id: str, job_name: str | None = None
    ) -> bool:
        message = lib_alerts.run_failed(days, reason, run_id, self.ui_url, job_name)
        return self._send(message, "copy run failed", lib_alerts.FAILURE)

    def day_late(self, day: str, detail: str) -> bool:
        return self._send(lib_alerts.day_late(day, detail), "day late", lib_alerts.WARNING)

    def day_recovered(self, day: str, detail: str = "") -> bool:
        return self._send(
            lib_alerts.day_recovered(day, detail), "day recovered", lib_alerts.SUCCESS
        )

    def dead_run(self, run_id: str, day: str, message: str) -> bool:
        built = lib_alerts.dead_run(run_id, day, message, self.ui_url)
        return self._send(built, "dead run", lib_alerts.WARNING)

    def sensor_failing(self, n: int, reason: str, sensor: str | None = None) -> bool:
        built = lib_alerts.sensor_failing(n, reason, sensor)
        return self._send(built, "sensor failing", lib_alerts.FAILURE)

    def sensor_recovered(self, sensor: str | None = None) -> bool:
        return self._send(
            lib_alerts.sensor_recovered(sensor), "sensor recovered", lib_alerts.SUCCESS
        )


def _value(settings: FocusSettings, field: str) -> Any:
    """How a setting reaches a resource: secrets only as ``EnvVar``; others as ``EnvVar`` when
    the variable is set as validated, else the validated value.

    The UI and run config then show the variable's name instead of its value. Where validation
    normalised the value (a trailing slash added or stripped), the normalised value is passed,
    so the resource never sees a form the settings rejected.
    """
    value = getattr(settings, field)
    name = env_name(field)
    if isinstance(value, SecretStr):
        if name not in os.environ:
            raise SettingsError(
                f"{name} is set in .env but not in the environment: Dagster passes secrets as "
                "environment variables. Export it (dagster dev and focus-pipeline load .env "
                "themselves), or set it in your secret store."
            )
        # Its value never enters the definitions, run config or the UI; Dagster resolves it
        # in the process that uses it.
        return dg.EnvVar(name)
    raw = os.environ.get(name)
    if not raw or isinstance(value, bool) or raw != str(value):
        return value
    if isinstance(value, int):
        return dg.EnvVar.int(name)
    if isinstance(value, str):
        return dg.EnvVar(name)
    return value


RESOURCES: dict[str, type[dg.ConfigurableResource]] = {
    "oci": OciFocusReportsResource,
    "s3": ByodS3Resource,
    "transfer": TransferResource,
    # Harmless without FOCUS_ALERT_URLS: its methods then do nothing.
    "alerts": AlertsResource,
}


def settings_of(cls: type[dg.ConfigurableResource]) -> dict[str, str]:
    """A resource's fields that take a setting (declared with ``setting_field``), each with
    the setting's name."""
    found = {}
    for name, field in cls.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and SETTING_KEY in extra:
            found[name] = str(extra[SETTING_KEY])
    return found


def build_resources(settings: FocusSettings) -> dict[str, Any]:
    """Each resource with the settings its fields were declared with."""
    return {
        key: cls(**{f: _value(settings, s) for f, s in settings_of(cls).items()})
        for key, cls in RESOURCES.items()
    }
