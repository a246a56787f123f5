"""Benchmark objects: incompressible bytes written once, their MD5s, and byte-exact checks.

The bytes come from AES-CTR over zeros (``cryptography`` ships with ``oci``): random to any
compressor or deduplicator and ~1.5 GB/s on one core, where ``os.urandom`` manages ~160 MB/s
and would spend a minute on the 9 GB a full run needs.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MIB = 1 << 20
_CHUNK = 8 * MIB


@dataclass(frozen=True)
class SourceFile:
    """One object of a workload: its name in the day folder, size and MD5 as OCI lists it."""

    name: str  # e.g. 0001000002103533-lan-00000.csv.gz
    size: int
    md5_b64: str  # the emulator's listing md5: base64 MD5 of the bytes it stored and serves
    path: Path | None = None  # a local copy, for the upload ceiling

    @property
    def md5_hex(self) -> str:
        return base64.b64decode(self.md5_b64).hex()


def random_chunks(size: int, seed: str) -> Iterator[bytes]:
    """``size`` pseudo-random bytes in chunks, the same for the same ``seed``."""
    key = hashlib.sha256(seed.encode()).digest()
    enc = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    zeros = bytes(_CHUNK)
    left = size
    while left:
        n = min(left, _CHUNK)
        yield enc.update(zeros[:n])
        left -= n


def write_random(path: Path, size: int, seed: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for chunk in random_chunks(size, seed):
            fh.write(chunk)


def report_names(label: str, count: int) -> list[str]:
    """Names shaped like Oracle's six-hourly FOCUS report files, unique per workload."""
    return [f"{1000002103533 + i:016d}-{label}-{i:05d}.csv.gz" for i in range(count)]


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def verify_copies(
    files: list[SourceFile], landed: dict[str, Path], others: list[Path], pool: cf.Executor
) -> tuple[bool, str]:
    """Every source file landed once with the same bytes (MD5 of the file), and nothing else.

    ``landed`` maps a source name to its file on disk; ``others`` are any other files under
    the run's prefix (a half-written temporary object would show up there). Returns
    (ok, why-not).
    """
    missing = [f.name for f in files if f.name not in landed]
    if missing:
        return False, f"{len(missing)} missing, e.g. {missing[0]}"
    if others:
        return False, f"{len(others)} unexpected files, e.g. {others[0]}"
    futures = {f.name: pool.submit(md5_file, landed[f.name]) for f in files}
    for f in files:
        path = landed[f.name]
        if path.stat().st_size != f.size:
            return False, f"{f.name}: {path.stat().st_size} bytes, expected {f.size}"
        got = futures[f.name].result()
        if got != f.md5_hex:
            return False, f"{f.name}: md5 {got}, expected {f.md5_hex}"
    return True, ""


def remove_tree(directory: Path) -> None:
    """Delete what a run wrote, so its dirty pages are dropped instead of written back."""
    shutil.rmtree(directory, ignore_errors=True)
