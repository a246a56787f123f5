"""What the gzip check (``FOCUS_VERIFY_GZIP``) costs: inflate throughput on one core.

Builds ~100 MiB of FOCUS-shaped gzip CSV (the emulator's synthetic reports: 49 columns, CRLF,
gzip level 6 as Oracle's files are), then runs ``GzipVerifier`` over it in 5 MiB parts, as
the copy feeds it, and prints MB/s of compressed input (what the copy moves) and of inflated
output, with the CPU seconds of the thread doing it. For comparison it also times MD5 over
the same bytes, the check every single-part copy already pays.

Generating 100 MiB of CSV in Python would take minutes, so one report of ``--rows`` rows is
generated and its gzip member repeated (each copy a separate member, as concatenated gzip
files are); inflate speed depends on the data's shape, not on it being unique.

    .venv/bin/python bench/gzip_verify.py [--mib 100] [--rows 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import sys
import time
import zlib
from pathlib import Path

# oci_emulator is not installed (pyproject.toml ships focus_pipeline only): import it from the
# repository root.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from focus_pipeline.lib.gzip_check import GzipVerifier
from oci_emulator import focus_report_bytes

MIB = 1 << 20
PART = 5 * MIB  # the default FOCUS_PART_SIZE_MB: how the copy feeds the verifier


def build(total: int, rows: int) -> tuple[bytes, int]:
    """About ``total`` bytes of gzip: one report's member repeated; and its inflated size."""
    member = focus_report_bytes(dt.date(2024, 11, 28), rows, seed=1)
    copies = max(1, round(total / len(member)))
    return member * copies, len(zlib.decompress(member, 31)) * copies


def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall, CPU of this thread) seconds of ``fn()``."""
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - wall, time.thread_time() - cpu


def verify(data: memoryview) -> None:
    verifier = GzipVerifier("bench.csv.gz")
    for start in range(0, len(data), PART):
        verifier.feed(data[start : start + PART])
    verifier.finish()


def md5(data: memoryview) -> None:
    digest = hashlib.md5()
    for start in range(0, len(data), PART):
        digest.update(data[start : start + PART])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100, help="compressed MiB to verify")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the one report")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    data, inflated = build(args.mib * MIB, args.rows)
    view = memoryview(data)
    print(
        f"{len(data) / MIB:.1f} MiB gzip ({inflated / MIB:.0f} MiB of CSV, ratio "
        f"{inflated / len(data):.1f}x), zlib {zlib.ZLIB_RUNTIME_VERSION}, {args.rounds} rounds"
    )
    for name, fn in (("gzip verify", verify), ("md5", md5)):
        runs = [timed(lambda fn=fn: fn(view)) for _ in range(args.rounds)]
        cpu = statistics.median(c for _, c in runs)
        wall = statistics.median(w for w, _ in runs)
        line = (
            f"{name:12s} wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
            f"{len(data) / 1e6 / cpu:7.1f} MB/s compressed per core  "
            f"{cpu * 1e3 / (len(data) / 1e6):5.2f} ms CPU per MB copied"
        )
        if name == "gzip verify":
            line += f"  {inflated / 1e6 / cpu:7.1f} MB/s inflated"
        print(line)


if __name__ == "__main__":
    main()
