"""What the test layers share: constants, helpers, Dagster instances, the OCI client, the S3
fault proxy and the IAM-enforcing S3.

Test files import from here (``from focus_pipeline_tests.support import TENANCY``), never from
``conftest``; the fixtures themselves are registered by ``focus_pipeline_tests/conftest.py``.
The IAM fixture and its policies live in :mod:`focus_pipeline_tests.support.iam`.
"""

from focus_pipeline_tests.support.constants import NAMESPACE, REGION, ROOT, TENANCY
from focus_pipeline_tests.support.helpers import (
    WAIT_SECONDS,
    b64md5,
    focus_environment,
    free_port,
    open_upload_keys,
    open_uploads,
    s3_contents,
    start_upload,
    wait_for_port,
    wait_until,
)
from focus_pipeline_tests.support.instances import dagster_home, environ, postgres_reason
from focus_pipeline_tests.support.oci import make_client, make_oci_config
from focus_pipeline_tests.support.retry_log import RetryLog
from focus_pipeline_tests.support.s3_fault_proxy import S3Fault, S3FaultProxy

__all__ = [
    "NAMESPACE",
    "REGION",
    "ROOT",
    "TENANCY",
    "WAIT_SECONDS",
    "RetryLog",
    "S3Fault",
    "S3FaultProxy",
    "b64md5",
    "dagster_home",
    "environ",
    "focus_environment",
    "free_port",
    "make_client",
    "make_oci_config",
    "open_upload_keys",
    "open_uploads",
    "postgres_reason",
    "s3_contents",
    "start_upload",
    "wait_for_port",
    "wait_until",
]
