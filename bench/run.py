"""``make bench``: the pipeline against rclone and the machine's ceilings, on the same copies.

Starts the OCI emulator (``python -m oci_emulator``) and ``rclone serve s3`` (a local
directory) on loopback, each in its own process; seeds one day folder per workload with random
bytes; runs every contender of a workload in turn, ``rounds`` times, rotating who goes first;
verifies every copy byte for byte; prints a table and rewrites the results section of
``docs/benchmarks.md`` and ``docs/benchmarks.png``. Data lives under ``bench/out/`` and is
deleted at the end (``--keep`` keeps it).

    .venv/bin/python bench/run.py [--only lan,wan,small,memory] [--rounds N] [--no-docs]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

# oci_emulator is not installed (pyproject.toml ships focus_pipeline only): import it from the
# repository root.
sys.path.append(str(Path(__file__).resolve().parents[1]))

import contenders
import data
import report
import servers
from contenders import Workload

MIB = 1 << 20
OUT = Path(__file__).resolve().parent / "out"

WORKLOADS = (
    Workload(
        key="lan",
        title="(a) LAN: a day of 4 x 512 MiB, no caps",
        axis="4 x 512 MiB\nno cap",
        day="2024-11-01",
        count=4,
        size=512 * MIB,
        rate_bytes_per_sec=None,
        latency_s=0.0,
        contenders=(
            "pipeline",
            "rclone default",
            "read ceiling",
            "upload ceiling",
            "upload default",
            "copy engine",
        ),
        rounds=3,
        local_files=True,
    ),
    Workload(
        key="wan",
        title="(b) WAN: 8 x 64 MiB, OCI capped at 10 MB/s per connection, 20 ms latency",
        axis="8 x 64 MiB\n10 MB/s/conn, 20 ms",
        day="2024-11-02",
        count=8,
        size=64 * MIB,
        rate_bytes_per_sec=10_000_000,
        latency_s=0.020,
        contenders=("pipeline", "rclone default", "rclone tuned", "read ceiling"),
        rounds=3,
    ),
    Workload(
        key="small",
        title="(c) 200 small files of 1 MiB",
        axis="200 x 1 MiB\nno cap",
        day="2024-11-03",
        count=200,
        size=1 * MIB,
        rate_bytes_per_sec=None,
        latency_s=0.0,
        contenders=("pipeline", "rclone default", "copy engine"),
        rounds=3,
    ),
    Workload(
        key="mem5g",
        title="(d) memory: one 5 GiB file",
        axis="1 x 5 GiB\nno cap",
        day="2024-11-04",
        count=1,
        size=5 * 1024 * MIB,
        rate_bytes_per_sec=None,
        latency_s=0.0,
        contenders=("pipeline", "rclone default"),
        rounds=1,
    ),
    Workload(
        key="mem500m",
        title="(d) memory: one 500 MiB file",
        axis="1 x 500 MiB\nno cap",
        day="2024-11-05",
        count=1,
        size=500 * MIB,
        rate_bytes_per_sec=None,
        latency_s=0.0,
        contenders=("pipeline", "rclone default"),
        rounds=1,
    ),
)
GROUPS = {"lan": ["lan"], "wan": ["wan"], "small": ["small"], "memory": ["mem5g", "mem500m"]}


def seed(bench: contenders.Bench, workloads: list[Workload]) -> None:
    """Put each workload's objects into its day folder; record their listed size and MD5."""
    jobs = []
    for wl in workloads:
        for name in data.report_names(wl.key, wl.count):
            jobs.append((wl, name))

    def put(job: tuple[Workload, str]) -> None:
        wl, name = job
        seed_key = f"{wl.key}/{name}"
        if wl.local_files:
            path = bench.workdir / "src" / wl.key / name
            data.write_random(path, wl.size, seed_key)
            with open(path, "rb") as fh:
                bench.emulator.put(wl.folder + name, fh, wl.size)
        else:
            bench.emulator.put(wl.folder + name, data.random_chunks(wl.size, seed_key), wl.size)

    # Two at a time: generation and the emulator's hashing each want a core.
    list(bench.pool.map(put, jobs))
    for wl in workloads:
        listed = {o["name"]: o for o in bench.emulator.list(wl.folder)}
        files = []
        for name in data.report_names(wl.key, wl.count):
            obj = listed[wl.folder + name]
            path = bench.workdir / "src" / wl.key / name if wl.local_files else None
            files.append(data.SourceFile(name, int(obj["size"]), obj["md5"], path))
        bench.sources[wl.key] = files


