"""The retry policy and the settings that tune it, without a server (the retries on the wire:
integration/test_reliability.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError as BotoClientError
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from focus_pipeline.lib.errors import is_retryable
from focus_pipeline.lib.retry import MAX_BACKOFF_SECONDS, RetryPolicy
from focus_pipeline.settings import SettingsError, load_settings


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    import random

    policy, rng = RetryPolicy(10, 0.5), random.Random(1)
    for attempt in range(10):
        cap = min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempt)
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.9  # the whole range is used, not a fixed step


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (ReadTimeoutError(endpoint_url="http://s3"), True),
        (ConnectTimeoutError(endpoint_url="http://s3"), True),
        (ConnectionClosedError(endpoint_url="http://s3"), True),
        (EndpointConnectionError(endpoint_url="http://s3"), True),
        (BotoClientError({"Error": {"Code": "SlowDown"}}, "UploadPart"), True),
        (
            BotoClientError(
                {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                "CompleteMultipartUpload",
            ),
            True,
        ),
        (BotoClientError({"Error": {"Code": "RequestTimeout"}}, "UploadPart"), True),
        (
            BotoClientError(
                {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "PutObject",
            ),
            False,
        ),
        (BotoClientError({"Error": {"Code": "NoSuchBucket"}}, "PutObject"), False),
    ],
)
def test_which_s3_errors_are_retried(exc: BaseException, retryable: bool) -> None:
    assert is_retryable(exc) is retryable


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("FOCUS_STREAMS_PER_FILE", "0"),
        ("FOCUS_STREAMS_PER_FILE", "-4"),
        ("FOCUS_MAX_RETRIES", "-1"),
        ("FOCUS_RETRY_BACKOFF_SECONDS", "0"),
        ("FOCUS_RETRY_BACKOFF_SECONDS", "-0.5"),
        ("FOCUS_STEP_RETRIES", "-2"),
        ("FOCUS_PART_SIZE_MB", "-5"),
        ("FOCUS_STALE_UPLOAD_HOURS", "-1"),
        ("FOCUS_STALE_UPLOAD_HOURS", "1.5"),
        ("FOCUS_LOOKBACK_DAYS", "0"),
    ],
)
def test_negative_and_zero_tuning_is_refused_naming_the_variable(
    monkeypatch, focus_env, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert f"{var}: " in str(err.value)
