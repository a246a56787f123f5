"""A copied file's header against OCI's column set and FOCUS 1.0 to 1.3."""

import gzip
import os

from focus_pipeline.lib.focus_columns import FOCUS_VERSIONS, OCI_COLUMNS
from focus_pipeline.lib.focus_header import HEAD_BYTES, classify


def report(columns: list[str], rows: int = 1000) -> bytes:
    body = ",".join(columns) + "\r\n" + "".join(f"{i},x\r\n" for i in range(rows))
    return gzip.compress(body.encode())


def test_oci_header_matches_oci() -> None:
    match = classify(report(list(OCI_COLUMNS))[:HEAD_BYTES])
    assert (match.matched, match.columns) == ("oci", 49)


def test_focus_1_0_and_1_3_headers_match_their_version() -> None:
    v10 = sorted(FOCUS_VERSIONS["1.0"].columns)
    v13 = sorted(FOCUS_VERSIONS["1.3"].columns) + ["x_CostCenter"]
    assert classify(report(v10)).matched == "1.0"  # the earliest version it fits
    assert classify(report(sorted(FOCUS_VERSIONS["1.0"].mandatory))).matched == "1.0"
    match = classify(report(v13))
    assert (match.matched, match.columns) == ("1.3", len(v13))
    with_1_3_names = sorted(FOCUS_VERSIONS["1.0"].mandatory) + ["HostProviderName"]
    assert classify(report(with_1_3_names)).matched is None  # 1.3 needs ServiceProviderName too
    assert classify(report([*with_1_3_names, "ServiceProviderName"])).matched == "1.3"


def test_a_plain_csv_a_non_gzip_body_an_empty_file_and_a_truncated_gzip_fail() -> None:
    plain = classify(report(["Date", "Amount", "Account"]))
    assert not plain.ok and "match no FOCUS version" in (plain.problem or "")
    assert "not gzip" in (classify(b"Date,Amount\r\n1,2\r\n").problem or "")
    assert "empty" in (classify(b"").problem or "")
    truncated = report(list(OCI_COLUMNS))[:12]  # the gzip header and a few deflate bytes
    assert not classify(truncated).ok
    assert "no data" in (classify(gzip.compress(b"")).problem or "")


def test_only_the_beginning_is_inflated() -> None:
    big = report(list(OCI_COLUMNS), rows=5) + os.urandom(1 << 20)  # garbage after the header
    assert classify(big[:HEAD_BYTES]).matched == "oci"
