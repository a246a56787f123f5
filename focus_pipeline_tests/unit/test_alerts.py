"""What alerts say, within bounds and without secrets; when the tick watcher speaks; the alert
settings. Pure: no server, no instance (sending is tested in integration/test_alerts_send.py).
"""

from __future__ import annotations

import pytest

from focus_pipeline.lib import alerts
from focus_pipeline.lib.alerts import Tick, TickWatch, judge_ticks
from focus_pipeline.settings import SettingsError, load_settings
from focus_pipeline_tests.support import TENANCY

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops"
MAIL = "mailto://alerts:hunter2pass@mail.example.com?to=ops@example.com,oncall@example.com"
HOOK = "json://hooks.example.com:8443/focus/5f0c8d7a9b2e4c1d"
SECRETS = ["TIiajkdnlazkcOXrIdevi7FQ", "A1BRTD4JD", "T1JJ3T3L2", "hunter2pass", "5f0c8d7a9b2e4c1d"]
UI = "https://dagster.example.com"
RUN_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

TRACEBACK = "\n".join(
    ["focus_pipeline.lib.errors.OciAccessError: OCI answered 401 NotAuthenticated."]
    + [f'  File "/opt/focus/lib/x.py", line {n}, in f' for n in range(40)]
)


def all_messages() -> list[tuple[str, str]]:
    return [
        alerts.run_failed(["2024-11-28"], TRACEBACK, RUN_ID, UI, "focus_copy_job"),
        alerts.run_failed([f"2024-11-{d:02d}" for d in range(1, 31)], "x" * 9000, RUN_ID),
        alerts.day_late("2024-11-28", "2 of 5 reports missing in the BYOD bucket"),
        alerts.day_recovered("2024-11-28"),
        alerts.dead_run(RUN_ID, "2024-11-28", "No progress recorded for 900s", UI),
        alerts.sensor_failing(3, TRACEBACK, "oci_focus_reports_sensor"),
        alerts.sensor_recovered("oci_focus_reports_sensor"),
    ]


def test_a_failed_run_names_the_day_the_reason_the_run_and_links_to_it() -> None:
    title, body = alerts.run_failed(["2024-11-28"], TRACEBACK, RUN_ID, UI + "/", "focus_copy_job")
    assert "2024-11-28" in title and "failed" in title
    assert "Day: 2024-11-28" in body
    assert f"Run: {RUN_ID} (focus_copy_job)" in body
    assert f"Link: {UI}/runs/{RUN_ID}" in body
    # The reason: the error's first lines, its class without the module path.
    assert "OciAccessError: OCI answered 401 NotAuthenticated." in body
    assert "focus_pipeline.lib.errors" not in body
    reason = body.split("Reason:\n", 1)[1].splitlines()
    assert len(reason) <= alerts.REASON_MAX_LINES + 1 and reason[-1] == "…"


def test_without_a_ui_url_there_is_no_link() -> None:
    _, body = alerts.run_failed(["2024-11-28"], "boom", RUN_ID)
    assert "Link:" not in body and "/runs/" not in body


def test_many_days_read_as_a_range() -> None:
    days = [f"2024-11-{d:02d}" for d in range(30, 0, -1)]
    title, body = alerts.run_failed(days, "boom", RUN_ID)
    assert "2024-11-01 .. 2024-11-30 (30 days)" in title
    assert body.startswith("Days: 2024-11-01 .. 2024-11-30 (30 days)")
    assert alerts.describe_days(["2024-11-02", "2024-11-01"]) == "2024-11-01, 2024-11-02"
    assert alerts.describe_days([]) == "an unknown day"


