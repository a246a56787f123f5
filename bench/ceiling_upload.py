"""Upload ceiling: boto3 ``upload_file`` of the workload's local files into rclone serve s3.

Run as its own process (``python bench/ceiling_upload.py ENDPOINT BUCKET PREFIX FILE...``) so
its peak RSS and CPU are its own. It uses the pipeline's S3 client (``ByodS3Resource``), so the
figure is what S3 uploads alone cost with the pipeline's client settings, and the same
concurrency as the pipeline's defaults: 4 files at once, 4 parts in flight per file, 8 MiB
parts. Prints one JSON line: seconds, bytes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from boto3.s3.transfer import TransferConfig, create_transfer_manager

from focus_pipeline.defs.resources import ByodS3Resource, TransferResource
from focus_pipeline.lib.transfer import MIB


def main() -> int:
    endpoint, bucket, prefix, *paths = sys.argv[1:]
    transfer = TransferResource()
    s3 = ByodS3Resource(bucket=bucket, endpoint_url=endpoint, region_name="us-east-1")
    client = s3.get_client()
    part = transfer.part_size_mb * MIB
    config = TransferConfig(
        multipart_threshold=part,
        multipart_chunksize=part,
        max_concurrency=transfer.max_concurrent_transfers * transfer.streams_per_file,
        use_threads=True,
    )
    files = [Path(p) for p in paths]
    started = time.monotonic()
    # One transfer manager for all files: its request pool is shared like the pipeline's.
    with create_transfer_manager(client, config) as manager:
        futures = [manager.upload(str(f), bucket, f"{prefix}/{f.name}") for f in files]
        for fut in futures:
            fut.result()
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "bytes": sum(f.stat().st_size for f in files)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
