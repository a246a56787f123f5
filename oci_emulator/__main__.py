"""Run the OCI Object Storage emulator as a process, seeded with recent FOCUS reports.

Used by the demo, benchmarks and end-to-end tests, which start it, wait for ``--ready-file``
and then drive it with the real SDK plus the ``/_emulator/*`` control endpoints. With
``--data-dir`` the objects (and their etags) survive a restart, so a demo can be resumed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType

from oci_emulator.focus_data import TENANCY_OCID, seed_focus_reports
from oci_emulator.server import OciEmulator

log = logging.getLogger("oci_emulator")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m oci_emulator",
        description="OCI Object Storage emulator seeded with synthetic FOCUS reports.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--namespace", default="bling")
    p.add_argument("--bucket", default=TENANCY_OCID, help="bucket to create (a tenancy OCID)")
    p.add_argument("--data-dir", type=Path, default=None, help="persist objects here")
    p.add_argument("--seed-days", type=int, default=3, help="days of reports, today UTC back")
    p.add_argument("--files-per-day", type=int, default=2)
    p.add_argument("--rows", type=int, default=2000, help="rows per report file")
    p.add_argument("--seed", type=int, default=0, help="data and fault-probability seed")
    p.add_argument(
        "--content-encoding",
        default=None,
        help="store reports with this Content-Encoding (e.g. gzip) to exercise raw copies",
    )
    p.add_argument(
        "--rate-limit-mbps",
        type=float,
        default=None,
        help="per-connection body rate in megabits/s (1 Mbps = 125,000 bytes/s)",
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    p.add_argument("--ready-file", type=Path, default=None, help="endpoint written here")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    rate = int(args.rate_limit_mbps * 125_000) if args.rate_limit_mbps else None
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    if args.ready_file is not None:
        args.ready_file.unlink(missing_ok=True)  # a stale file would signal readiness too early
    emulator = OciEmulator(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        namespace=args.namespace,
        seed=args.seed,
        rate_limit_bytes_per_sec=rate,
        latency_s=args.latency_ms / 1000.0,
    )
    emulator.create_bucket(args.bucket)
    today = datetime.now(timezone.utc).date()
    days = [today - timedelta(days=i) for i in range(args.seed_days)]
    names = seed_focus_reports(
        emulator,
        args.bucket,
        days,
        files_per_day=args.files_per_day,
        rows=args.rows,
        seed=args.seed,
        content_encoding=args.content_encoding,
        skip_existing=True,
    )
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %d, stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    emulator.start()
    try:
        if args.ready_file is not None:
            # Written atomically so a watcher never reads a half-written endpoint.
            tmp = args.ready_file.with_name(args.ready_file.name + ".tmp")
            tmp.write_text(emulator.endpoint + "\n", encoding="utf-8")
            os.replace(tmp, args.ready_file)
        log.info(
            "OCI emulator listening on %s namespace=%s bucket=%s reports=%d rate=%s latency=%.0fms",
            emulator.endpoint,
            args.namespace,
            args.bucket,
            len(names),
            f"{rate} B/s" if rate else "unlimited",
            args.latency_ms,
        )
        while not stop.wait(timeout=1.0):
            pass
    finally:
        emulator.stop()
        if args.ready_file is not None:
            args.ready_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
