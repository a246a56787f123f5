"""The listing-versus-state diff shared by the asset, the sensor and the status command."""

import datetime as dt

from focus_pipeline.lib.naming import OciLayout, S3Layout
from focus_pipeline.lib.plan import CopiedFile, OciObject, folder_digest, plan_day

DAY = dt.date(2024, 11, 28)
OCI = OciLayout()
S3 = S3Layout("byod")


def obj(name: str, etag: str = "e1", size: int = 10) -> OciObject:
    return OciObject(name=f"FOCUS Reports/2024/11/28/{name}", size=size, etag=etag, md5="x")


def copied(o: OciObject) -> CopiedFile:
    return CopiedFile(o.name, o.etag, o.size, "md5", S3.key(OCI.parse(o.name)))


def test_new_changed_unchanged_and_skipped() -> None:
    a, b, c = obj("a.csv.gz"), obj("b.csv.gz", etag="new"), obj("c.csv.gz")
    bad = OciObject("FOCUS Reports/2024/11/28/x/y.csv.gz", 1, "e")
    recorded = {a.name: copied(a), b.name: copied(obj("b.csv.gz", etag="old"))}
    plan = plan_day(DAY, [c, b, a, bad], recorded, OCI, S3)
    assert [(p.source.name, p.reason) for p in plan.to_copy] == [
        (b.name, "changed"),
        (c.name, "new"),
    ]
    assert [u.name for u in plan.unchanged] == [a.name]
    assert [s.name for s in plan.skipped] == [bad.name]
    assert plan.to_copy[1].s3_key == "byod/2024-11-28_c.csv.gz"


def test_force_recopies_unchanged_files() -> None:
    a = obj("a.csv.gz")
    plan = plan_day(DAY, [a], {a.name: copied(a)}, OCI, S3, force=True)
    assert [(p.source.name, p.reason) for p in plan.to_copy] == [(a.name, "forced")]


def test_changed_destination_naming_counts_as_changed() -> None:
    a = obj("a.csv.gz")
    plan = plan_day(DAY, [a], {a.name: copied(a)}, OCI, S3Layout("other"))
    assert [p.reason for p in plan.to_copy] == ["changed"]


def test_folder_digest_changes_with_etag_and_ignores_order() -> None:
    a, b = obj("a.csv.gz"), obj("b.csv.gz")
    assert folder_digest([a, b]) == folder_digest([b, a])
    assert folder_digest([a, b]) != folder_digest([a, obj("b.csv.gz", etag="e2")])
    assert folder_digest([a]) != folder_digest([a, b])
