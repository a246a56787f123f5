"""The day's outcome after its copies: the decisions the copy asset reports, without servers."""

import datetime as dt

from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.outcome import MAX_FAILURES_SHOWN, day_outcome, failure_text
from focus_pipeline.lib.plan import CopiedFile, OciObject, PlannedCopy, plan_day
from focus_pipeline.lib.transfer import CopyFailure, CopyResult

DAY = dt.date(2024, 11, 28)
OCI, S3 = OciLayout(), S3Layout("byod")


def obj(name: str, etag: str = "e1", size: int = 10) -> OciObject:
    return OciObject(name=f"FOCUS Reports/2024/11/28/{name}", size=size, etag=etag, md5="m")


def landed(o: OciObject) -> CopyResult:
    return CopyResult(o, S3.key(OCI.parse(o.name)), "md5", 0.1, 1, 0)


def test_a_file_replaced_mid_copy_is_judged_by_the_version_that_landed() -> None:
    before = obj("a.csv.gz", etag="v1", size=10)
    plan = plan_day(DAY, [before], {}, OCI, S3)
    after = obj("a.csv.gz", etag="v2", size=12)  # OCI overwrote it; the copier restarted
    outcome = day_outcome(plan, [before], [landed(after)])
    assert [(f.name, f.etag, f.size) for f in outcome.manifest] == [(after.name, "v2", 12)]
    assert [(o.name, o.etag) for o in outcome.listing] == [(after.name, "v2")]
    assert outcome.missing == []
    assert outcome.bytes_copied == 12


def test_unchanged_copied_skipped_and_missing() -> None:
    a, b, c = obj("a.csv.gz"), obj("b.csv.gz"), obj("c.csv.gz", size=5)
    bad = OciObject("FOCUS Reports/2024/11/28/x/y.csv.gz", 1, "e")
    recorded = {a.name: CopiedFile(a.name, a.etag, a.size, "m", S3.key(OCI.parse(a.name)))}
    plan = plan_day(DAY, [a, b, c, bad], recorded, OCI, S3)
    outcome = day_outcome(plan, [a, b, c, bad], [landed(b)])  # c did not land
    assert [f.name for f in outcome.manifest] == [a.name, b.name]
    assert [f.name for f in outcome.unchanged] == [a.name]
    assert [s.name for s in outcome.skipped] == [bad.name]
    assert outcome.missing == [c.name]
    assert outcome.bytes_total == 20 and outcome.bytes_copied == 10


def test_data_version_follows_what_landed_not_when() -> None:
    a = obj("a.csv.gz")
    plan = plan_day(DAY, [a], {}, OCI, S3)
    first = day_outcome(plan, [a], [landed(a)])
    again = day_outcome(plan_day(DAY, [a], {}, OCI, S3), [a], [landed(a)])
    changed = day_outcome(plan, [a], [landed(obj("a.csv.gz", etag="e2"))])
    assert first.data_version == again.data_version != changed.data_version
    assert first.source_digest != changed.source_digest


def test_failure_text_names_each_file_and_counts_the_rest() -> None:
    plans = [PlannedCopy(obj(f"{i:02d}.csv.gz"), f"k{i}", "new") for i in range(12)]
    failures = [CopyFailure(p, TimeoutError("slow")) for p in plans]
    text = failure_text("2024-11-28", failures, 14, 2, lambda e: type(e).__name__)
    lines = text.splitlines()
    assert lines[0] == (
        "12 of 14 reports of 2024-11-28 failed to copy (2 landed and will not be copied again):"
    )
    assert lines[1] == "FOCUS Reports/2024/11/28/00.csv.gz: TimeoutError"
    assert len(lines) == 1 + MAX_FAILURES_SHOWN + 1
    assert lines[-1] == "... and 2 more"
