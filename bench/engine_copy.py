"""The copy engine without Dagster: list one day and ``copy_all`` it, as the asset does.

A diagnostic, not a contender: it runs the same resources, built from the same
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

from focus_pipeline.defs.resources import build_resources
from focus_pipeline.lib.plan import plan_day
from focus_pipeline.lib.transfer import copy_all
from focus_pipeline.settings import load_settings


def main() -> int:
    day = dt.date.fromisoformat(sys.argv[1])
    resources = build_resources(load_settings())  # the pipeline's own, with its defaults
    with (
        resources["oci"].process_config_and_initialize_cm() as oci,
        resources["s3"].process_config_and_initialize_cm() as s3,
        resources["transfer"].process_config_and_initialize_cm() as transfer,
    ):
        started = time.monotonic()
        source = oci.source()
        listing = source.list(oci.layout().day_folder(day))
        plan = plan_day(day, listing, {}, oci.layout(), s3.layout())
        results, failures = copy_all(
            source,
            s3.get_client(),
            s3.bucket,
            plan.to_copy,
            transfer.options(),
            s3_retry=s3.retry_policy(),
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
