"""Object naming: where each OCI report lands in S3, and what is refused."""

import datetime as dt

import pytest

from focus_pipeline.lib.naming import InvalidName, OciLayout, S3Layout

DAY = dt.date(2024, 11, 28)


def key_for(name: str, day: dt.date = DAY, oci: OciLayout | None = None, **s3: str) -> str:
    return S3Layout(**s3).key((oci or OciLayout()).report_of_day(name, day))


def test_issue_example_maps_to_date_prefixed_key() -> None:
    key = key_for("FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz", prefix="byod/acct-1")
    assert key == "byod/acct-1/2024-11-28_0001000002103533-00001.csv.gz"


def test_empty_prefix_gives_bare_key_and_slashes_are_trimmed() -> None:
    assert key_for("FOCUS Reports/2024/11/28/a.csv.gz") == "2024-11-28_a.csv.gz"
    key = key_for("FOCUS Reports/2024/11/28/a.csv.gz", prefix="/byod/x/")
    assert key == "byod/x/2024-11-28_a.csv.gz"


def test_date_format_and_separator_are_configurable() -> None:
    key = key_for(
        "FOCUS Reports/2024/11/28/f.csv.gz", prefix="p", date_format="%Y%m%d", separator="-"
    )
    assert key == "p/20241128-f.csv.gz"


def test_day_folder_has_space_and_trailing_slash() -> None:
    assert OciLayout().day_folder(DAY) == "FOCUS Reports/2024/11/28/"
    assert OciLayout("custom").day_folder(DAY) == "custom/2024/11/28/"
    assert key_for("custom/2024/11/28/f.csv.gz", oci=OciLayout("custom")) == "2024-11-28_f.csv.gz"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("reports/cost-csv/0001.csv.gz", "not under the prefix"),
        ("FOCUS Reports/2024/11/0001.csv.gz", "layout"),
        ("FOCUS Reports/2024/11/28/sub/0001.csv.gz", "layout"),
        ("FOCUS Reports/2024/02/30/0001.csv.gz", "not a real date"),
        ("FOCUS Reports/2024/11/28/..", "not allowed"),
        ("FOCUS Reports/2024/11/28/a..b.csv.gz", "not allowed"),
        ("FOCUS Reports/2024/11/28/.hidden", "not allowed"),
        ("FOCUS Reports/2024/11/28/bad\nname.csv.gz", "control character"),
        ("FOCUS Reports/2024/11/28/white space.csv.gz", "not allowed"),
        ("FOCUS Reports/2024/11/27/0001.csv.gz", "not 2024-11-28"),
    ],
)
def test_unexpected_names_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason):
        key_for(name)


def test_overlong_key_is_refused() -> None:
    name = "FOCUS Reports/2024/11/28/" + "a" * 1020 + ".csv.gz"
    with pytest.raises(InvalidName, match="1024 bytes"):
        key_for(name)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"separator": "a/b"}, "must not contain '/'"),
        ({"date_format": "%Y-%m"}, "identify the day"),
        ({"date_format": "%Y/%m/%d"}, "must not produce '/'"),
        ({"prefix": "a//b"}, "'//'"),
    ],
)
def test_bad_naming_settings_are_rejected(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        S3Layout(**kwargs)
