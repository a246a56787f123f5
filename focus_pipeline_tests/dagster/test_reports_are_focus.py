"""reports_are_focus: each copied file starts with a FOCUS header, judged from the bytes the copy
already read (no second GET); a bad file fails the check by name and is still copied exactly."""

from __future__ import annotations

import gzip

import dagster as dg

from focus_pipeline.defs import build_definitions, checks
from focus_pipeline.defs.metadata import manifest_files
from focus_pipeline.lib.focus_columns import FOCUS_VERSIONS, OCI_COLUMNS
from focus_pipeline.settings import load_settings
from focus_pipeline_tests.support import TENANCY, b64md5, s3_contents

DAY = "2024-11-28"
FOLDER = "FOCUS Reports/2024/11/28/"


def report(columns: list[str] | tuple[str, ...]) -> bytes:
    rows = "".join(f"{i},0.5\r\n" for i in range(2000))
    return gzip.compress((",".join(columns) + "\r\n" + rows).encode())


def test_oci_and_focus_headers_pass_and_each_bad_file_is_named(
    focus_env, oci_emulator, s3_client, s3_bucket
) -> None:
    files = {
        "0001-00001.csv.gz": report(OCI_COLUMNS),
        "0001-00002.csv.gz": report(sorted(FOCUS_VERSIONS["1.3"].columns)),
        "0001-00003.csv.gz": report(["Date", "Amount", "Account"]),  # a plain CSV
        "0001-00004.csv.gz": b"Date,Amount\r\n2024-11-28,1\r\n",  # not gzip
        "0001-00005.csv.gz": b"",  # empty
        "0001-00006.csv.gz": report(OCI_COLUMNS)[:30],  # truncated before the header ends
    }
    for name, data in files.items():
        oci_emulator.put_object(TENANCY, FOLDER + name, data)
    defs = build_definitions(load_settings())
    oci_emulator.clear_requests()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [defs.get_assets_def("byod_focus_reports")],
            partition_key=DAY,
            instance=instance,
            resources=defs.resources,
        )
    assert result.success  # a bad header never blocks the copy
    assert oci_emulator.count(op="GetObject") == len(files)  # one GET per file, no extra
    assert s3_contents(s3_client, s3_bucket) == {
        f"byod/acct-1/{DAY}_{name}": b64md5(data) for name, data in files.items()
    }
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == checks.REPORTS_ARE_FOCUS
    ]
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    problems = {
        p["name"].rsplit("/", 1)[1]: p["problem"] for p in check.metadata["not_focus"].value
    }
    assert set(problems) == {
        "0001-00003.csv.gz",
        "0001-00004.csv.gz",
        "0001-00005.csv.gz",
        "0001-00006.csv.gz",
    }
    assert "match no FOCUS version" in problems["0001-00003.csv.gz"]
    assert "not gzip" in problems["0001-00004.csv.gz"]
    assert "empty" in problems["0001-00005.csv.gz"]
    assert "0001-00003.csv.gz" in (check.description or "")

    [mat] = result.asset_materializations_for_node("byod_focus_reports")
    manifest = {f.name.rsplit("/", 1)[1]: f for f in manifest_files(mat.metadata["manifest"].value)}
    assert (manifest["0001-00001.csv.gz"].focus_header, manifest["0001-00001.csv.gz"].columns) == (
        "oci",
        49,
    )
    assert manifest["0001-00002.csv.gz"].focus_header == "1.3"