def test_day_late_recovered_dead_run_and_sensor_messages() -> None:
    title, body = alerts.day_late("2024-11-28", "2 of 5 reports missing")
    assert "2024-11-28 is late" in title and "2 of 5 reports missing" in body
    title, body = alerts.day_recovered("2024-11-28")
    assert "2024-11-28 recovered" in title and "no longer late" in body
    title, body = alerts.day_recovered("2024-11-28", "All 5 reports copied.")
    assert "All 5 reports copied." in body
    title, body = alerts.dead_run(RUN_ID, "2024-11-28", "No progress recorded for 900s", UI)
    assert "dead copy run of 2024-11-28" in title
    assert RUN_ID in body and f"{UI}/runs/{RUN_ID}" in body and "900s" in body
    title, body = alerts.sensor_failing(3, TRACEBACK, "oci_focus_reports_sensor")
    assert "failed 3 ticks in a row" in title
    assert "oci_focus_reports_sensor" in body and "401 NotAuthenticated" in body
    title, body = alerts.sensor_recovered("oci_focus_reports_sensor")
    assert "recovered" in title and "oci_focus_reports_sensor" in body


@pytest.mark.parametrize("message", all_messages())
def test_every_message_is_within_bounds(message: tuple[str, str]) -> None:
    title, body = message
    assert title.startswith(f"{alerts.PRODUCT}: ")
    assert 0 < len(title) <= alerts.MAX_TITLE_CHARS
    assert 0 < len(body) <= alerts.MAX_BODY_CHARS


def test_first_lines_bounds_lines_and_characters() -> None:
    assert alerts.first_lines("\n\n a \n\n  b \n") == "a\n  b"
    assert alerts.first_lines("") == "(no error message)"
    cut = alerts.first_lines("\n".join(str(i) for i in range(50)))
    assert cut.splitlines() == [str(i) for i in range(10)] + ["…"]
    long = alerts.first_lines("y" * 5000)
    assert len(long) <= alerts.REASON_MAX_CHARS and long.endswith("…")


def test_urls_split_on_spaces_and_commas_but_not_inside_a_url() -> None:
    assert alerts.split_urls(f" {SLACK}, {MAIL}\n{HOOK} ,") == [SLACK, MAIL, HOOK]
    assert alerts.split_urls(f"{SLACK},{MAIL},{HOOK}") == [SLACK, MAIL, HOOK]
    assert alerts.split_urls("") == [] and alerts.split_urls(None) == []


def test_a_bad_url_list_is_described_without_repeating_it() -> None:
    assert alerts.url_list_problem(f"{SLACK} {HOOK}") is None
    problem = alerts.url_list_problem(f"{SLACK}, hunter2pass")
    assert problem and "item(s) 2 of 2" in problem and "hunter2pass" not in problem
    assert alerts.url_list_problem(" , ") is not None


def test_log_lines_name_a_url_by_its_scheme_only() -> None:
    assert alerts.scheme_label(SLACK) == "slack://…"
    assert alerts.scheme_label("JSON://h/x") == "json://…"
    assert alerts.scheme_label("no url at all") == "an unreadable URL"


def test_anything_like_a_configured_url_is_scrubbed_from_text() -> None:
    urls = [SLACK, MAIL, HOOK]
    text = (
        f"failed: {SLACK} and {HOOK.upper()} and {MAIL}; token TIiajkdnlazkcOXrIdevi7FQ, "
        "password hunter2pass, path 5f0c8d7a9b2e4c1d; json://other.example.com/abc; "
        "the focus-pipeline alerts stay readable"
    )
    scrubbed = alerts.redact(text, urls)
    for secret in SECRETS:
        assert secret not in scrubbed
    assert "the focus-pipeline alerts stay readable" in scrubbed
    assert "json://other" not in scrubbed  # a configured scheme's URL, whatever it is
    assert alerts.redact("nothing to hide", []) == "nothing to hide"


@pytest.mark.parametrize("message", all_messages())
def test_no_message_holds_a_secret(message: tuple[str, str]) -> None:
    for secret in SECRETS + ["FOCUS_ALERT_URLS", "slack://", "mailto://", "json://"]:
        assert secret not in message[0] + message[1]


# --- the tick watcher ------------------------------------------------------------------------

FAIL, OK = Tick(failed=True, error="OciAccessError: 401"), Tick(failed=False)


