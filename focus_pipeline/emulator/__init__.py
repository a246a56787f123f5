"""Local stand-in for OCI Object Storage and the FOCUS reports Oracle writes into it.

Kept free of dagster and of any third-party runtime dependency so it can run anywhere: in a
test process, as ``python -m focus_pipeline.emulator`` next to a demo, or in a benchmark.
"""

from focus_pipeline.emulator.oci_server import (
    BucketNotFoundError,
    Fault,
    ObjectRecord,
    OciEmulator,
    RequestLog,
    RequestRecord,
)

__all__ = [
    "BucketNotFoundError",
    "Fault",
    "ObjectRecord",
    "OciEmulator",
    "RequestLog",
    "RequestRecord",
]
