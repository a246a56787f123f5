"""Build a real ``oci`` ObjectStorageClient that talks to the emulator.

Retries and the circuit breaker are disabled so tests see raw behaviour.
"""

from __future__ import annotations

from pathlib import Path

import oci

from oci_emulator import make_oci_config

__all__ = ["make_client", "make_oci_config"]


def make_client(endpoint: str, tmp_dir: Path) -> oci.object_storage.ObjectStorageClient:
    """An ObjectStorageClient against ``endpoint`` with no retries and no circuit breaker."""
    _, config = make_oci_config(tmp_dir)
    return oci.object_storage.ObjectStorageClient(
        config,
        service_endpoint=endpoint,
        retry_strategy=oci.retry.NoneRetryStrategy(),
        circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
    )
