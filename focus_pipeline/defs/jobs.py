"""The jobs: ``focus_copy_job`` copies days; ``check_connectivity`` checks access.

``focus_copy_job`` is the one name every launch uses (the sensor, ``focus-pipeline sync``,
``dg launch --job focus_copy_job``), so alerts and run filters have a stable job to match.

``check_connectivity``: launch it from the UI (Jobs > check_connectivity) after changing
credentials or policies: it runs on the same machine, with the same resources and environment,
as the copy runs do, which is where a missing variable or policy actually bites.
``focus-pipeline check`` runs the same checks from a terminal (see focus_pipeline/cli.py).
"""

import dagster as dg
from botocore.config import Config

from focus_pipeline.defs.resources import ByodS3Resource, OciFocusReportsResource
from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.lib.connectivity import CheckResult, check_oci, check_s3

COPY_JOB_NAME = "focus_copy_job"

focus_copy_job = dg.define_asset_job(
    name=COPY_JOB_NAME,
    selection=dg.AssetSelection.assets(BYOD_ASSET),
    description="Copies the FOCUS reports of one day (a partition) from OCI into the BYOD bucket.",
)


# A check answers in seconds or says why not: two attempts and short timeouts, unlike the copy
# (whose client retries for minutes). An unreachable endpoint fails in about 20 s at worst.
CHECK_S3_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=10, read_timeout=20
)


def run_checks(oci: OciFocusReportsResource, s3: ByodS3Resource) -> list[CheckResult]:
    """The OCI and S3 checks, both always run so one pass reports every problem."""
    return [
        check_oci(oci.connection(), oci.namespace, oci.bucket, oci.layout().prefix),
        check_s3(lambda: s3.get_client(CHECK_S3_CONFIG), s3.bucket, s3.layout().prefix),
    ]


@dg.op(
    name="check_oci_and_s3",
    description="List one page of the OCI FOCUS prefix; start and abort an S3 multipart upload.",
)
def check_oci_and_s3(
    context: dg.OpExecutionContext, oci: OciFocusReportsResource, s3: ByodS3Resource
) -> list[dict[str, object]]:
    # The settings were validated when the code location loaded; a bad one stops it earlier.
    results = run_checks(oci, s3)
    for result in results:
        if result.ok:
            context.log.info(result.line)
        else:
            context.log.error(result.line)
    failed = [r for r in results if not r.ok]
    if failed:
        raise dg.Failure(
            description="\n".join(r.line for r in failed),
            metadata={
                "failed": [r.name for r in failed],
                "passed": [r.name for r in results if r.ok],
            },
            allow_retries=False,
        )
    return [r.as_dict() for r in results]


@dg.job(
    name="check_connectivity",
    description=(
        "Connectivity check: OCI credentials and cross-tenancy policy, and write access to "
        "the BYOD S3 prefix. Creates, reads and lists no object."
    ),
    tags={"focus_pipeline/kind": "check"},
)
def check_connectivity() -> None:
    check_oci_and_s3()
