"""deploy/postgres/dagster.yaml against the real PostgreSQL server of this machine (the deploy
files that need no server: unit/test_deploy_files_and_docs.py)."""

from __future__ import annotations

import dagster as dg

from focus_pipeline_tests.support import dagster_home, environ


def test_postgres_instance_yaml_loads_with_its_policies(tmp_path) -> None:
    """deploy/postgres/dagster.yaml against the real PostgreSQL (skipped, with the reason,
    when it is unreachable): storage, run queue, monitoring, retries, retention, logs."""
    with (
        dagster_home(tmp_path, "postgres") as home_env,
        environ(home_env),
        dg.DagsterInstance.get() as instance,
    ):
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert queue.tag_concurrency_limits == [
            {
                "key": "dagster/partition",
                "value": {"applyLimitPerUniqueValue": True},
                "limit": 1,
            }
        ]
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.managed_python_loggers == ["focus_pipeline"]
        assert instance.get_settings("retention")["sensor"]["purge_after_days"]["success"] == -1
        instance.get_runs(limit=1)  # the schema exists and answers
