"""`make demo`: the pipeline on local stand-ins for OCI and S3, in one command.

Starts the OCI Object Storage emulator (seeded with a few recent days of synthetic FOCUS
reports), a moto S3 server with the destination bucket, and ``dagster dev`` with a persistent
DAGSTER_HOME under ``.demo/`` (without one, ``dagster dev`` deletes the event log on exit, and
the event log is the transfer state). Ctrl-C stops all three.

    python scripts/demo.py              # start everything
    python scripts/demo.py add-report   # drop a new report into today's folder (sensor picks it up)

Ports: FOCUS_DEMO_OCI_PORT (8765), FOCUS_DEMO_S3_PORT (8766), FOCUS_DEMO_UI_PORT (3000).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
# oci_emulator is not installed (pyproject.toml ships focus_pipeline only): import it from the
# repository root.
sys.path.append(str(ROOT))
DEMO = ROOT / ".demo"
BIN = Path(sys.executable).parent
S3_BUCKET = "umbrella-byod-demo"
S3_PREFIX = "byod/demo-account"

log = logging.getLogger("focus_pipeline.demo")


def ports() -> tuple[int, int, int]:
    return (
        int(os.environ.get("FOCUS_DEMO_OCI_PORT", "8765")),
        int(os.environ.get("FOCUS_DEMO_S3_PORT", "8766")),
        int(os.environ.get("FOCUS_DEMO_UI_PORT", "3000")),
    )


def wait_http(url: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up within {timeout:.0f}s")


def demo_env(oci_port: int, s3_port: int) -> dict[str, str]:
    from oci_emulator import TENANCY_OCID, make_oci_config

    config_file = DEMO / "oci" / "oci_config"
    if not config_file.exists():
        make_oci_config(config_file.parent)
    home = DEMO / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    today = dt.datetime.now(dt.timezone.utc).date()
    return {
        "DAGSTER_HOME": str(home),
        "FOCUS_OCI_BUCKET": TENANCY_OCID,
        "FOCUS_OCI_CONFIG_FILE": str(config_file),
        "FOCUS_OCI_ENDPOINT": f"http://127.0.0.1:{oci_port}",
        "FOCUS_S3_BUCKET": S3_BUCKET,
        "FOCUS_S3_PREFIX": S3_PREFIX,
        "FOCUS_S3_REGION": "us-east-1",
        "FOCUS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "FOCUS_START_DATE": (today - dt.timedelta(days=14)).isoformat(),
        # Short enough that a new report lands within about a minute.
        "FOCUS_POLL_INTERVAL_SECONDS": "30",
        # moto accepts any key; these never leave this machine.
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def up() -> int:
    oci_port, s3_port, ui_port = ports()
    DEMO.mkdir(exist_ok=True)
    env = {**os.environ, **demo_env(oci_port, s3_port)}
    children: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> None:
        logfile = open(DEMO / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        # Each child leads its own process group, so stopping it also stops what it started
        # (dagster dev runs a webserver, a daemon and code servers), whichever signal this
        # script got and whether or not SIGINT was ignored where it was launched.
        children.append(
            subprocess.Popen(
                args,
                env=env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        )

    def stop(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # whatever of the group is left

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        start(
            [
                sys.executable,
                "-m",
                "oci_emulator",
                "--port",
                str(oci_port),
                "--data-dir",
                str(DEMO / "oci" / "data"),
                "--seed-days",
                "3",
                "--files-per-day",
                "2",
            ],  # fmt: skip
            "oci-emulator",
        )
        start([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)], "moto")
        wait_http(f"http://127.0.0.1:{oci_port}/_emulator/health")
        wait_http(f"http://127.0.0.1:{s3_port}/moto-api/")
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=env["FOCUS_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        s3.create_bucket(Bucket=S3_BUCKET)
        start(
            [
                str(BIN / "dagster"),
                "dev",
                "-m",
                "focus_pipeline.definitions",
                "-h",
                "127.0.0.1",
                "-p",
                str(ui_port),
            ],  # fmt: skip
            "dagster",
        )
        wait_http(f"http://127.0.0.1:{ui_port}/server_info", timeout=180)
        log.info(
            "\n  Dagster UI:    http://127.0.0.1:%d\n"
            "  OCI emulator:  http://127.0.0.1:%d (namespace bling, bucket %s)\n"
            "  S3 (moto):     http://127.0.0.1:%d (bucket %s, prefix %s)\n"
            "  DAGSTER_HOME:  %s\n"
            "  Logs:          %s/*.log\n"
            "  New report:    .venv/bin/python scripts/demo.py add-report\n"
            "  Stop:          Ctrl-C",
            ui_port, oci_port, env["FOCUS_OCI_BUCKET"], s3_port, S3_BUCKET, S3_PREFIX,
            env["DAGSTER_HOME"], DEMO,
        )  # fmt: skip
        while all(c.poll() is None for c in children):
            time.sleep(1)
        log.error("a demo process exited; see %s/*.log", DEMO)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


def add_report() -> int:
    """PUT a fresh report into today's folder through the emulator's REST API."""
    from focus_pipeline.lib.naming import OCI_REPORTS_PREFIX
    from oci_emulator import TENANCY_OCID, focus_report_bytes

    oci_port, _, _ = ports()
    today = dt.datetime.now(dt.timezone.utc).date()
    file_id = f"{int(time.time()):016d}"
    name = f"{OCI_REPORTS_PREFIX}{today:%Y/%m/%d}/{file_id}-00001.csv.gz"
    url = f"http://127.0.0.1:{oci_port}/n/bling/b/{TENANCY_OCID}/o/{quote(name, safe='')}"
    body = focus_report_bytes(today, rows=500, seed=int(time.time()))
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"authorization": "demo"}
    )
    urllib.request.urlopen(request, timeout=10).close()
    log.info("Added %s (%d bytes); the sensor copies it on its next tick.", name, len(body))
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="up", choices=["up", "add-report"])
    args = parser.parse_args()
    return add_report() if args.command == "add-report" else up()


if __name__ == "__main__":
    sys.exit(main())