def test_one_alert_after_n_failed_ticks_then_one_on_recovery() -> None:
    watch, said = TickWatch(), []
    history: list[Tick] = []
    for tick in [FAIL, FAIL, FAIL, FAIL, FAIL, OK, OK, FAIL, OK]:
        history.insert(0, tick)
        verdict = judge_ticks(watch, history[:4], threshold=3)
        if verdict.event == "failing":
            watch = TickWatch(alerted=True)
            said.append((verdict.event, verdict.failed_in_a_row, verdict.reason))
        elif verdict.event == "recovered":
            watch = TickWatch(alerted=False)
            said.append((verdict.event, 0, ""))
    assert said == [("failing", 3, "OciAccessError: 401"), ("recovered", 0, "")]


def test_fewer_failed_ticks_than_the_threshold_say_nothing() -> None:
    assert judge_ticks(TickWatch(), [FAIL, FAIL, OK, FAIL], threshold=3).event is None
    assert judge_ticks(TickWatch(), [], threshold=1).event is None
    assert judge_ticks(TickWatch(), [FAIL], threshold=1).event == "failing"
    assert judge_ticks(TickWatch(alerted=True), [FAIL, FAIL, FAIL], threshold=3).event is None


def test_the_watch_state_survives_its_cursor() -> None:
    assert TickWatch.from_json(TickWatch(alerted=True).to_json()) == TickWatch(alerted=True)
    assert TickWatch.from_json(None) == TickWatch()
    assert TickWatch.from_json("not json") == TickWatch()


# --- settings --------------------------------------------------------------------------------


def test_alert_settings_defaults_and_bounds(monkeypatch) -> None:
    for name in ("FOCUS_ALERT_URLS", "FOCUS_UI_URL", "FOCUS_ALERT_AFTER_FAILED_TICKS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(oci_bucket=TENANCY, s3_bucket="byod-x", _env_file=None)
    assert settings.alert_urls is None and settings.ui_url is None
    assert settings.alert_after_failed_ticks == 3

    monkeypatch.setenv("FOCUS_ALERT_URLS", f"{SLACK}, {HOOK}")
    monkeypatch.setenv("FOCUS_UI_URL", "https://dagster.example.com/")
    settings = load_settings(oci_bucket=TENANCY, s3_bucket="byod-x", _env_file=None)
    assert settings.alert_urls is not None
    assert settings.alert_urls.get_secret_value() == f"{SLACK}, {HOOK}"
    assert SLACK not in repr(settings)
    assert settings.ui_url == "https://dagster.example.com"

    monkeypatch.setenv("FOCUS_ALERT_AFTER_FAILED_TICKS", "0")
    with pytest.raises(SettingsError, match="FOCUS_ALERT_AFTER_FAILED_TICKS"):
        load_settings(oci_bucket=TENANCY, s3_bucket="byod-x", _env_file=None)


def test_a_bad_alert_url_stops_the_load_without_echoing_it(monkeypatch) -> None:
    monkeypatch.setenv("FOCUS_ALERT_URLS", f"{SLACK} hunter2pass")
    with pytest.raises(SettingsError) as err:
        load_settings(oci_bucket=TENANCY, s3_bucket="byod-x", _env_file=None)
    assert "FOCUS_ALERT_URLS" in str(err.value)
    for secret in SECRETS:
        assert secret not in str(err.value)
    monkeypatch.delenv("FOCUS_ALERT_URLS")
    monkeypatch.setenv("FOCUS_UI_URL", "dagster.example.com")
    with pytest.raises(SettingsError, match="FOCUS_UI_URL"):
        load_settings(oci_bucket=TENANCY, s3_bucket="byod-x", _env_file=None)


def test_a_webhook_on_the_ui_host_leaves_the_run_link_readable() -> None:
    url = "json://127.0.0.1:18767/hooks/tok3nS3cretWebhookValue42"
    text = "Link: http://127.0.0.1:13000/runs/abc; token tok3nS3cretWebhookValue42"
    scrubbed = alerts.redact(text, [url])
    assert "http://127.0.0.1:13000/runs/abc" in scrubbed
    assert "tok3nS3cretWebhookValue42" not in scrubbed
