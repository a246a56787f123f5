"""What the `focus-pipeline` commands refuse before touching anything: run in-process, with no
server and no Dagster instance (the commands at work: e2e/test_cli.py)."""

from __future__ import annotations

import pytest

from focus_pipeline.cli import main
from focus_pipeline_tests.support import environ


def test_status_and_sync_need_dagster_home(monkeypatch, focus_env, capsys) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["status"]) == 2
    assert main(["sync", "--start", "2024-11-28", "--end", "2024-11-28"]) == 2
    err = capsys.readouterr().err
    assert err.count("DAGSTER_HOME is not set: status and sync read and write the Dagster") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2024-10-31", "--end", "2024-11-02"], "lower FOCUS_START_DATE"),
        (["--start", "2024-11-28", "--end", "2024-11-27"], "--end 2024-11-27 is before --start"),
        (["--start", "2024-11-28", "--end", "2999-01-01"], "--end 2999-01-01 is in the future"),
    ],
)
def test_sync_refuses_a_bad_range_before_touching_anything(
    focus_env, tmp_path, capsys, args, message
) -> None:
    with environ({"DAGSTER_HOME": str(tmp_path)}):
        assert main(["sync", *args]) == 2
    assert message in capsys.readouterr().err
