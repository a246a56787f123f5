"""Every default, bound and description lives once, in the settings model."""

from __future__ import annotations

import pytest

from focus_pipeline.defs.resources import RESOURCES, settings_of
from focus_pipeline.lib import retry, variables
from focus_pipeline.lib.oci_source import AUTH_MODES
from focus_pipeline.lib.transfer import MIB, TransferOptions
from focus_pipeline.settings import FocusSettings, env_name

FIELDS = FocusSettings.model_fields


def test_every_variable_named_in_messages_is_a_setting() -> None:
    names = {v for k, v in vars(variables).items() if k.isupper() and k != "ENV_PREFIX"}
    assert names, "the table is empty"
    assert names <= {env_name(f) for f in FIELDS}


@pytest.mark.parametrize("key", sorted(RESOURCES))
def test_resource_fields_take_default_and_description_from_their_setting(key: str) -> None:
    cls = RESOURCES[key]
    for field, setting in settings_of(cls).items():  # type: ignore[attr-defined]
        ours, theirs = cls.model_fields[field], FIELDS[setting]
        assert ours.description == theirs.description, field
        if theirs.is_required():
            assert ours.is_required(), field
        else:
            assert ours.get_default() == theirs.get_default(), field


def test_every_setting_a_resource_needs_is_mapped_once() -> None:
    mapped = [s for cls in RESOURCES.values() for s in settings_of(cls).values()]
    assert set(mapped) <= set(FIELDS)
    # Retries are per side: both resources take the pair, nothing else is taken twice.
    twice = {s for s in mapped if mapped.count(s) > 1}
    assert twice == {"max_retries", "retry_backoff_seconds"}


def test_the_copy_engine_defaults_are_the_settings_defaults() -> None:
    options = TransferOptions()
    assert options.part_size == FIELDS["part_size_mb"].default * MIB
    assert options.streams_per_file == FIELDS["streams_per_file"].default
    assert options.max_concurrent_files == FIELDS["max_concurrent_transfers"].default
    policy = retry.RetryPolicy()
    assert policy.max_retries == FIELDS["max_retries"].default
    assert policy.backoff_seconds == FIELDS["retry_backoff_seconds"].default


def test_the_auth_modes_are_one_type() -> None:
    description = FIELDS["oci_auth"].description or ""
    assert all(mode in description for mode in AUTH_MODES)
    with pytest.raises(ValueError, match="oci_auth"):
        FocusSettings(oci_bucket="x", s3_bucket="y", oci_auth="password")  # type: ignore[arg-type]
