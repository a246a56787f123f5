"""Local stand-in for OCI Object Storage and the FOCUS reports Oracle writes into it.

Why it exists: the pipeline copies FOCUS cost reports out of an Oracle-owned bucket we cannot
write to, so every behaviour the copier depends on (listing pages, checksum headers, etags that
change on overwrite, ranged and conditional GETs, bodies served byte-identical with their
``Content-Encoding``, transient errors, bodies cut mid-stream, a slow cross-cloud link) has to be
reproducible locally and driven by the real ``oci`` SDK over HTTP. It is faithful where the
pipeline's correctness depends on it and deliberately small everywhere else.

It lives beside the ``focus_pipeline`` package, not in it: it is not part of the wheel or the
Docker image. Tests (pytest's ``pythonpath``), the demo and the benchmarks import it from the
repository root; ``python -m oci_emulator`` (run from the root) serves it as a process.

Modules: ``server`` (``OciEmulator``, the façade), ``handler`` (HTTP request handling),
``wire`` (request bodies in, paced responses out), ``routing`` (URL patterns to operations),
``protocol`` (API constants and header helpers), ``storage`` and ``objects`` (buckets and
objects on disk), ``faults``, ``request_log``, ``signatures`` (API keys), ``focus_data``
(synthetic reports), ``oci_config`` (a throwaway SDK config), ``__main__`` (the process).

Dependencies: the server modules use the standard library only, plus ``cryptography``, imported
lazily, once API keys are registered for signature checks. ``focus_data`` (and this package,
which re-exports it) imports the reports prefix from ``focus_pipeline.lib.naming``: the
emulator may import ``focus_pipeline.lib`` (pure Python, no Dagster) and nothing else of
``focus_pipeline`` (never ``defs``, ``settings`` or ``cli``). ``oci_config`` needs the ``oci``
SDK and ``cryptography``; its names below are loaded on first use, so ``import oci_emulator``
and ``python -m oci_emulator`` do not import the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from focus_pipeline.lib.naming import OCI_REPORTS_PREFIX
from oci_emulator.faults import Fault, FaultSet
from oci_emulator.focus_data import (
    DEFAULT_FILE_ID,
    FOCUS_COLUMNS,
    LEGACY_REPORT_NAMES,
    TENANCY_OCID,
    focus_report_bytes,
    focus_report_csv,
    report_name,
    seed_focus_reports,
)
from oci_emulator.objects import ObjectRecord
from oci_emulator.request_log import RequestLog, RequestRecord
from oci_emulator.routing import OPERATIONS
from oci_emulator.server import OciEmulator
from oci_emulator.storage import BucketNotFoundError

if TYPE_CHECKING:
    from oci_emulator.oci_config import (
        FAKE_TENANCY,
        FAKE_USER,
        ApiKeyPair,
        make_api_key,
        make_oci_config,
    )

# Names of oci_config (which imports the oci SDK and cryptography), loaded on first access.
_OCI_CONFIG_NAMES = frozenset(
    {"ApiKeyPair", "FAKE_TENANCY", "FAKE_USER", "make_api_key", "make_oci_config"}
)


def __getattr__(name: str) -> Any:
    if name in _OCI_CONFIG_NAMES:
        from oci_emulator import oci_config

        return getattr(oci_config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_FILE_ID",
    "FAKE_TENANCY",
    "FAKE_USER",
    "FOCUS_COLUMNS",
    "LEGACY_REPORT_NAMES",
    "OCI_REPORTS_PREFIX",
    "OPERATIONS",
    "TENANCY_OCID",
    "ApiKeyPair",
    "BucketNotFoundError",
    "Fault",
    "FaultSet",
    "ObjectRecord",
    "OciEmulator",
    "RequestLog",
    "RequestRecord",
    "focus_report_bytes",
    "focus_report_csv",
    "seed_focus_reports",
    "make_api_key",
    "make_oci_config",
    "report_name",
]
