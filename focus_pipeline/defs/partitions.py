"""One partition per OCI day folder (``FOCUS Reports/YYYY/MM/DD/``), in UTC like OCI's folders."""

from __future__ import annotations

import datetime as dt

import dagster as dg


def daily_partitions(start_date: dt.date) -> dg.DailyPartitionsDefinition:
    # end_offset=1 includes today: OCI fills today's folder during the day (about every six
    # hours), and those files should land the same day, not tomorrow.
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone="UTC", end_offset=1
    )


def partition_day(partition_key: str) -> dt.date:
    return dt.date.fromisoformat(partition_key)
