"""Object naming: where each OCI report lands in S3, and what is refused."""

import datetime as dt

import pytest

from focus_pipeline.lib.naming import InvalidName, Naming

DAY = dt.date(2024, 11, 28)


def test_issue_example_maps_to_date_prefixed_key() -> None:
    naming = Naming(s3_prefix="byod/acct-1")
    key = naming.key_for("FOCUS Reports/2024/11/28/0001000002103533-00001.csv.gz", DAY)
    assert key == "byod/acct-1/2024-11-28_0001000002103533-00001.csv.gz"


def test_empty_prefix_gives_bare_key_and_slashes_are_trimmed() -> None:
    assert Naming().key_for("FOCUS Reports/2024/11/28/a.csv.gz", DAY) == "2024-11-28_a.csv.gz"
    naming = Naming(s3_prefix="/byod/x/")
    assert naming.key_for("FOCUS Reports/2024/11/28/a.csv.gz", DAY) == "byod/x/2024-11-28_a.csv.gz"


def test_date_format_and_separator_are_configurable() -> None:
    naming = Naming(s3_prefix="p", date_format="%Y%m%d", separator="-")
    assert naming.key_for("FOCUS Reports/2024/11/28/f.csv.gz", DAY) == "p/20241128-f.csv.gz"


def test_day_folder_has_space_and_trailing_slash() -> None:
    assert Naming().day_folder(DAY) == "FOCUS Reports/2024/11/28/"
    assert Naming(oci_prefix="custom").day_folder(DAY) == "custom/2024/11/28/"


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
        Naming().key_for(name, DAY)


def test_overlong_key_is_refused() -> None:
    name = "FOCUS Reports/2024/11/28/" + "a" * 1020 + ".csv.gz"
    with pytest.raises(InvalidName, match="1024 bytes"):
        Naming().key_for(name, DAY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"separator": "a/b"}, "must not contain '/'"),
        ({"date_format": "%Y-%m"}, "identify the day"),
        ({"date_format": "%Y/%m/%d"}, "must not produce '/'"),
        ({"s3_prefix": "a//b"}, "'//'"),
    ],
)
def test_bad_naming_settings_are_rejected(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Naming(**kwargs)
