"""Medians, pair-by-pair ratios, the targets of issue 5, and docs/benchmarks.{md,png}.

Ratios are computed round by round (pipeline against the contender it ran next to in the same
round), then the median is taken: a slow moment on this shared machine then hurts one pair,
not one side of every comparison.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import servers
from contenders import RunResult, Workload

MIB = 1 << 20
DOCS = servers.ROOT / "docs"
START = "<!-- bench:results:start (written by bench/run.py; edits here are overwritten) -->"
END = "<!-- bench:results:end -->"


@dataclass
class Row:
    workload: str
    contender: str
    runs: int
    wall: float  # median, seconds
    copy: float  # median, seconds
    mb_per_s: float  # from the median copy time
    wall_mb_per_s: float
    files_per_s: float
    peak_rss_mib: float  # max over runs
    cpu: float  # median CPU seconds of the copying process
    server_cpu: float  # median CPU seconds of rclone serve s3
    verified: bool
    vs_rclone: float | None = None  # pipeline/rclone default throughput, copy only
    vs_rclone_wall: float | None = None  # the same with Dagster's run start-up included
    vs_tuned: float | None = None
    vs_upload: float | None = None  # pipeline / upload ceiling
    vs_upload_default: float | None = None  # pipeline / boto3 upload with boto3's defaults
    vs_read: float | None = None


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)

    def row(self, workload: str, contender: str) -> Row | None:
        for r in self.rows:
            if r.workload == workload and r.contender == contender:
                return r
        return None


def _pairwise(
    results: Sequence[RunResult], wl: str, other: str, wall: bool = False, mine: str = "pipeline"
) -> float | None:
    """Median over rounds of (other's seconds / mine): above 1, ``mine`` was faster."""
    by_round: dict[int, dict[str, RunResult]] = {}
    for r in results:
        if r.workload == wl:
            by_round.setdefault(r.round, {})[r.contender] = r
    ratios = []
    for pair in by_round.values():
        p, o = pair.get(mine), pair.get(other)
        if p and o and p.copy_seconds and o.copy_seconds:
            seconds = p.wall if wall else p.copy_seconds
            ratios.append(o.copy_seconds / seconds)
    return statistics.median(ratios) if ratios else None


def summarize(workloads: Sequence[Workload], results: Sequence[RunResult]) -> Summary:
    s = Summary()
    for wl in workloads:
        for name in wl.contenders:
            runs = [r for r in results if r.workload == wl.key and r.contender == name]
            if not runs:
                continue
            copy = statistics.median(r.copy_seconds for r in runs)
            wall = statistics.median(r.wall for r in runs)
            total = runs[0].bytes or wl.total_bytes
            row = Row(
                workload=wl.key,
                contender=name,
                runs=len(runs),
                wall=wall,
                copy=copy,
                mb_per_s=total / 1e6 / copy if copy else 0.0,
                wall_mb_per_s=total / 1e6 / wall if wall else 0.0,
                files_per_s=wl.count / copy if copy else 0.0,
                peak_rss_mib=max(r.peak_rss for r in runs) / MIB,
                cpu=statistics.median(r.cpu for r in runs),
                server_cpu=statistics.median(r.server_cpu for r in runs),
                verified=all(r.verified for r in runs),
            )
            if name in ("pipeline", "copy engine"):
                row.vs_rclone = _pairwise(results, wl.key, "rclone default", mine=name)
                row.vs_rclone_wall = _pairwise(
                    results, wl.key, "rclone default", wall=True, mine=name
                )
                row.vs_tuned = _pairwise(results, wl.key, "rclone tuned", mine=name)
                row.vs_upload = _pairwise(results, wl.key, "upload ceiling", mine=name)
                row.vs_upload_default = _pairwise(results, wl.key, "upload default", mine=name)
                row.vs_read = _pairwise(results, wl.key, "read ceiling", mine=name)
            s.rows.append(row)
    _targets(s)
    return s


def _check(value: float | None, ok: bool | None) -> bool | None:
    return None if value is None else ok


# Issue 5's ratio targets: (workload, label, ratio attribute of the pipeline row, minimum,
# how the figure is shown).
RATIO_TARGETS = (
    ("lan", "(a) >= 1.1x rclone default", "vs_rclone", 1.1, "x"),
    ("lan", "(a) >= 80% of the boto3 upload ceiling (the pipeline's S3 client)", "vs_upload",
     0.8, "%"),
    ("lan", "(a) >= 80% of a boto3 upload with boto3's default client", "vs_upload_default",
     0.8, "%"),
    ("wan", "(b) >= 2.5x rclone default", "vs_rclone", 2.5, "x"),
    ("wan", "(b) >= 0.9x rclone tuned", "vs_tuned", 0.9, "x"),
)  # fmt: skip


def _targets(s: Summary) -> None:
    for workload, label, attr, minimum, shown in RATIO_TARGETS:
        p = s.row(workload, "pipeline")
        if p:
            value = getattr(p, attr)
            figure = _pct(value) if shown == "%" else _x(value)
            s.targets.append((label, figure, _check(value, (value or 0) >= minimum)))
    p, r = s.row("small", "pipeline"), s.row("small", "rclone default")
    if p and r:
        s.targets.append(
            (
                "(c) >= rclone's files per second (copy only)",
                f"{p.files_per_s:.0f} vs {r.files_per_s:.0f} files/s ({_x(p.vs_rclone)})",
                _check(p.vs_rclone, (p.vs_rclone or 0) >= 1.0),
            )
        )
    big, small = s.row("mem5g", "pipeline"), s.row("mem500m", "pipeline")
    if big:
        s.targets.append(
            (
                "(d) peak RSS <= 300 MiB copying 5 GiB",
                f"{big.peak_rss_mib:.0f} MiB",
                big.peak_rss_mib <= 300,
            )
        )
    if big and small:
        diff = big.peak_rss_mib - small.peak_rss_mib
        s.targets.append(
            (
                "(d) 5 GiB within 64 MiB of 500 MiB",
                f"{big.peak_rss_mib:.0f} vs {small.peak_rss_mib:.0f} MiB ({diff:+.0f})",
                abs(diff) <= 64,
            )
        )


def _x(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.0f}%"


def _f(v: float | None, fmt: str) -> str:
    return "" if v is None else format(v, fmt)


HEADER = (
    "workload",
    "contender",
    "runs",
    "wall s",
    "copy s",
    "MB/s",
    "MB/s e2e",
    "files/s",
    "peak RSS MiB",
    "CPU s",
    "serve CPU s",
    "vs rclone",
    "vs rclone e2e",
    "vs tuned",
    "vs upload ceil.",
    "vs upload dflt",
    "ok",
)


def _cells(r: Row) -> list[str]:
    return [
        r.workload,
        r.contender,
        str(r.runs),
        f"{r.wall:.2f}",
        f"{r.copy:.2f}",
        f"{r.mb_per_s:.1f}",
        f"{r.wall_mb_per_s:.1f}",
        f"{r.files_per_s:.1f}",
        f"{r.peak_rss_mib:.0f}",
        f"{r.cpu:.1f}",
        f"{r.server_cpu:.1f}",
        _f(r.vs_rclone, ".2f"),
        _f(r.vs_rclone_wall, ".2f"),
        _f(r.vs_tuned, ".2f"),
        _f(r.vs_upload, ".2f"),
        _f(r.vs_upload_default, ".2f"),
        "yes" if r.verified else "NO",
    ]


def text_table(s: Summary) -> str:
    rows = [list(HEADER)] + [_cells(r) for r in s.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            c.rjust(w) if i > 1 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def text_targets(s: Summary) -> str:
    out = []
    for name, value, ok in s.targets:
        mark = "n/a " if ok is None else ("MET " if ok else "MISS")
        out.append(f"{mark} {name}: {value}")
    return "\n".join(out)


def markdown_table(s: Summary) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in s.rows]
    return "\n".join(lines)


def _environment() -> str:
    try:
        rclone = subprocess.run(
            [servers.RCLONE, "version"], capture_output=True, text=True, timeout=10
        ).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        rclone = "rclone ?"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {rclone}"
    )