def run_workload(bench: contenders.Bench, wl: Workload, rounds: int) -> list[contenders.RunResult]:
    bench.emulator.settings(wl.rate_bytes_per_sec, wl.latency_s)
    results = []
    try:
        for r in range(rounds):
            order = list(wl.contenders)
            # Rotate who goes first so no contender always inherits the previous one's
            # write-back or a warmer cache.
            order = order[r % len(order) :] + order[: r % len(order)]
            for name in order:
                res = bench.run(wl, name, r + 1)
                results.append(res)
                status = "ok" if res.verified else f"FAILED: {res.note}"
                print(
                    f"  {wl.key:8} round {r + 1} {name:15} wall {res.wall:7.2f}s "
                    f"copy {res.copy_seconds:7.2f}s {res.mb_per_s:7.1f} MB/s "
                    f"rss {res.peak_rss / MIB:6.0f} MiB  {status}",
                    flush=True,
                )
                contenders.wait_quiet()
    finally:
        bench.emulator.settings(None, 0.0)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="lan,wan,small,memory", help="workload groups")
    parser.add_argument("--rounds", type=int, default=None, help="override rounds per workload")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.*")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/work afterwards")
    args = parser.parse_args(argv)
    keys = [k for g in args.only.split(",") for k in GROUPS[g.strip()]]
    workloads = [w for w in WORKLOADS if w.key in keys]

    started = time.monotonic()
    workdir = OUT / "work"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "logs").mkdir(parents=True)
    free = shutil.disk_usage(OUT).free
    need = sum(w.total_bytes * (2 if w.local_files else 1) for w in workloads) + 6 * 1024 * MIB
    if free < need:
        print(f"need ~{need / 2**30:.0f} GiB free under {OUT}, have {free / 2**30:.0f} GiB")
        return 2

    oci_config = _oci_config(workdir / "oci")
    emulator = servers.Emulator(workdir)
    s3 = servers.RcloneS3(workdir)
    pool = cf.ThreadPoolExecutor(2)
    results: list[contenders.RunResult] = []
    try:
        bench = contenders.Bench(workdir, emulator, s3, oci_config, pool)
        t = time.monotonic()
        seed(bench, workloads)
        seeded = time.monotonic() - t
        # The seed left gigabytes of dirty pages; their write-back would land in the first
        # runs. Flush them now so every run starts from the same clean page cache.
        os.sync()
        total_gib = sum(w.total_bytes for w in workloads) / 2**30
        print(
            f"seeded {total_gib:.1f} GiB in {seeded:.0f}s, flushed to disk in "
            f"{time.monotonic() - t - seeded:.0f}s",
            flush=True,
        )
        for wl in workloads:
            print(wl.title, flush=True)
            results.extend(run_workload(bench, wl, args.rounds or wl.rounds))
    finally:
        pool.shutdown()
        emulator.stop()
        s3.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.monotonic() - started
    (OUT / "results.json").write_text(
        json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8"
    )
    summary = report.summarize(workloads, results)
    print()
    print(report.text_table(summary))
    print()
    print(report.text_targets(summary))
    print(f"\nmake bench: {elapsed / 60:.1f} min wall in all")
    if not args.no_docs:
        report.write_docs(workloads, summary, results, elapsed)
        print("wrote docs/benchmarks.md and docs/benchmarks.png")
    return 0 if all(r.verified for r in results) else 1


def _oci_config(directory: Path) -> Path:
    """A throwaway RSA key and config: the SDK (and rclone) sign with it; nothing checks it."""
    from oci_emulator import make_oci_config

    config_file, _ = make_oci_config(directory)
    return config_file


if __name__ == "__main__":
    raise SystemExit(main())
