"""The contenders, each run as the command a user (or the ceiling script) would run.

Every run writes under a fresh destination prefix, is verified byte for byte (MD5 of each
landed file against the source's), and then has its files deleted so the next run starts from
the same state: an empty prefix and a cold destination directory.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import data
import procmon
import servers

from focus_pipeline.lib.naming import OCI_REPORTS_PREFIX

DAGSTER = str(Path(servers.PYTHON).parent / "dagster")
BENCH = Path(__file__).resolve().parent
# rclone's recommended hand tuning for many files over a slow link (issue 5's figures).
RCLONE_TUNED_FLAGS = (
    "--transfers",
    "8",
    "--multi-thread-cutoff",
    "8M",
    "--multi-thread-streams",
    "8",
)
RUN_TIMEOUT = 600.0


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    axis: str  # label on the plot: file size and connection cap
    day: str  # YYYY-MM-DD: one day folder per workload
    count: int
    size: int
    rate_bytes_per_sec: int | None
    latency_s: float
    contenders: tuple[str, ...]
    rounds: int
    local_files: bool = False  # the upload ceiling needs the bytes in local files

    @property
    def folder(self) -> str:
        return f"{OCI_REPORTS_PREFIX}{self.day.replace('-', '/')}/"

    @property
    def total_bytes(self) -> int:
        return self.count * self.size


@dataclass
class RunResult:
    workload: str
    contender: str
    round: int
    wall: float  # seconds, the whole command
    copy_seconds: float  # seconds of copying alone (pipeline: metadata; ceilings: own timer)
    bytes: int
    files: int
    peak_rss: int  # bytes, of the process that moved the bytes
    rss_process: str
    cpu: float  # CPU seconds of that process
    server_cpu: float  # rclone serve s3, during the run
    emulator_cpu: float  # OCI emulator, during the run
    verified: bool
    command: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.copy_seconds if self.copy_seconds else 0.0

    @property
    def wall_mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.wall if self.wall else 0.0

    @property
    def files_per_s(self) -> float:
        return self.files / self.copy_seconds if self.copy_seconds else 0.0


class Bench:
    """Shared state of a benchmark: servers, configs, source listings and a scratch area."""

    def __init__(
        self,
        workdir: Path,
        emulator: servers.Emulator,
        s3: servers.RcloneS3,
        oci_config: Path,
        pool: cf.Executor,
    ) -> None:
        self.workdir = workdir
        self.emulator = emulator
        self.s3 = s3
        self.oci_config = oci_config
        self.pool = pool
        self.rclone_conf = workdir / "rclone.conf"
        self.rclone_conf.write_text(
            "[oci]\n"
            "type = oracleobjectstorage\n"
            # Signs requests with the same throwaway API key as the pipeline (see docs).
            "provider = user_principal_auth\n"
            f"config_file = {oci_config}\n"
            "config_profile = DEFAULT\n"
            f"namespace = {servers.NAMESPACE}\n"
            "region = us-ashburn-1\n"
            f"endpoint = {emulator.endpoint}\n"
            "\n"
            "[dst]\n"
            "type = s3\n"
            "provider = Rclone\n"
            f"endpoint = {s3.endpoint}\n"
            f"access_key_id = {servers.ACCESS_KEY}\n"
            f"secret_access_key = {servers.SECRET_KEY}\n",
            encoding="utf-8",
        )
        self.sources: dict[str, list[data.SourceFile]] = {}
        self._seq = 0
        self._dagster_yaml = (servers.ROOT / "dagster.yaml").read_text(encoding="utf-8")

    def next_prefix(self, contender: str) -> str:
        self._seq += 1
        return f"run{self._seq:03d}-{contender.replace(' ', '-')}"

    # -- one run ----------------------------------------------------------------------------------

    def run(self, wl: Workload, contender: str, round_no: int) -> RunResult:
        prefix = self.next_prefix(contender)
        runner = {
            "pipeline": self._pipeline,
            "rclone default": lambda w, p: self._rclone(w, p, ()),
            "rclone tuned": lambda w, p: self._rclone(w, p, RCLONE_TUNED_FLAGS),
            "read ceiling": self._read_ceiling,
            "upload ceiling": self._upload_ceiling,
            "upload default": lambda w, p: self._upload_ceiling(w, p, boto3_defaults=True),
            "copy engine": self._engine,
        }[contender]
        server0 = procmon.cpu_seconds(self.s3.proc.pid)
        emu0 = procmon.cpu_seconds(self.emulator.proc.pid)
        result = runner(wl, prefix)
        result.server_cpu = procmon.cpu_seconds(self.s3.proc.pid) - server0
        result.emulator_cpu = procmon.cpu_seconds(self.emulator.proc.pid) - emu0
        result.round = round_no
        data.remove_tree(self.s3.bucket_dir / prefix)
        return result

    def _verify(self, wl: Workload, prefix: str, key_name: dict[str, str]) -> tuple[bool, str]:
        """Check the files under ``prefix``; ``key_name`` maps a landed file's name (its key
        after the prefix) to the source object's name."""
        root = self.s3.bucket_dir / prefix
        found = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
        landed = {key_name[p.name]: p for p in found if p.parent == root and p.name in key_name}
        others = [p for p in found if p not in landed.values()]
        return data.verify_copies(self.sources[wl.key], landed, others, self.pool)

    def _env(self) -> dict[str, str]:
        return servers.s3_env()

    def _focus_env(self, prefix: str) -> dict[str, str]:
        """The pipeline's settings: where the servers are, and nothing else (defaults)."""
        env = self._env()
        env.update(
            FOCUS_OCI_NAMESPACE=servers.NAMESPACE,
            FOCUS_OCI_BUCKET=servers.TENANCY,
            FOCUS_OCI_CONFIG_FILE=str(self.oci_config),
            FOCUS_OCI_ENDPOINT=self.emulator.endpoint,
            FOCUS_S3_BUCKET=servers.S3_BUCKET,
            FOCUS_S3_PREFIX=prefix,
            FOCUS_S3_REGION=servers.S3_REGION,
            FOCUS_S3_ENDPOINT_URL=self.s3.endpoint,
            FOCUS_START_DATE="2024-11-01",
            # Only on failure: a failed run fails the benchmark now, not after Dagster's
            # minutes of step-retry back-off. Transfer settings all stay at their defaults.
            FOCUS_STEP_RETRIES="0",
        )
        return env

    def _pipeline(self, wl: Workload, prefix: str) -> RunResult:
        home = self.workdir / "dagster" / prefix
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(self._dagster_yaml, encoding="utf-8")
        env = self._focus_env(prefix)
        env["DAGSTER_HOME"] = str(home)
        cmd = [
            DAGSTER, "asset", "materialize",
            "-m", "focus_pipeline.definitions",
            "--select", "byod_focus_reports",
            "--partition", wl.day,
        ]  # fmt: skip
        log = self.workdir / "logs" / f"{prefix}.log"
        m = procmon.run_measured(cmd, env, log, RUN_TIMEOUT, cwd=self.workdir)
        # The step runs in a child the multiprocess executor spawns: that process copies.
        worker = m.pick(lambda p: "spawn_main" in p.cmdline) or m.procs[m.root_pid]
        meta = _materialization_metadata(home, wl.day) if m.returncode == 0 else {}
        ok, why = (False, f"exit {m.returncode}, see {log}")
        if m.returncode == 0:
            names = {f"{wl.day}_{f.name}": f.name for f in self.sources[wl.key]}
            ok, why = self._verify(wl, prefix, names)
        shutil.rmtree(home, ignore_errors=True)
        return RunResult(
            workload=wl.key,
            contender="pipeline",
            round=0,
            wall=m.wall,
            copy_seconds=float(meta.get("seconds", 0.0)),
            bytes=int(meta.get("bytes_copied", 0)),
            files=int(meta.get("files_copied", 0)),
            peak_rss=worker.peak_rss,
            rss_process="dagster step worker",
            cpu=worker.cpu_seconds,
            server_cpu=0.0,
            emulator_cpu=0.0,
            verified=ok,
            command=cmd,
            note=why,
        )

    def _rclone(self, wl: Workload, prefix: str, flags: tuple[str, ...]) -> RunResult:
        cmd = [
            servers.RCLONE, "--config", str(self.rclone_conf), "copy",
            f"oci:{servers.TENANCY}/{wl.folder.rstrip('/')}",
            f"dst:{servers.S3_BUCKET}/{prefix}",
            *flags,
        ]  # fmt: skip
        log = self.workdir / "logs" / f"{prefix}.log"
        m = procmon.run_measured(cmd, self._env(), log, RUN_TIMEOUT)
        ok, why = (False, f"exit {m.returncode}, see {log}")
        if m.returncode == 0:
            ok, why = self._verify(wl, prefix, {f.name: f.name for f in self.sources[wl.key]})
        root = m.procs[m.root_pid]
        return RunResult(
            workload=wl.key,
            contender="rclone tuned" if flags else "rclone default",
            round=0,
            wall=m.wall,
            copy_seconds=m.wall,
            bytes=wl.total_bytes,
            files=wl.count,
            peak_rss=m.child_maxrss,
            rss_process="rclone",
            cpu=m.child_cpu or root.cpu_seconds,
            server_cpu=0.0,
            emulator_cpu=0.0,
            verified=ok,
            command=cmd,
            note=why,
        )

    def _script(self, wl: Workload, prefix: str, name: str, cmd: list[str]) -> RunResult:
        log = self.workdir / "logs" / f"{prefix}.log"
        m = procmon.run_measured(cmd, self._env(), log, RUN_TIMEOUT, cwd=servers.ROOT)
        out: dict = {}
        if m.returncode == 0:
            out = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
        return RunResult(
            workload=wl.key,
            contender=name,
            round=0,
            wall=m.wall,
            copy_seconds=float(out.get("seconds", 0.0)),
            bytes=int(out.get("bytes", 0)),
            files=wl.count,
            peak_rss=m.child_maxrss,
            rss_process=Path(cmd[1]).name,
            cpu=m.child_cpu,
            server_cpu=0.0,
            emulator_cpu=0.0,
            verified=m.returncode == 0,
            command=cmd,
            note="" if m.returncode == 0 else f"exit {m.returncode}, see {log}",
        )

    def _engine(self, wl: Workload, prefix: str) -> RunResult:
        cmd = [servers.PYTHON, str(BENCH / "engine_copy.py"), wl.day]
        log = self.workdir / "logs" / f"{prefix}.log"
        # From the scratch directory, like the pipeline: no stray .env is read.
        m = procmon.run_measured(cmd, self._focus_env(prefix), log, RUN_TIMEOUT, cwd=self.workdir)
        out: dict = {}
        ok, why = (False, f"exit {m.returncode}, see {log}")
        if m.returncode == 0:
            out = json.loads(log.read_text(encoding="utf-8").strip().splitlines()[-1])
            names = {f"{wl.day}_{f.name}": f.name for f in self.sources[wl.key]}
            ok, why = self._verify(wl, prefix, names)
        return RunResult(
            workload=wl.key,
            contender="copy engine",
            round=0,
            wall=m.wall,
            copy_seconds=float(out.get("seconds", 0.0)),
            bytes=int(out.get("bytes", 0)),
            files=int(out.get("files", 0)),
            peak_rss=m.child_maxrss,
            rss_process="engine_copy.py",
            cpu=m.child_cpu,
            server_cpu=0.0,
            emulator_cpu=0.0,
            verified=ok,
            command=cmd,
            note=why,
        )

    def _read_ceiling(self, wl: Workload, prefix: str) -> RunResult:
        cmd = [
            servers.PYTHON, str(BENCH / "ceiling_read.py"), str(self.oci_config),
            self.emulator.endpoint, servers.TENANCY, wl.folder,
        ]  # fmt: skip
        result = self._script(wl, prefix, "read ceiling", cmd)
        if result.verified and result.bytes != wl.total_bytes:
            result.verified = False
            result.note = f"read {result.bytes} bytes, expected {wl.total_bytes}"
        return result

    def _upload_ceiling(self, wl: Workload, prefix: str, boto3_defaults: bool = False) -> RunResult:
        files = self.sources[wl.key]
        flags = ["--boto3-defaults"] if boto3_defaults else []
        cmd = [
            servers.PYTHON, str(BENCH / "ceiling_upload.py"), *flags, self.s3.endpoint,
            servers.S3_BUCKET, prefix, *(str(f.path) for f in files),
        ]  # fmt: skip
        name = "upload default" if boto3_defaults else "upload ceiling"
        result = self._script(wl, prefix, name, cmd)
        if result.verified:
            result.verified, result.note = self._verify(wl, prefix, {f.name: f.name for f in files})
        return result


def _materialization_metadata(home: Path, day: str) -> dict[str, object]:
    """The copy's own figures (``seconds``, ``mb_per_s``, ...) from the run's instance."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    from focus_pipeline.defs.state import BYOD_ASSET

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=BYOD_ASSET, asset_partitions=[day]), limit=1
        ).records
    if not records:
        return {}
    meta = records[0].asset_materialization.metadata
    return {
        k: v.value
        for k, v in meta.items()
        if k in ("seconds", "bytes_copied", "files_copied", "mb_per_s")
    }


def wait_quiet(seconds: float = 0.5) -> None:
    """A breath between runs so one run's write-back and teardown do not land in the next."""
    time.sleep(seconds)
