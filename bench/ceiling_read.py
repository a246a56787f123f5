"""Read ceiling: the workload's objects read from the OCI emulator and thrown away.

Run as its own process (``python bench/ceiling_read.py CONFIG ENDPOINT BUCKET PREFIX``). It
reads with the real SDK exactly as a copy must (raw stream, no decoding), in 8 MiB ranges on
16 threads (the pipeline's 4 files x 4 streams), dropping each 1 MiB read: what is left is
the cost of GETs and of moving bytes off the socket, with no upload and no
hashing. Prints one JSON line: seconds, bytes.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import sys
import threading
import time

import oci

PART = 8 << 20
THREADS = 16
CHUNK = 1 << 20


def main() -> int:
    config_file, endpoint, bucket, prefix = sys.argv[1:]
    config = oci.config.from_file(config_file)
    signer = oci.signer.Signer.from_config(config)
    local = threading.local()

    def client() -> oci.object_storage.ObjectStorageClient:
        if getattr(local, "client", None) is None:
            local.client = oci.object_storage.ObjectStorageClient(
                config, signer=signer, service_endpoint=endpoint
            )
        return local.client

    objects = (
        client()
        .list_objects("bling", bucket, prefix=prefix, fields="name,size", limit=1000)
        .data.objects
    )
    started = time.monotonic()

    def read(name: str, start: int, length: int) -> int:
        resp = client().get_object(
            "bling", bucket, name, range=f"bytes={start}-{start + length - 1}"
        )
        raw = resp.data.raw
        got = 0
        while got < length:
            chunk = raw.read(min(CHUNK, length - got), decode_content=False)
            if not chunk:
                break
            got += len(chunk)
        raw.release_conn()
        if got != length:
            raise RuntimeError(f"{name}: short read at {start}")
        return got

    with cf.ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(read, o.name, start, min(PART, o.size - start))
            for o in objects
            for start in range(0, o.size, PART)
        ]
        total = sum(f.result() for f in futures)
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "bytes": total}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
