"""A copied file has one shape: one serialiser, one parser, for checkpoints and manifests."""

import pytest

from focus_pipeline.lib.plan import CopiedFile

FILE = CopiedFile(
    "FOCUS Reports/2024/11/28/a.csv.gz", "e1", 10, "md5==", "byod/2024-11-28_a.csv.gz"
)


def test_round_trip() -> None:
    assert CopiedFile.from_record(FILE.to_record()) == FILE
    assert CopiedFile.from_record(FILE.to_record(seconds=1.23456)) == FILE


def test_the_checkpoint_shape_deployed_instances_hold() -> None:
    # A `files` entry exactly as checkpoints have been written since the first release.
    stored = {
        "object_name": FILE.name,
        "etag": "e1",
        "bytes": 10,
        "md5": "md5==",
        "s3_key": FILE.s3_key,
        "seconds": 0.5,
    }
    assert FILE.to_record(seconds=0.5) == stored
    parsed = CopiedFile.from_record(stored, copied_at=1700000000.0)
    assert parsed == FILE and parsed.copied_at == 1700000000.0


def test_older_manifest_entries_read_too() -> None:
    legacy = {"name": FILE.name, "etag": "e1", "size": 10, "md5": "md5==", "s3_key": FILE.s3_key}
    assert CopiedFile.from_record(legacy) == FILE


def test_a_record_without_its_key_is_an_error_not_a_guess() -> None:
    record = FILE.to_record()
    del record["s3_key"]
    with pytest.raises(KeyError):
        CopiedFile.from_record(record)
