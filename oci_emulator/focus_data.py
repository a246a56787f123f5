"""Synthetic OCI FOCUS cost reports, shaped like the files Oracle writes to the ``bling`` bucket.

Why synthetic: real reports belong to a tenancy and cannot ship with tests. What matters to
the copier is reproduced: gzip-compressed CSV with CRLF line endings, the 49 OCI columns in
Oracle's order, realistic value shapes (quoted JSON tags, OCIDs, minute-precision charge
periods), the ``FOCUS Reports/YYYY/MM/DD/<id>-<seq>.csv.gz`` naming with its capitals and
space, and legacy ``reports/cost-csv/`` and ``reports/usage-csv/`` objects that a lister must
skip. Output is deterministic for (day, rows, seed) so tests can compare bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from datetime import date, timedelta
from typing import Any, Protocol

from focus_pipeline.lib.focus_columns import OCI_COLUMNS
from focus_pipeline.lib.naming import OCI_REPORTS_PREFIX

# The header OCI writes: one home, the pipeline's own recognition of it.
FOCUS_COLUMNS: tuple[str, ...] = OCI_COLUMNS

DEFAULT_FILE_ID = "0001000002103533"
LEGACY_REPORT_NAMES: tuple[str, ...] = (
    "reports/cost-csv/0001000000858405.csv.gz",
    "reports/usage-csv/0001000000858406.csv.gz",
)
TENANCY_OCID = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy5mzq7wv3s2vkx4n6bq2pl3xj7o4fk5rcd"

# (ServiceName, ServiceCategory, ResourceType, ocid kind, SKU, description, unit, list price)
_SERVICES: tuple[tuple[str, str, str, str, str, str, str, float], ...] = (
    (
        "COMPUTE",
        "Compute",
        "instance",
        "instance",
        "B97384",
        "Compute - Standard - E5 - OCPU",
        "OCPU Hours",
        0.03,
    ),
    (
        "COMPUTE",
        "Compute",
        "instance",
        "instance",
        "B97385",
        "Compute - Standard - E5 - Memory",
        "Gigabyte Hours",
        0.002,
    ),
    (
        "BLOCK_STORAGE",
        "Storage",
        "bootvolume",
        "bootvolume",
        "B91961",
        "Storage - Block Volume - Storage",
        "Gigabyte Storage Capacity Per Month",
        0.0255,
    ),
    (
        "BLOCK_STORAGE",
        "Storage",
        "volume",
        "volume",
        "B91962",
        "Storage - Block Volume - Performance Units",
        "Performance Units Per Gigabyte Per Month",
        0.0017,
    ),
    (
        "OBJECT_STORAGE",
        "Storage",
        "bucket",
        "bucket",
        "B91628",
        "Object Storage - Storage",
        "Gigabyte Storage Capacity Per Month",
        0.0255,
    ),
    (
        "OBJECT_STORAGE",
        "Storage",
        "bucket",
        "bucket",
        "B91627",
        "Object Storage - Requests",
        "10,000 Requests Per Month",
        0.0034,
    ),
    (
        "NETWORK",
        "Networking",
        "loadbalancer",
        "loadbalancer",
        "B93030",
        "Load Balancer Base",
        "Load Balancer Hour",
        0.0113,
    ),
    (
        "DATABASE",
        "Databases",
        "autonomousdatabase",
        "autonomousdatabase",
        "B95702",
        "Oracle Autonomous Transaction Processing - ECPU",
        "ECPU Per Hour",
        0.336,
    ),
)
_REGIONS = (
    ("us-ashburn-1", "iad", "US-ASHBURN-AD-1"),
    ("us-phoenix-1", "phx", "PHX-AD-1"),
    ("eu-frankfurt-1", "fra", "EU-FRANKFURT-1-AD-1"),
)
_COMPARTMENTS = ("prod", "staging", "shared-services", "data-platform", "sandbox")
_OCID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class PutCallable(Protocol):
    """What ``seed_focus_reports`` needs when not handed an ``OciEmulator``."""

    def __call__(
        self,
        bucket: str,
        name: str,
        data: bytes,
        *,
        content_encoding: str | None,
        content_type: str,
    ) -> Any: ...


def report_name(day: date, file_id: str = DEFAULT_FILE_ID, seq: int = 1) -> str:
    """Object name Oracle uses for one FOCUS report file of ``day``."""
    return f"{OCI_REPORTS_PREFIX}{day:%Y/%m/%d}/{file_id}-{seq:05d}.csv.gz"


def _ocid(rng: random.Random, kind: str, realm_region: str = "") -> str:
    tail = "".join(rng.choice(_OCID_ALPHABET) for _ in range(60))
    return f"ocid1.{kind}.oc1.{realm_region}.aaaaaaaa{tail}"


def _billing_period(day: date) -> tuple[str, str]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"{start:%Y-%m-%d}T00:00:00.000Z", f"{end:%Y-%m-%d}T00:00:00.000Z"


def _resources(rng: random.Random, count: int) -> list[dict[str, str | float]]:
    """A fixed fleet of resources whose per-row values barely change, like a real tenancy."""
    compartments = [(name, _ocid(rng, "compartment", "")) for name in _COMPARTMENTS]
    fleet: list[dict[str, str | float]] = []
    for i in range(count):
        service, category, rtype, kind, sku, description, unit, price = rng.choice(_SERVICES)
        region, short, ad = rng.choice(_REGIONS)
        comp_name, comp_id = rng.choice(compartments)
        tags = {
            "Oracle-Tags.CreatedBy": f"default/user{rng.randint(1, 40)}@example.com",
            "Oracle-Tags.CreatedOn": f"2024-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.000Z",
            "CostCenter.Team": rng.choice(["finance", "platform", "web, mobile", 'ml "labs"']),
        }
        fleet.append(
            {
                "az": f"kXyZ:{ad}" if rtype in ("instance", "volume", "bootvolume") else "",
                "region": region,
                "resource_id": _ocid(rng, kind, short),
                "resource_name": f"{rtype}-{comp_name}-{i:04d}",
                "resource_type": rtype,
                "service": service,
                "category": category,
                "sku": sku,
                "description": description,
                "unit": unit,
                "price": price,
                "comp_id": comp_id,
                "comp_name": comp_name,
                "tags": json.dumps(tags, separators=(",", ":")),
            }
        )
    return fleet


def focus_report_csv(day: date, rows: int, seed: int = 0) -> str:
    """The uncompressed CSV text (CRLF line endings) of one synthetic report."""
    rng = random.Random(f"focus:{day.isoformat()}:{rows}:{seed}")
    billing_start, billing_end = _billing_period(day)
    account_id = str(rng.randint(10_000_000, 99_999_999))
    account_name = "acmecorp"
    fleet = _resources(rng, max(8, min(400, rows // 20 or 8)))
    hours = [
        (
            f"{day:%Y-%m-%d}T{h:02d}:00Z",
            f"{(day + timedelta(days=1)) if h == 23 else day:%Y-%m-%d}T{(h + 1) % 24:02d}:00Z",
        )
        for h in range(24)
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(FOCUS_COLUMNS)
    ref_base = rng.randint(10**11, 10**12)
    random_ = rng.random
    choice = rng.choice
    for i in range(rows):
        res = choice(fleet)
        start, end = choice(hours)
        quantity = round(random_() * 4 + 0.0001, 6)
        price = float(res["price"])
        list_cost = quantity * price
        billed = list_cost * (0.7 if random_() < 0.2 else 1.0)
        back_ref = f"{ref_base - rng.randint(1, 10_000)}" if random_() < 0.02 else ""
        writer.writerow(
            (
                res["az"],
                f"{billed:.10g}",
                account_id,
                account_name,
                "USD",
                billing_end,
                billing_start,
                "Usage" if not back_ref else "Adjustment",
                res["description"],
                "UsageBased",
                end,
                start,
                "",
                "",
                "",
                "",
                "",
                f"{billed:.10g}",
                "Oracle",
                f"{list_cost:.10g}",
                f"{price:g}",
                "",
                f"{quantity:g}",
                res["unit"],
                "Oracle",
                "Oracle",
                res["region"],
                res["resource_id"],
                res["resource_name"],
                res["resource_type"],
                res["category"],
                res["service"],
                res["sku"],
                "",
                TENANCY_OCID,
                account_name,
                res["tags"],
                f"{quantity:g}",
                res["unit"],
                f"{ref_base + i}",
                res["comp_id"],
                res["comp_name"],
                "N",
                "",
                "",
                "",
                f"{quantity:g}" if res["resource_type"] == "instance" else "",
                f"{billed:.10g}" if res["resource_type"] == "instance" else "",
                back_ref,
            )
        )
    return buf.getvalue()


def focus_report_bytes(day: date, rows: int, seed: int = 0) -> bytes:
    """One synthetic report as Oracle stores it: gzip of CRLF CSV, deterministic bytes.

    ``mtime=0`` keeps the gzip header stable so equal inputs give byte-identical output.
    """
    return gzip.compress(focus_report_csv(day, rows, seed).encode("utf-8"), 6, mtime=0)


def _legacy_report_bytes(kind: str) -> bytes:
    header = "lineItem/referenceNo,lineItem/tenantId,lineItem/intervalUsageStart,"
    header += (
        "product/service,usage/billedQuantity"
        if kind == "usage"
        else ("product/service,cost/myCost,cost/currencyCode")
    )
    row = f"legacy-0001,{TENANCY_OCID},2024-11-01T00:00Z,COMPUTE,"
    row += "1.5" if kind == "usage" else "0.045,USD"
    return gzip.compress(f"{header}\r\n{row}\r\n".encode(), 6, mtime=0)


def seed_focus_reports(
    target: Any,
    bucket: str,
    days: list[date],
    files_per_day: int = 2,
    rows: int = 2000,
    seed: int = 0,
    content_encoding: str | None = None,
    *,
    multipart_part_size: int | None = None,
    skip_existing: bool = False,
    legacy: bool = True,
) -> list[str]:
    """Put ``files_per_day`` reports for each day, plus the legacy objects a lister must skip.

    ``target`` is an ``OciEmulator`` (anything with ``put_object(bucket, name, data, ...)``) or
    a ``PutCallable``. Each file of a day gets its own 16-digit id, as Oracle's six-hourly files
    do. ``skip_existing`` (emulator targets only) leaves objects already there untouched, so
    a restarted demo keeps its etags. Returns the FOCUS report names only (sorted); the legacy
    names are ``LEGACY_REPORT_NAMES``.
    """
    emulator = target if hasattr(target, "put_object") else None

    def put(name: str, data: bytes, encoding: str | None, content_type: str) -> None:
        if emulator is None:
            target(bucket, name, data, content_encoding=encoding, content_type=content_type)
            return
        emulator.put_object(
            bucket,
            name,
            data,
            content_encoding=encoding,
            content_type=content_type,
            multipart_part_size=multipart_part_size,
        )

    def exists(name: str) -> bool:
        if not skip_existing or emulator is None:
            return False
        return emulator.get_object_record(bucket, name) is not None

    content_type = "text/csv" if content_encoding == "gzip" else "application/x-gzip"
    names: list[str] = []
    base_id = int(DEFAULT_FILE_ID)
    for day in days:
        for k in range(files_per_day):
            file_id = f"{base_id + day.toordinal() * 10 + k:016d}"
            name = report_name(day, file_id=file_id, seq=1)
            names.append(name)
            if exists(name):
                continue
            data = focus_report_bytes(day, rows, seed=seed * 1000 + k)
            put(name, data, content_encoding, content_type)
    if legacy:
        for legacy_name in LEGACY_REPORT_NAMES:
            if exists(legacy_name):
                continue
            kind = "usage" if "/usage-csv/" in legacy_name else "cost"
            put(legacy_name, _legacy_report_bytes(kind), None, "application/x-gzip")
    return sorted(names)
