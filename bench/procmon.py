"""Run a command and measure its wall time, CPU and the peak RSS of the process that did the work.

Peak RSS is the kernel's own high-water mark (``VmHWM`` in ``/proc/PID/status``), read for
every process of the tree every 50 ms while the command runs (the tree is re-walked every
250 ms to find new processes). The kernel keeps the maximum, so polling cannot miss a short
spike; only growth in a process's last <50 ms goes unseen. For a command that starts no
other process, ``wait4``'s ``ru_maxrss`` gives the exact figure as well.

CPU seconds (user + system) per process come from ``/proc/PID/stat`` the same way (the last
reading before a process exits, so up to 50 ms of it may be missed)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

_TICK = os.sysconf("SC_CLK_TCK")
_POLL_SECONDS = 0.05
_TREE_SECONDS = 0.25


@dataclass
class ProcStats:
    pid: int
    cmdline: str
    peak_rss: int = 0  # bytes
    cpu_seconds: float = 0.0


@dataclass
class Measured:
    returncode: int
    wall: float
    root_pid: int
    procs: dict[int, ProcStats] = field(default_factory=dict)
    # From wait4, exact: the largest of the direct child and the descendants it waited for
    # (the kernel's ru_maxrss), and their CPU seconds summed.
    child_maxrss: int = 0
    child_cpu: float = 0.0

    def pick(self, match: Callable[[ProcStats], bool]) -> ProcStats | None:
        """The matching process with the highest peak RSS."""
        found = [p for p in self.procs.values() if match(p)]
        return max(found, key=lambda p: p.peak_rss) if found else None


def _vm_hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_seconds(pid: int) -> float:
    """CPU (user + system) a running process has used so far, e.g. a server's."""
    return _cpu(pid)


def run_measured(
    cmd: Sequence[str],
    env: dict[str, str],
    log: Path,
    timeout: float,
    cwd: Path | None = None,
) -> Measured:
    """Run ``cmd`` (output to ``log``), polling its process tree until it exits."""
    with open(log, "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        stats: dict[int, ProcStats] = {}
        done = threading.Event()

        def poll() -> None:
            try:
                root = psutil.Process(proc.pid)
            except psutil.NoSuchProcess:
                return
            tree: list[psutil.Process] = [root]
            refreshed = 0.0
            while not done.is_set():
                # Walking /proc for the tree costs a few ms of CPU: do it 4 times a second and
                # read the known processes' own two files in between.
                if time.monotonic() - refreshed > _TREE_SECONDS:
                    try:
                        tree = [root, *root.children(recursive=True)]
                    except psutil.NoSuchProcess:
                        tree = []
                    refreshed = time.monotonic()
                for p in tree:
                    try:
                        st = stats.get(p.pid)
                        if st is None:
                            st = stats[p.pid] = ProcStats(p.pid, " ".join(p.cmdline()))
                        st.peak_rss = max(st.peak_rss, _vm_hwm(p.pid))
                        st.cpu_seconds = max(st.cpu_seconds, _cpu(p.pid))
                    except (psutil.NoSuchProcess, psutil.ZombieProcess, OSError, IndexError):
                        continue
                done.wait(_POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            _, status, usage = _wait4(proc, timeout)
        finally:
            done.set()
            poller.join()
        wall = time.monotonic() - started
    returncode = os.waitstatus_to_exitcode(status)
    stats.setdefault(proc.pid, ProcStats(proc.pid, " ".join(cmd)))
    return Measured(
        returncode=returncode,
        wall=wall,
        root_pid=proc.pid,
        procs=stats,
        child_maxrss=usage.ru_maxrss * 1024,
        child_cpu=usage.ru_utime + usage.ru_stime,
    )


def _wait4(proc: subprocess.Popen, timeout: float):  # type: ignore[no-untyped-def]
    """``os.wait4`` with a deadline: kills the command (and its group) if it overruns."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        if time.monotonic() > deadline:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        time.sleep(0.01)
