"""Checks that run with every copy and show in the UI next to each day.

They are computed from the same plan and results as the copy itself, so they cost no extra
request to OCI or S3 (the destination may not even allow reading).
"""

from __future__ import annotations

import dagster as dg

from focus_pipeline.defs.state import BYOD_ASSET
from focus_pipeline.lib.outcome import DayOutcome

ALL_REPORTS_COPIED = "all_reports_copied"
NO_UNEXPECTED_OBJECTS = "no_unexpected_objects"

CHECK_SPECS = [
    dg.AssetCheckSpec(
        ALL_REPORTS_COPIED,
        asset=BYOD_ASSET,
        description="Every report in the OCI day folder is in S3 in its current version.",
    ),
    dg.AssetCheckSpec(
        NO_UNEXPECTED_OBJECTS,
        asset=BYOD_ASSET,
        description="The OCI day folder holds only objects that fit the FOCUS layout; others are "
        "skipped and listed here.",
    ),
]


def check_results(outcome: DayOutcome) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=ALL_REPORTS_COPIED,
            asset_key=BYOD_ASSET,
            passed=not outcome.missing,
            metadata={
                "missing": outcome.missing,
                "reports": len(outcome.listing) - len(outcome.skipped),
            },
        ),
        dg.AssetCheckResult(
            check_name=NO_UNEXPECTED_OBJECTS,
            asset_key=BYOD_ASSET,
            passed=not outcome.skipped,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"skipped": [{"name": s.name, "reason": s.reason} for s in outcome.skipped]},
        ),
    ]
