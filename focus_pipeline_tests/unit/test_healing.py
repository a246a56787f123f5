"""When the sensor asks for a day again: decisions of the self-healing, without servers."""

import datetime as dt

import pytest

from focus_pipeline.lib.healing import (
    MAX_RETRY_WAIT_SECONDS,
    FullScan,
    LastRun,
    decide,
    progress_interval,
    retry_wait,
)
from focus_pipeline.lib.transfer import PROGRESS_SECONDS

NOW = 1_800_000_000.0
HOUR = 3600.0


def failed(attempt: int = 0, ended: float = NOW - 10, digest: str = "d", **kw) -> LastRun:
    return LastRun("FAILURE", ended, attempt, digest, **kw)


def test_nothing_to_copy_is_never_requested() -> None:
    assert not decide(False, None, "d", HOUR, NOW).request
    assert not decide(False, failed(), "d", HOUR, NOW).request


def test_a_new_day_is_requested_as_attempt_zero() -> None:
    d = decide(True, None, "d", HOUR, NOW)
    assert (d.request, d.attempt) == (True, 0)


@pytest.mark.parametrize("status", ["QUEUED", "STARTING", "STARTED", "CANCELING"])
def test_an_active_run_is_left_alone(status: str) -> None:
    d = decide(True, LastRun(status, None, 0, "d"), "d", HOUR, NOW)
    assert not d.request and status.lower() in d.reason


@pytest.mark.parametrize("status", ["FAILURE", "CANCELED"])
def test_a_failed_or_cancelled_day_waits_then_doubles(status: str) -> None:
    last = LastRun(status, NOW - HOUR + 5, 0, "d")
    assert not decide(True, last, "d", HOUR, NOW).request  # 5 s too early
    d = decide(True, LastRun(status, NOW - HOUR, 0, "d"), "d", HOUR, NOW)
    assert (d.request, d.attempt) == (True, 1)
    # The second failure waits twice as long, the third four times.
    assert not decide(True, LastRun(status, NOW - HOUR, 1, "d"), "d", HOUR, NOW).request
    assert decide(True, LastRun(status, NOW - 2 * HOUR, 1, "d"), "d", HOUR, NOW).attempt == 2


def test_the_wait_is_capped_at_a_day() -> None:
    assert retry_wait(0, HOUR) == HOUR and retry_wait(3, HOUR) == 8 * HOUR
    assert retry_wait(10, HOUR) == MAX_RETRY_WAIT_SECONDS
    assert decide(True, failed(attempt=10, ended=NOW - 86_400), "d", HOUR, NOW).request


def test_a_dead_run_is_followed_at_once() -> None:
    d = decide(True, failed(attempt=2, dead=True), "d", HOUR, NOW)
    assert (d.request, d.attempt) == (True, 3)


def test_a_changed_folder_is_requested_at_once_as_a_fresh_attempt() -> None:
    d = decide(True, failed(attempt=4), "other", HOUR, NOW)
    assert (d.request, d.attempt) == (True, 0)


def test_work_left_after_a_success_gets_a_new_attempt_number() -> None:
    # Same folder, still work (a changed bucket): the run key must differ from the last one.
    d = decide(True, LastRun("SUCCESS", NOW, 0, "d"), "d", HOUR, NOW)
    assert (d.request, d.attempt) == (True, 1)


def test_zero_switches_retries_off() -> None:
    assert not decide(True, failed(ended=NOW - 10 * HOUR), "d", 0, NOW).request
    assert decide(True, failed(dead=True), "d", 0, NOW).request


def test_progress_is_reported_several_times_within_the_stall_limit() -> None:
    assert progress_interval(900) == PROGRESS_SECONDS
    assert progress_interval(8) == 2
    assert progress_interval(0.1) == 0.5
    assert progress_interval(0) == PROGRESS_SECONDS


def test_full_scan_cursor_round_trip_and_schedule() -> None:
    assert FullScan().due(NOW, 24 * HOUR)  # never scanned
    assert not FullScan().due(NOW, 0)  # switched off
    done = FullScan(finished_at=NOW - HOUR)
    assert not done.due(NOW, 24 * HOUR) and done.due(NOW, 0.5 * HOUR)
    under_way = FullScan(next_day=dt.date(2024, 11, 1), finished_at=None)
    assert not under_way.due(NOW, 24 * HOUR)
    assert FullScan.from_json(under_way.to_json()) == under_way
    assert FullScan.from_json(done.to_json()) == done
    assert FullScan.from_json(None) == FullScan() == FullScan.from_json("not json")


def test_up_to_date_warns_then_errors_then_passes() -> None:
    from focus_pipeline.lib.health import ERROR, PASS, WARN, HealthState, up_to_date

    assert up_to_date("d", 2, NOW - 10, NOW, HOUR).verdict == WARN
    assert up_to_date("d", 2, NOW - HOUR, NOW, HOUR).verdict == ERROR
    assert up_to_date("d", 2, None, NOW, HOUR).differs_since == NOW  # first seen now
    assert up_to_date("d", 0, NOW - 10 * HOUR, NOW, HOUR).verdict == PASS
    late = up_to_date("d", 2, NOW - 2 * HOUR, NOW, HOUR)
    assert "for 120 min (late)" in late.describe(NOW)
    state = HealthState({"d": NOW}, {"d": WARN})
    import json

    again = HealthState.from_json(json.dumps(state.to_dict()))
    assert again == state and HealthState.from_json("garbage") == HealthState()
