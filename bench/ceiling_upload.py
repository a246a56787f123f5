"""Upload ceiling: boto3 uploads of the workload's local files into rclone serve s3.

Run as its own process so its peak RSS and CPU are its own::

    python bench/ceiling_upload.py [--boto3-defaults] ENDPOINT BUCKET PREFIX FILE...

It uploads with one ``create_transfer_manager`` (what ``upload_file`` runs on) for all files,
with the pipeline's default shape: part size ``FOCUS_PART_SIZE_MB`` and
``FOCUS_MAX_CONCURRENT_TRANSFERS x FOCUS_STREAMS_PER_FILE`` parts in flight. The client is the
pipeline's own (``ByodS3Resource``: bodies not SHA-256-signed), so the figure is what the S3
side alone costs the pipeline; ``--boto3-defaults`` uses a plain boto3 client instead, which
over plain http hashes every body with SHA-256 for the signature. Prints one JSON line:
seconds, bytes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config

from focus_pipeline.defs.resources import ByodS3Resource, TransferResource
from focus_pipeline.lib.transfer import MIB


def main() -> int:
    args = sys.argv[1:]
    defaults = args[0] == "--boto3-defaults"
    endpoint, bucket, prefix, *paths = args[1:] if defaults else args
    transfer = TransferResource()
    in_flight = transfer.max_concurrent_transfers * transfer.streams_per_file
    if defaults:
        # Only the pool is sized to the concurrency (else urllib3 drops connections).
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            config=Config(max_pool_connections=in_flight),
        )
    else:
        s3 = ByodS3Resource(bucket=bucket, endpoint_url=endpoint, region_name="us-east-1")
        client = s3.get_client()
    part = transfer.part_size_mb * MIB
    config = TransferConfig(
        multipart_threshold=part,
        multipart_chunksize=part,
        max_concurrency=in_flight,
        use_threads=True,
    )
    files = [Path(p) for p in paths]
    started = time.monotonic()
    with create_transfer_manager(client, config) as manager:
        futures = [manager.upload(str(f), bucket, f"{prefix}/{f.name}") for f in files]
        for fut in futures:
            fut.result()
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "bytes": sum(f.stat().st_size for f in files)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
