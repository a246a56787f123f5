"""The copy engine without Dagster: list one day and ``copy_all`` it, as the asset does.

A diagnostic, not a contender of issue 5: it runs the same resources, built from the same
``FOCUS_*`` environment with the same defaults, minus the run around them (start-up, the
checkpoint events the asset writes to the event log, the sweep of stale uploads).
The gap between its figure and the pipeline's copy-only figure is what the orchestration costs.

    python bench/engine_copy.py DAY   (prints one JSON line: seconds, bytes, files)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

from focus_pipeline.defs.resources import (
    ByodS3Resource,
    OciFocusReportsResource,
    TransferResource,
    naming_for,
)
from focus_pipeline.lib.plan import plan_day
from focus_pipeline.lib.transfer import copy_all
from focus_pipeline.settings import load_settings


def main() -> int:
    day = dt.date.fromisoformat(sys.argv[1])
    s = load_settings()
    oci = OciFocusReportsResource(
        bucket=s.oci_bucket,
        namespace=s.oci_namespace,
        config_file=s.oci_config_file,
        endpoint=s.oci_endpoint,
    )
    s3 = ByodS3Resource(
        bucket=s.s3_bucket,
        prefix=s.s3_prefix,
        endpoint_url=s.s3_endpoint_url,
        region_name=s.s3_region,
    )
    transfer = TransferResource()  # the defaults, as the pipeline runs them
    started = time.monotonic()
    naming = naming_for(oci, s3)
    source = oci.source()
    plan = plan_day(day, source.list(naming.day_folder(day)), {}, naming)
    results, failures = copy_all(
        source, s3.get_client(), s3.bucket, plan.to_copy, transfer.options()
    )
    seconds = time.monotonic() - started
    if failures:
        print(f"{len(failures)} failed: {failures[0].error!r}", file=sys.stderr)
        return 1
    out = {
        "seconds": seconds,
        "bytes": sum(r.source.size for r in results),
        "files": len(results),
        "pid": os.getpid(),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
