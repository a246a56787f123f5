"""`focus-pipeline status`: each day's verdict and the table, decided without servers."""

import datetime as dt

from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.plan import CopiedFile, OciObject
from focus_pipeline.lib.status import HEADER, NO_RUN, day_status, render_table

DAY = dt.date(2024, 11, 28)
OCI, S3 = OciLayout(), S3Layout("byod")


def obj(name: str, etag: str = "e1", size: int = 1000) -> OciObject:
    return OciObject(f"FOCUS Reports/2024/11/28/{name}", size, etag, "m")


def copied(o: OciObject, at: float = 1732752000.0) -> CopiedFile:
    return CopiedFile(o.name, o.etag, o.size, "m", S3.key(OCI.parse(o.name)), copied_at=at)


def test_up_to_date_pending_failed_and_copying() -> None:
    a, b = obj("a.csv.gz"), obj("b.csv.gz")
    done = {a.name: copied(a), b.name: copied(b)}
    assert day_status(DAY, [a, b], done, "SUCCESS", OCI, S3).state == "up to date"
    pending = day_status(DAY, [a, b, obj("c.csv.gz")], done, "SUCCESS", OCI, S3)
    assert (pending.state, pending.pending) == ("pending: 1 new", 1)
    changed = day_status(DAY, [a, obj("b.csv.gz", etag="e2")], done, "FAILURE", OCI, S3)
    assert changed.state == "failed: 1 changed" and changed.failed
    assert day_status(DAY, [a], {}, "STARTED", OCI, S3).state == "copying (run started)"
    assert day_status(DAY, [a, b], done, "FAILURE", OCI, S3).state == (
        "up to date (last run failed)"
    )
    assert day_status(DAY, [], {}, NO_RUN, OCI, S3).state == "no reports in OCI"


def test_objects_that_are_not_reports_are_counted_apart() -> None:
    odd = OciObject("FOCUS Reports/2024/11/28/x/y.csv.gz", 1, "e")
    assert day_status(DAY, [odd], {}, NO_RUN, OCI, S3).state == (
        "up to date, 1 skipped (not FOCUS names)"
    )


def test_a_day_oci_did_not_answer_for_shows_question_marks() -> None:
    a = obj("a.csv.gz")
    row = day_status(DAY, None, {a.name: copied(a)}, "SUCCESS", OCI, S3)
    assert (row.oci_files, row.pending, row.copied_files) == (None, None, 1)
    table = render_table([row])
    assert table[0] == HEADER
    assert table[1].split() == [
        "2024-11-28", "?", "?", "1", "1,000", "2024-11-28", "00:00:00", "?", "SUCCESS", "?",
        "OCI", "not", "listed", "(see", "below)",
    ]  # fmt: skip
    assert table[2].split() == ["TOTAL", "0", "0", "1", "1,000", "0", "0", "failed,", "0", "late"]


def test_totals_add_listed_days_and_count_failed_runs() -> None:
    a = obj("a.csv.gz", size=2048)
    rows = [
        day_status(DAY, [a], {}, "FAILURE", OCI, S3),
        day_status(DAY - dt.timedelta(days=1), [], {}, NO_RUN, OCI, S3),
    ]
    total = render_table(rows)[-1].split()
    assert total == ["TOTAL", "1", "2,048", "0", "0", "1", "1", "failed,", "0", "late"]


def test_a_difference_older_than_the_limit_is_late() -> None:
    a = obj("a.csv.gz")
    now = 1_800_000_000.0
    fresh = day_status(DAY, [a], {}, NO_RUN, OCI, S3, now - 60, now, 3600)
    late = day_status(DAY, [a], {}, NO_RUN, OCI, S3, now - 7200, now, 3600)
    done = day_status(DAY, [a], {a.name: copied(a)}, "SUCCESS", OCI, S3, now - 7200, now, 3600)
    assert (fresh.up_to_date, late.up_to_date, done.up_to_date) == ("WARN", "ERROR", "PASS")
    assert late.late and not fresh.late
    assert render_table([late])[-1].endswith("0 failed, 1 late")
