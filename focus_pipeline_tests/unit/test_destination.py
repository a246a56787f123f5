""" "Copied" is per destination: a copy in another bucket or endpoint does not count."""

import datetime as dt

from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.plan import CopiedFile, OciObject, plan_day

DAY = dt.date(2024, 11, 28)
OCI = OciLayout()
NAME = "FOCUS Reports/2024/11/28/a.csv.gz"
OBJ = OciObject(NAME, 10, "e1", "m")


def record(bucket: str | None, endpoint: str | None) -> dict[str, CopiedFile]:
    key = S3Layout("byod").key(OCI.parse(NAME))
    return {NAME: CopiedFile(NAME, "e1", 10, "m", key, s3_bucket=bucket, s3_endpoint=endpoint)}


def reasons(copied: dict[str, CopiedFile], s3: S3Layout) -> list[str]:
    return [p.reason for p in plan_day(DAY, [OBJ], copied, OCI, s3).to_copy]


def test_same_bucket_and_endpoint_is_unchanged() -> None:
    here = S3Layout("byod", bucket="byod-1", endpoint="")
    assert reasons(record("byod-1", ""), here) == []


def test_another_bucket_or_endpoint_is_not_copied_yet() -> None:
    assert reasons(record("byod-1", ""), S3Layout("byod", bucket="byod-2", endpoint="")) == [
        "changed"
    ]
    elsewhere = S3Layout("byod", bucket="byod-1", endpoint="http://minio:9000")
    assert reasons(record("byod-1", ""), elsewhere) == ["changed"]


def test_a_changed_prefix_or_naming_is_not_copied_yet() -> None:
    assert reasons(record("byod-1", ""), S3Layout("other", bucket="byod-1", endpoint="")) == [
        "changed"
    ]
    compact = S3Layout("byod", date_format="%Y%m%d", bucket="byod-1", endpoint="")
    assert reasons(record("byod-1", ""), compact) == ["changed"]


def test_records_that_name_no_destination_count_anywhere_until_pinned() -> None:
    assert reasons(record(None, None), S3Layout("byod", bucket="any", endpoint="")) == []


def test_the_destination_survives_the_record_round_trip() -> None:
    [f] = record("byod-1", "").values()
    assert CopiedFile.from_record(f.to_record()) == f
    assert f.to_record()["s3_bucket"] == "byod-1" and f.to_record()["s3_endpoint"] == ""
