"""Sending through Apprise for real, to a local webhook receiver: delivered once, or one warning
that names the event and the scheme and nothing else; the caller never sees an exception."""

from __future__ import annotations

import logging

import pytest

from focus_pipeline.lib import alerts
from focus_pipeline_tests.support.receiver import FAKE_TOKEN, Receiver, closed_port_url


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # urllib3's request lines included
    return caplog


def our_warnings(logs: pytest.LogCaptureFixture) -> list[str]:
    """Warnings of the pipeline's loggers. (pytest also hooks Apprise's own logger, which
    reaches no handler outside tests; its lines are scrubbed all the same, see below.)"""
    return [
        r.getMessage()
        for r in logs.records
        if r.levelno >= logging.WARNING and r.name.startswith("focus_pipeline")
    ]


def assert_no_secret(text: str, url: str) -> None:
    assert FAKE_TOKEN not in text
    assert url not in text
    assert url.split("://", 1)[1] not in text


def test_a_message_reaches_the_receiver_once(receiver, logs) -> None:
    title, body = alerts.run_failed(["2024-11-28"], "boom", "run-1")
    assert alerts.send(receiver.url, title, body, notify_type=alerts.FAILURE)
    [got] = receiver.wait_for(1)
    assert got.path == f"/hooks/{FAKE_TOKEN}"
    assert got.title == title and got.message == body and got.body["type"] == "failure"
    assert_no_secret(logs.text, receiver.url)


def test_every_configured_url_gets_it(receiver) -> None:
    with Receiver() as other:
        assert alerts.send(f"{receiver.url}, {other.url}", "t", "b")
        assert len(receiver.wait_for(1)) == 1 and len(other.wait_for(1)) == 1


def test_a_url_in_a_body_is_scrubbed_before_it_leaves(receiver) -> None:
    assert alerts.send(receiver.url, "t", f"the hook {receiver.url} with {FAKE_TOKEN} failed")
    [got] = receiver.wait_for(1)
    assert_no_secret(got.text, receiver.url)
    assert "[redacted]" in got.message


def test_a_receiver_that_is_down_is_one_warning_and_false(logs) -> None:
    url = closed_port_url()
    assert alerts.send(url, "t", "b", event="copy run failed") is False
    [warning] = our_warnings(logs)
    assert "copy run failed" in warning and "json://…" in warning
    assert_no_secret(logs.text, url)
    # The webhook's address is where, not a secret (a UI link on that host stays readable);
    # its path, which holds the token, never shows.
    assert "/" + url.split("/", 3)[3] not in logs.text


def test_a_receiver_that_answers_an_error_is_one_warning(logs) -> None:
    with Receiver(status=500) as failing:
        assert alerts.send(failing.url, "t", "b", event="sensor failing") is False
        assert len(failing.wait_for(1)) == 1
    [warning] = our_warnings(logs)
    assert "sensor failing" in warning
    assert_no_secret(logs.text, failing.url)


def test_a_url_apprise_cannot_load_is_named_by_its_scheme_only(receiver, logs) -> None:
    bad = f"slack://{FAKE_TOKEN}"  # a Slack URL needs three tokens
    assert alerts.send(f"{bad} {receiver.url}", "t", "b", event="dead run") is False
    assert len(receiver.wait_for(1)) == 1  # the good URL still gets it
    [warning] = our_warnings(logs)
    assert "slack://…" in warning and "dead run" in warning
    assert FAKE_TOKEN not in logs.text


def test_a_slow_receiver_is_cut_off(logs) -> None:
    with Receiver() as slow:
        slow.delay = 5.0
        # Waiting for the answer would have delivered it (True): False proves the cut-off.
        assert alerts.send(slow.url, "t", "b", timeout=1.0) is False
    assert len(our_warnings(logs)) == 1
    assert FAKE_TOKEN not in logs.text


def test_nothing_to_send_to_is_not_an_error(logs) -> None:
    assert alerts.send("", "t", "b") is False
    assert our_warnings(logs) == []


def test_outside_pytest_no_log_line_names_a_url(tmp_path) -> None:
    """With the root logger at DEBUG, as a curious operator might set it: Apprise's lines go
    nowhere, urllib3's are scrubbed, ours name the scheme."""
    import subprocess
    import sys

    url = closed_port_url()
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
        "from focus_pipeline.lib import alerts\n"
        f"ok = alerts.send({url!r} + ' slack://{FAKE_TOKEN} nosuch://{FAKE_TOKEN}', 't', 'b')\n"
        "sys.exit(0 if ok is False else 1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "WARNING:focus_pipeline.lib.alerts" in out.stderr
    assert "slack://…" in out.stderr and "json://…" in out.stderr
    assert "apprise" not in out.stderr.lower().replace("by apprise", "")
    assert_no_secret(out.stderr + out.stdout, url)
