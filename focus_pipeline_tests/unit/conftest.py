"""Unit tests: no server, no Dagster instance, no subprocess; the folder runs in seconds.

``focus_env`` is the pipeline's environment as in the other layers, but without the two local
servers: both endpoints point at a closed port, so a unit test that reached for the network
would fail at once rather than quietly start a server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from focus_pipeline_tests.support import focus_environment

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there
SERVER_FIXTURES = frozenset({"s3_endpoint", "oci_emulator", "proxy", "iam_s3"})


@pytest.fixture(autouse=True)
def _no_servers(request: pytest.FixtureRequest) -> None:
    used = SERVER_FIXTURES.intersection(request.fixturenames)
    if used:
        pytest.fail(f"a unit test starts no server ({', '.join(sorted(used))}): move it up a layer")


@pytest.fixture
def focus_env(monkeypatch: pytest.MonkeyPatch, oci_config_file: Path) -> dict[str, str]:
    """The pipeline's environment, with both endpoints pointing at nothing."""
    env = focus_environment(
        oci_endpoint=CLOSED,
        oci_config_file=str(oci_config_file),
        s3_endpoint=CLOSED,
        s3_bucket="byod-unit",
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
