"""Sensor tick cost for 7, 31 and 90 day windows x 100 objects a day.

A tick must finish well inside Dagster's 60 s sensor timeout. This starts the OCI emulator
in-process, fills each day folder with 100 objects, records half the days as already copied in
a real (SQLite) instance, then evaluates the sensor as the daemon does and reports the median
tick time, the OCI list calls and the event-log/run-storage queries per tick. ``--latency-ms``
adds per-request latency on the OCI side to stand in for a remote region.

    .venv/bin/python bench/sensor_tick.py [--windows 7 31 90] [--latency-ms 0 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# oci_emulator is not installed (pyproject.toml ships focus_pipeline only): import it from the
# repository root.
sys.path.append(str(Path(__file__).resolve().parents[1]))

import dagster as dg

from focus_pipeline.defs import build_definitions
from focus_pipeline.defs.state import files_copied_event, today_utc
from focus_pipeline.lib.naming import OCI_REPORTS_PREFIX, S3Layout
from focus_pipeline.lib.plan import OciObject
from focus_pipeline.lib.transfer import CopyResult
from focus_pipeline.settings import load_settings
from oci_emulator import TENANCY_OCID, OciEmulator, make_oci_config

OBJECTS_PER_DAY = 100
TICKS = 5


class QueryCounter:
    """Counts the instance's storage reads the sensor makes."""

    METHODS = ("fetch_observations", "fetch_materializations", "get_runs", "get_run_records")

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.count = 0
        for name in self.METHODS:
            original = getattr(instance, name)

            def counted(*args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
                self.count += 1
                return _original(*args, **kwargs)

            setattr(instance, name, counted)


def seed(emu: OciEmulator, instance: dg.DagsterInstance, days: int) -> None:
    for offset in range(days):
        day = today_utc() - dt.timedelta(days=offset)
        landed = []
        for i in range(OBJECTS_PER_DAY):
            name = f"{OCI_REPORTS_PREFIX}{day:%Y/%m/%d}/{i:016d}-00001.csv.gz"
            record = emu.put_object(TENANCY_OCID, name, b"x" * 64)
            obj = OciObject(name=name, size=64, etag=record["etag"], md5=record["md5"])
            key = f"byod/{day.isoformat()}_{i:016d}-00001.csv.gz"
            landed.append(CopyResult(obj, key, record["md5"], seconds=0.0, parts=1, restarts=0))
        if offset % 2:  # every other day already copied, as the event log would say
            event = files_copied_event(
                day.isoformat(), landed, S3Layout("byod", bucket="bench-bucket", endpoint="")
            )
            instance.report_runless_asset_event(event)


def measure(window: int, latency_ms: float, work: Path) -> dict[str, float]:
    config_file, _ = make_oci_config(work / f"oci-{window}-{latency_ms}")
    with OciEmulator(data_dir=work / f"data-{window}-{latency_ms}") as emu:
        emu.create_bucket(TENANCY_OCID)
        os.environ.update(
            FOCUS_OCI_BUCKET=TENANCY_OCID,
            FOCUS_OCI_CONFIG_FILE=str(config_file),
            FOCUS_OCI_ENDPOINT=emu.endpoint,
            FOCUS_S3_BUCKET="bench-bucket",
            FOCUS_S3_PREFIX="byod",
            FOCUS_LOOKBACK_DAYS=str(window),
            FOCUS_START_DATE=(today_utc() - dt.timedelta(days=window + 5)).isoformat(),
            # The ticks between full scans, which are every tick but one a day.
            FOCUS_FULL_SCAN_HOURS="0",
        )
        defs = build_definitions(load_settings())
        sensor = defs.get_sensor_def("oci_focus_reports_sensor")
        home = work / f"home-{window}-{latency_ms}"
        home.mkdir()
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            seed(emu, instance, window)
            emu.latency_s = latency_ms / 1000
            counter = QueryCounter(instance)
            times, requests = [], 0
            for _ in range(TICKS):
                emu.clear_requests()
                counter.count = 0
                with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
                    started = time.perf_counter()
                    result = sensor(ctx)
                    times.append(time.perf_counter() - started)
                requests = len(result.run_requests)
            return {
                "window": window,
                "latency_ms": latency_ms,
                "objects": window * OBJECTS_PER_DAY,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "list_calls": emu.count(op="ListObjects"),
                "storage_queries": counter.count,
                "run_requests": requests,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[7, 31, 90])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 50.0])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for latency in args.latency_ms:
            for window in args.windows:
                rows.append(measure(window, latency, Path(tmp)))
    header = (
        f"{'days':>5} {'objects':>8} {'OCI latency':>12} {'tick median':>12} {'tick max':>9} "
        f"{'list calls':>11} {'event-log/run queries':>22} {'runs requested':>15}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['window']:>5} {r['objects']:>8} {r['latency_ms']:>10.0f}ms "
            f"{r['median_s']:>11.2f}s {r['max_s']:>8.2f}s {r['list_calls']:>11} "
            f"{r['storage_queries']:>22} {r['run_requests']:>15}"
        )


if __name__ == "__main__":
    main()
