"""Connections to OCI Object Storage and to the BYOD S3 bucket, plus transfer tuning.

Values reach the resources as ``EnvVar`` references wherever the variable is set, so the UI and
run config show variable names rather than values. AWS credentials are never settings here: they
come from the standard AWS chain (environment, profile, instance role).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import dagster as dg
from botocore.config import Config
from dagster_aws.s3 import S3Resource
from dagster_aws.utils import construct_boto_client_retry_config
from pydantic import Field

from focus_pipeline.lib.naming import Naming
from focus_pipeline.lib.oci_source import ApiKey, OciConnection, OciReportSource
from focus_pipeline.lib.retry import RetryPolicy
from focus_pipeline.lib.transfer import MIB, TransferOptions
from focus_pipeline.settings import FocusSettings, SettingsError, env_name


class OciFocusReportsResource(dg.ConfigurableResource):
    """The OCI bucket where Oracle writes your tenancy's FOCUS reports."""

    namespace: str = Field(default="bling", description="Object Storage namespace (Oracle's).")
    bucket: str = Field(description="Bucket holding the reports: your tenancy OCID.")
    prefix: str = Field(default="FOCUS Reports/", description="Where the day folders start.")
    region: str | None = Field(default=None, description="Home region; default from the config.")
    auth: str = Field(
        default="config_file",
        description="config_file, api_key, instance_principal, resource_principal or "
        "security_token.",
    )
    config_file: str = Field(default="~/.oci/config", description="OCI config file path.")
    profile: str = Field(default="DEFAULT", description="Profile in the OCI config file.")
    user: str | None = Field(default=None, description="User OCID of the API key (api_key).")
    fingerprint: str | None = Field(default=None, description="API key fingerprint (api_key).")
    private_key: str | None = Field(
        default=None,
        description="API private key PEM (api_key); only ever EnvVar('FOCUS_OCI_PRIVATE_KEY').",
    )
    private_key_passphrase: str | None = Field(
        default=None,
        description="Its pass phrase; only ever EnvVar('FOCUS_OCI_PRIVATE_KEY_PASSPHRASE').",
    )
    endpoint: str | None = Field(default=None, description="Endpoint override (emulator, PE).")
    # No pydantic bounds here: values arrive as EnvVar references, checked only at launch;
    # FocusSettings validates the variables at load and retry_policy() re-checks overrides.
    max_retries: int = Field(default=5, description="Retries of one request or ranged read.")
    retry_backoff_seconds: float = Field(default=1.0, description="First retry delay, doubled.")

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
            auth=self.auth,
            config_file=self.config_file,
            profile=self.profile,
            region=self.region or None,
            endpoint=self.endpoint or None,
            api_key=api_key,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(int(self.max_retries), float(self.retry_backoff_seconds))

    def source(self) -> OciReportSource:
        """A thread-safe reader; build one per run or tick and share it."""
        return OciReportSource(
            self.connection().build_client, self.namespace, self.bucket, self.retry_policy()
        )