def _commands(results: Sequence[RunResult]) -> str:
    seen: dict[str, list[str]] = {}
    for r in results:
        seen.setdefault(r.contender, r.command)
    lines = []
    for name, cmd in seen.items():
        shown = " ".join(f"'{c}'" if " " in c else c for c in cmd)
        shown = shown.replace(str(servers.ROOT) + "/", "")
        lines.append(f"- {name}: `{shown}`")
    return "\n".join(lines)


def write_docs(
    workloads: Sequence[Workload], s: Summary, results: Sequence[RunResult], elapsed: float
) -> None:
    DOCS.mkdir(exist_ok=True)
    plot(workloads, s, DOCS / "benchmarks.png")
    section = "\n".join(
        [
            START,
            f"Last full run: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"`make bench` took {elapsed / 60:.1f} min. Machine: {_environment()}.",
            "",
            markdown_table(s),
            "",
            "Targets (medians of pair-by-pair ratios, same run, default settings):",
            "",
            *[
                f"- {'n/a' if ok is None else ('met' if ok else '**missed**')}: {name}: {value}"
                for name, value, ok in s.targets
            ],
            "",
            "Exact commands of this run (ports and the run prefix change every run):",
            "",
            _commands(results),
            "",
            "![throughput and peak memory](benchmarks.png)",
            END,
        ]
    )
    path = DOCS / "benchmarks.md"
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else "# Benchmarks\n\n" + START + "\n" + END + "\n"
    )
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def plot(workloads: Sequence[Workload], s: Summary, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [
        "pipeline",
        "copy engine",
        "rclone default",
        "rclone tuned",
        "read ceiling",
        "upload ceiling",
        "upload default",
    ]
    colors = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#c5e0b4"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8), constrained_layout=True)
    x = range(len(workloads))
    width = 0.12
    for i, (name, color) in enumerate(zip(names, colors, strict=True)):
        tput, rss, xs = [], [], []
        for j, wl in enumerate(workloads):
            row = s.row(wl.key, name)
            if row:
                xs.append(j + (i - 3) * width)
                tput.append(row.mb_per_s)
                rss.append(row.peak_rss_mib)
        if not xs:
            continue
        ax1.bar(xs, tput, width, label=name, color=color)
        ax2.bar(xs, rss, width, label=name, color=color)
    # The LAN read ceiling (~1.5 GB/s) would flatten every other bar: clip it and label it.
    others = [r.mb_per_s for r in s.rows if r.contender != "read ceiling"]
    top = max(others, default=1.0) * 1.3
    ax1.set_ylim(0, top)
    for bar in ax1.patches:
        if bar.get_height() > top:
            ax1.annotate(
                f"{bar.get_height():.0f}",
                (bar.get_x() + bar.get_width() / 2, top),
                xytext=(0, -10),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    for ax in (ax1, ax2):
        ax.set_xticks(list(x), [wl.axis for wl in workloads])
        ax.grid(axis="y", alpha=0.3)
    ax1.set_ylabel("MB/s (median; pipeline: copy only)")
    ax1.set_title("Throughput by file size and OCI connection cap")
    ax1.legend(ncol=4, fontsize=8, loc="upper right")
    ax2.set_ylabel("peak RSS, MiB (copying process)")
    ax2.set_title("Peak memory")
    # Target (d) is about one 5 GiB file, so its line spans that group only: the LAN day holds
    # four files' windows at once and is not bound by it.
    big = next((j for j, wl in enumerate(workloads) if wl.key == "mem5g"), None)
    if big is not None:
        ax2.hlines(300, big - 0.45, big + 0.45, color="red", linestyle="--", linewidth=0.8)
        ax2.annotate(
            "target (d): 300 MiB", (big, 303), color="red", ha="center", va="bottom", fontsize=8
        )
    fig.savefig(path, dpi=110)
    plt.close(fig)
