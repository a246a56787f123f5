"""Real Dagster instances for end-to-end tests: SQLite, and PostgreSQL when it is reachable."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from focus_pipeline_tests.support.constants import ROOT

PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "db": "test"}


def postgres_reason() -> str | None:
    """Why the PostgreSQL variant cannot run here, or None when it can."""
    try:
        import psycopg2

        psycopg2.connect(
            host=PG["host"], port=PG["port"], user=PG["user"], dbname=PG["db"], connect_timeout=3
        ).close()
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL at {PG['host']}:{PG['port']} (db {PG['db']}) unreachable: {exc}"
    return None


@contextmanager
def dagster_home(tmp_path: Path, storage: str) -> Iterator[dict[str, str]]:
    """A DAGSTER_HOME with the project's own dagster.yaml for ``storage``; yields its env."""
    home = tmp_path / f"dagster_home_{storage}"
    home.mkdir()
    env = {"DAGSTER_HOME": str(home)}
    if storage == "sqlite":
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        yield env
        return
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)
    import psycopg2

    db = f"focus_e2e_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname=PG["db"])
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {db}")
    shutil.copy(ROOT / "deploy" / "postgres" / "dagster.yaml", home / "dagster.yaml")
    env.update(
        DAGSTER_PG_HOST=PG["host"],
        DAGSTER_PG_PORT=PG["port"],
        DAGSTER_PG_USER=PG["user"],
        DAGSTER_PG_PASSWORD="",
        DAGSTER_PG_DB=db,
    )
    try:
        yield env
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()


@contextmanager
def environ(extra: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
