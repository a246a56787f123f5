"""The copied day's metadata: named keys, values from the outcome (no instance needed)."""

import datetime as dt

from focus_pipeline.defs import metadata as m
from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.outcome import day_outcome
from focus_pipeline.lib.plan import OciObject, plan_day
from focus_pipeline.lib.sweep import SweepResult
from focus_pipeline.lib.transfer import CopyResult

DAY = dt.date(2024, 11, 28)
OCI, S3 = OciLayout(), S3Layout("byod")


def test_metadata_of_a_day_with_a_copy_and_a_skipped_object() -> None:
    a = OciObject("FOCUS Reports/2024/11/28/a.csv.gz", 2_000_000, "e1", "m")
    odd = OciObject("FOCUS Reports/2024/11/28/x/y", 5, "e")
    plan = plan_day(DAY, [a, odd], {}, OCI, S3)
    outcome = day_outcome(plan, [a, odd], [CopyResult(a, plan.to_copy[0].s3_key, "md5", 1, 1, 0)])
    source = OciReportSource(lambda: None, "bling", "tenancy")  # type: ignore[arg-type,return-value]
    source.list_calls, source.get_calls = 1, 1
    swept = SweepResult(prefix="byod/", aborted=["byod/left-by-a-killed-run"])
    meta = m.values(m.day_metadata(outcome, "FOCUS Reports/2024/11/28/", 2.0, source, swept))
    assert meta[m.FILES_COPIED] == 1 and meta[m.FILES_SKIPPED] == 1
    assert meta[m.BYTES_COPIED] == meta[m.BYTES_TOTAL] == 2_000_000
    assert meta[m.MB_PER_S] == 1.0
    assert meta[m.SOURCE_DIGEST] == outcome.source_digest
    assert m.manifest_files(meta[m.MANIFEST]) == outcome.manifest
    assert meta[m.SKIPPED_OBJECTS][0]["name"] == odd.name
    assert m.NOTE not in meta
    assert (meta[m.OCI_LIST_REQUESTS], meta[m.STALE_UPLOADS_ABORTED]) == (1, 1)


def test_an_empty_day_says_so() -> None:
    outcome = day_outcome(plan_day(DAY, [], {}, OCI, S3), [], [])
    source = OciReportSource(lambda: None, "bling", "tenancy")  # type: ignore[arg-type,return-value]
    meta = m.day_metadata(outcome, "f", 0, source, None)
    assert meta[m.NOTE] == "OCI holds no reports for this day (yet)."
    assert meta[m.MB_PER_S] == 0.0 and meta[m.STALE_UPLOADS_ABORTED] == 0