class ByodS3Resource(S3Resource):
    """The Umbrella BYOD bucket and account path the reports are delivered to.

    Extends dagster-aws's ``S3Resource`` (credentials, region, endpoint) with the destination
    and a connection pool sized for parallel part uploads: botocore's default of 10 connections
    would be exhausted by a few files copying parts in parallel.

    Retries have one layer: the copy wraps every S3 call in ``FOCUS_MAX_RETRIES`` /
    ``FOCUS_RETRY_BACKOFF_SECONDS`` (full jitter, cancellable), so botocore's own retries are
    off. Both layers together would multiply attempts (6 x 6 = 36 per part with dagster-aws's
    default) and botocore's sleeps cannot be cut short when a run is terminated. botocore's
    ``max_attempts`` counts retries after the first attempt, whatever dagster-aws's field
    description says: 0 means one attempt.
    """

    max_attempts: int = Field(
        default=0,
        description="botocore retries per S3 call after the first attempt; 0 leaves retries "
        "to FOCUS_MAX_RETRIES (a larger value multiplies the two layers).",
    )
    bucket: str = Field(description="Destination bucket.")
    prefix: str = Field(default="", description="BYOD account path inside the bucket.")
    date_format: str = Field(default="%Y-%m-%d", description="strftime format of the key's day.")
    name_separator: str = Field(default="_", description="Between the day and the file name.")
    max_pool_connections: int = Field(default=64, description="HTTP connections to S3 per run.")
    stale_upload_hours: int = Field(
        default=24,
        description="Each run aborts multipart uploads under the prefix idle this long, left "
        "by killed runs (0: never; needs s3:ListBucketMultipartUploads).",
    )

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
    """How hard a run pushes: files at once, parts per file and part size."""

    max_concurrent_transfers: int = Field(default=4, description="Files copied at once.")
    # The same defaults as FocusSettings (settings.py says why).
    streams_per_file: int = Field(default=8, description="Parts of one file in flight at once.")
    part_size_mb: int = Field(default=5, description="Part size in MiB (raised for huge files).")

    def options(self) -> TransferOptions:
        return TransferOptions(
            part_size=int(self.part_size_mb) * MIB,
            streams_per_file=int(self.streams_per_file),
            max_concurrent_files=int(self.max_concurrent_transfers),
        )


def naming_for(oci: OciFocusReportsResource, s3: ByodS3Resource) -> Naming:
    return Naming(
        oci_prefix=oci.prefix,
        s3_prefix=s3.prefix,
        date_format=s3.date_format,
        separator=s3.name_separator,
    )


def _env(settings: FocusSettings, field: str) -> Any:
    """``EnvVar`` when the variable is set as validated, else the validated value.

    The UI and run config then show the variable's name instead of its value. Where validation
    normalised the value (a trailing slash added or stripped), the normalised value is passed,
    so the resource never sees a form the settings rejected.
    """
    value = getattr(settings, field)
    name = env_name(field)
    raw = os.environ.get(name)
    if not raw or isinstance(value, bool) or raw != str(value):
        return value
    if isinstance(value, int):
        return dg.EnvVar.int(name)
    if isinstance(value, str):
        return dg.EnvVar(name)
    return value


def _secret(settings: FocusSettings, field: str) -> dg.EnvVar | None:
    """A secret setting, only ever as an ``EnvVar``: its value never enters the definitions,
    run config or the UI, and Dagster resolves it in the process that uses it."""
    if getattr(settings, field) is None:
        return None
    name = env_name(field)
    if name not in os.environ:
        raise SettingsError(
            f"{name} is set in .env but not in the environment: Dagster passes secrets as "
            "environment variables. Export it (dagster dev and focus-pipeline load .env "
            "themselves), or set it in your secret store."
        )
    return dg.EnvVar(name)


def build_resources(settings: FocusSettings) -> dict[str, Any]:
    def env(field: str) -> Any:
        return _env(settings, field)

    return {
        "oci": OciFocusReportsResource(
            namespace=env("oci_namespace"),
            bucket=env("oci_bucket"),
            prefix=env("oci_prefix"),
            region=env("oci_region"),
            auth=env("oci_auth"),
            config_file=env("oci_config_file"),
            profile=env("oci_profile"),
            user=env("oci_user"),
            fingerprint=env("oci_fingerprint"),
            private_key=_secret(settings, "oci_private_key"),
            private_key_passphrase=_secret(settings, "oci_private_key_passphrase"),
            endpoint=env("oci_endpoint"),
            max_retries=env("max_retries"),
            retry_backoff_seconds=settings.retry_backoff_seconds,
        ),
        "s3": ByodS3Resource(
            bucket=env("s3_bucket"),
            prefix=env("s3_prefix"),
            region_name=env("s3_region"),
            endpoint_url=env("s3_endpoint_url"),
            date_format=env("date_format"),
            name_separator=env("name_separator"),
            stale_upload_hours=env("stale_upload_hours"),
        ),
        "transfer": TransferResource(
            max_concurrent_transfers=env("max_concurrent_transfers"),
            streams_per_file=env("streams_per_file"),
            part_size_mb=env("part_size_mb"),
        ),
    }
