"""Streaming copies from OCI into S3 with bounded memory.

Each file larger than one part is read as parallel ranged GETs that feed parallel S3 part
uploads; a window of ``streams_per_file`` part buffers (reused across parts) bounds memory to
about ``streams_per_file x part_size`` per file, whatever the file size. Parts are hashed in
order as they are read, so the MD5 of the whole body comes without a second pass over the
bytes, and each part is uploaded as soon as it is hashed. A ``.gz`` object OCI lists without
a whole-body MD5 (a multipart upload) is also inflated in order on a thread of its own, and
every gzip member's CRC32 and length checked against its trailer (``gzip_check``), so every
copy is verified end to end, not only by its size.

A copy either completes, byte for byte and verified, or leaves nothing behind: every failure,
including a terminated run, aborts the multipart upload before the error propagates.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import hashlib
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from focus_pipeline.lib.errors import SourceChanged, VerificationError, is_retryable
from focus_pipeline.lib.focus_header import HEAD_BYTES, HeaderMatch, classify
from focus_pipeline.lib.gzip_check import (
    DEFAULT_VERIFY_GZIP,
    VERIFY_GZIP_MODES,
    GzipVerifier,
    GzipVerify,
    should_verify_gzip,
    verify_gzip_bytes,
)
from focus_pipeline.lib.oci_source import OciReportSource
from focus_pipeline.lib.plan import CopiedFile, OciObject, PlannedCopy
from focus_pipeline.lib.retry import Cancelled, CancelToken, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

MIB = 1 << 20
# S3 rejects parts smaller than 5 MiB (except the last) and larger than 5 GiB, and an upload
# may have at most 10,000 parts; the part size is derived from the object size within these.
S3_MIN_PART_SIZE = 5 * MIB
S3_MAX_PART_SIZE = 5 * 1024 * MIB
S3_MAX_PARTS = 10_000
# How often the main thread wakes to let a termination signal through while files copy.
_WAIT_SLICE_SECONDS = 0.5
# Landed files are recorded together at most this often (see ``copy_all``).
CHECKPOINT_SECONDS = 0.5
# A run reports progress at least this often while it copies, so that a live copy, however
# slow (one 5 GB file over a thin link), never looks like a dead run.
PROGRESS_SECONDS = 60.0


def choose_part_size(size: int, requested: int) -> int:
    """The requested part size, raised (in whole MiB) so the object fits in 10,000 parts."""
    part = max(requested, S3_MIN_PART_SIZE)
    needed = math.ceil(size / S3_MAX_PARTS)
    if needed > part:
        part = math.ceil(needed / MIB) * MIB
    if part > S3_MAX_PART_SIZE:
        raise ValueError(f"an object of {size} bytes exceeds S3's 5 TiB limit")
    return part


# 8 x 5 MiB (docs/benchmarks.md): a link capped per connection (OCI to another cloud) needs
# many reads in flight; small parts keep a file's memory at 40 MiB all the same.
DEFAULT_PART_SIZE_MB = 5
DEFAULT_STREAMS_PER_FILE = 8
# Four files at once keep a day of a few large reports busy without crowding small ones.
DEFAULT_CONCURRENT_FILES = 4


@dataclass(frozen=True)
class TransferOptions:
    part_size: int = DEFAULT_PART_SIZE_MB * MIB
    streams_per_file: int = DEFAULT_STREAMS_PER_FILE
    max_concurrent_files: int = DEFAULT_CONCURRENT_FILES
    # Restarts of one file after its source changed mid-copy, before giving up on it.
    max_source_restarts: int = 3
    # Which .gz objects are inflated and their gzip trailers checked (gzip_check).
    verify_gzip: GzipVerify = DEFAULT_VERIFY_GZIP

    def __post_init__(self) -> None:
        if self.part_size < S3_MIN_PART_SIZE or self.part_size > S3_MAX_PART_SIZE:
            raise ValueError("part_size must be between 5 MiB and 5 GiB (S3's part limits)")
        if self.streams_per_file < 1 or self.max_concurrent_files < 1:
            raise ValueError("streams_per_file and max_concurrent_files must be at least 1")
        if self.verify_gzip not in VERIFY_GZIP_MODES:
            raise ValueError(f"verify_gzip must be one of {VERIFY_GZIP_MODES}")


@dataclass(frozen=True)
class CopyResult:
    """One completed copy: the source version that landed and how it went."""

    source: OciObject
    s3_key: str
    md5: str  # base64, as OCI writes it
    seconds: float
    parts: int
    restarts: int
    # What the file's first line is (read from the bytes copied, never a second GET).
    header: HeaderMatch | None = None

    def copied_file(self, bucket: str | None = None, endpoint: str | None = None) -> CopiedFile:
        header = self.header
        return CopiedFile(
            name=self.source.name,
            etag=self.source.etag,
            size=self.source.size,
            md5=self.md5,
            s3_key=self.s3_key,
            s3_bucket=bucket,
            s3_endpoint=endpoint,
            focus_header=header.matched if header else None,
            columns=header.columns if header else None,
            header_problem=header.problem if header else None,
        )


@dataclass(frozen=True)
class Progress:
    """How far a run's copies are: files done (landed or failed) and bytes sent to S3."""

    files_done: int
    files_total: int
    bytes_sent: int


@dataclass(frozen=True)
class CopyFailure:
    plan: PlannedCopy
    error: BaseException


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class _PartBuffers:
    """Part buffers reused across a run's parts instead of allocated for each one.

    A fresh buffer per part costs page faults and zeroing every time, and freed ones pile up
    in glibc's per-thread arenas: a run held about twice its live parts. Only ``keep``
    buffers (the run's windows) are kept; a run's part memory is allocated once.
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._free: dict[int, list[bytearray]] = {}
        self._count = 0
        self._lock = threading.Lock()

    def get(self, size: int) -> bytearray:
        with self._lock:
            free = self._free.get(size)
            if free:
                self._count -= 1
                return free.pop()
        return bytearray(size)

    def put(self, buf: bytearray) -> None:
        with self._lock:
            if self._count < self._keep:
                self._free.setdefault(len(buf), []).append(buf)
                self._count += 1


class _Inflater:
    """Feeds one file's parts, in order, to a :class:`GzipVerifier` on a thread of its own.

    Inflating costs more CPU per byte than the rest of the copy (docs/benchmarks.md), so it
    stays off the path that reads and uploads parts: zlib releases the GIL while it inflates,
    and the parts' reads and uploads go on meanwhile. A part's buffer is released by its
    upload and by this thread, whichever finishes last (see ``Copier._copy_multipart``).
    """

    def __init__(self, verifier: GzipVerifier, wake: Callable[[object], None]) -> None:
        self._verifier = verifier
        self._wake = wake
        self._todo: queue.SimpleQueue[tuple[int, bytearray] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._stopped = threading.Event()
        # The first failure of the check; later parts are then released unread.
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"focus-gunzip-{verifier.name[-40:]}", daemon=True
        )
        self._thread.start()

    def feed(self, number: int, data: bytearray) -> None:
        self._todo.put((number, data))

    def finished_parts(self) -> list[int]:
        """Part numbers inflated (or skipped after a failure) since the last call."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def finish(self) -> None:
        """After the last part was inflated: the stream must end after a whole member."""
        self.close()
        if self.error is not None:
            raise self.error
        self._verifier.finish()

    def close(self) -> None:
        """Stop after the part being inflated, if any; safe to call twice."""
        self._stopped.set()
        self._todo.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._todo.get()) is not None:
            number, data = item
            if self.error is None and not self._stopped.is_set():
                try:
                    self._verifier.feed(data)
                except BaseException as exc:  # handed to the file's thread, which raises it
                    self.error = exc
            self._done.put(number)
            self._wake(self)


class Copier:
    """Copies objects from one OCI bucket to one S3 bucket; shared by a run's threads.

    ``s3_client`` is one boto3 client for the whole run (clients are thread-safe; building
    one per file would cost a session and a connection pool each time).
    """

    def __init__(
        self,
        source: OciReportSource,
        s3_client: Any,
        bucket: str,
        options: TransferOptions,
        part_pool: cf.Executor,
        cancel: CancelToken,
        s3_retry: RetryPolicy | None = None,
    ) -> None:
        self.source = source
        self.s3 = s3_client
        self.bucket = bucket
        self.s3_retry = s3_retry or RetryPolicy()
        self._sent = 0
        self._sent_lock = threading.Lock()
        self.options = options
        self.part_pool = part_pool
        self.cancel = cancel
        self.buffers = _PartBuffers(
            max(1, options.max_concurrent_files) * max(1, options.streams_per_file)
        )

    @property
    def bytes_sent(self) -> int:
        """Bytes S3 has acknowledged (parts of failed uploads included)."""
        return self._sent

    def _sent_bytes(self, n: int) -> None:
        with self._sent_lock:
            self._sent += n

    def copy(self, obj: OciObject, key: str) -> CopyResult:
        """Copy the current version of ``obj``; if it changes mid-copy, copy the new one."""
        started = time.monotonic()
        restarts = 0
        while True:
            try:
                md5, parts, head = self._copy_version(obj, key)
                seconds = time.monotonic() - started
                return CopyResult(obj, key, md5, seconds, parts, restarts, classify(head))
            except SourceChanged:
                if restarts >= self.options.max_source_restarts:
                    raise
                restarts += 1
                log.warning("%s changed in OCI during the copy; copying the new version", obj.name)
                obj = self.source.head(obj.name, cancel=self.cancel)

    def _metadata(self, obj: OciObject) -> dict[str, str]:
        # Lets anyone holding the S3 object trace it to the exact OCI version it came from.
        meta = {"oci-etag": obj.etag}
        if obj.md5:
            meta["oci-md5"] = obj.md5
        return meta

    def _verify(self, obj: OciObject, size: int, md5: str) -> None:
        if size != obj.size:
            raise VerificationError(f"{obj.name}: read {size} bytes, OCI listed {obj.size}")
        if obj.plain_md5 and obj.plain_md5 != md5:
            raise VerificationError(f"{obj.name}: MD5 {md5} differs from OCI's {obj.plain_md5}")

    def _gzip_verifier(self, obj: OciObject) -> GzipVerifier | None:
        """A verifier when ``obj`` is to be inflated and checked (``verify_gzip``).

        An empty object is never inflated: its size (0) and MD5 already prove the copy is
        exact, and failing it would fail its day on every run over a file OCI does hold.
        """
        multipart = obj.plain_md5 is None  # no whole-body MD5 to check the copy against
        if obj.size == 0 or not should_verify_gzip(obj.name, multipart, self.options.verify_gzip):
            return None
        return GzipVerifier(obj.name)

    def _copy_version(self, obj: OciObject, key: str) -> tuple[str, int, bytes]:
        """The copy's MD5, its part count and the file's first ``HEAD_BYTES``."""
        part_size = choose_part_size(obj.size, self.options.part_size)
        if obj.size <= part_size:
            md5, head = self._copy_single(obj, key)
            return md5, 1, head
        return self._copy_multipart(obj, key, part_size)

    def _s3_call(self, fn: Callable[[], Any], what: str, cancel: CancelToken) -> Any:
        return call_with_retries(fn, self.s3_retry, is_retryable, cancel=cancel, what=what)

    def _copy_single(self, obj: OciObject, key: str) -> tuple[str, bytes]:
        data = self.source.read(obj, cancel=self.cancel)
        md5 = _b64(hashlib.md5(data).digest())
        self._verify(obj, len(data), md5)
        if self._gzip_verifier(obj) is not None:
            # Inline, on this file's thread: a PutObject cannot be taken back, so the check
            # must pass before it is sent, and the body is at most one part (5 MiB by default,
            # ~50 ms of inflating), so there is nothing to overlap it with.
            verify_gzip_bytes(obj.name, data)
        # Content-MD5 makes S3 reject the object if a byte changed on the way.
        self._s3_call(
            lambda: self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5, Metadata=self._metadata(obj)
            ),
            f"PutObject {key}",
            self.cancel,
        )
        self._sent_bytes(len(data))
        return md5, bytes(data[:HEAD_BYTES])

    def _create_upload(self, obj: OciObject, key: str, stop: CancelToken) -> str:
        attempts = 0

        def create() -> str:
            nonlocal attempts
            attempts += 1
            return self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, Metadata=self._metadata(obj)
            )["UploadId"]

        upload_id = self._s3_call(create, f"CreateMultipartUpload {key}", stop)
        if attempts > 1:
            self._abort_orphans(key, keep=upload_id)
        return upload_id

    def _abort_orphans(self, key: str, keep: str) -> None:
        """Abort other uploads of ``key``: a retried CreateMultipartUpload whose first answer
        was lost on the way back may have opened one that nothing else knows of.

        Only this copy writes ``key`` (one run per day, one copy per name), so any other open
        upload of exactly this key is an orphan. Needs s3:ListBucketMultipartUploads; without
        it the orphan waits for the bucket's lifecycle rule.
        """
        try:
            resp = call_with_retries(
                lambda: self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key),
                self.s3_retry,
                is_retryable,
                what=f"ListMultipartUploads {key}",
            )
        except Exception as exc:
            log.warning(
                "CreateMultipartUpload of %s was retried and its uploads cannot be listed (%s): "
                "an orphaned upload may stay open",
                key,
                type(exc).__name__,
            )
            return
        for upload in resp.get("Uploads", []):
            if upload.get("Key") == key and upload.get("UploadId") not in (None, keep):
                self._abort(key, upload["UploadId"])

    def _copy_multipart(self, obj: OciObject, key: str, part_size: int) -> tuple[str, int, bytes]:
        """Read parts in parallel, hash them in order as they arrive, upload each once hashed.

        A part holds its buffer from the start of its read until its upload is done (and,
        for a gzip check, until it is inflated), and at most ``streams_per_file`` buffers are
        held, so memory stays ``streams x part_size`` for any file size. A buffer is freed by
        its own upload, not by the oldest part's: a server that is slow on one part (rclone
        serve s3 streams the next part in order while it buffers the others) does not stop
        the file's reads behind it. Should inflating fall behind, the held buffers fill the
        window and reads wait for it: memory stays bounded, the copy slows to its pace.
        """
        stop = CancelToken(parent=self.cancel)
        upload_id = self._create_upload(obj, key, stop)
        # Reads in part order (the MD5 and the gzip check need the bytes in order), and
        # uploads in flight.
        reads: deque[tuple[int, cf.Future[bytearray]]] = deque()
        uploads: dict[cf.Future[str], int] = {}
        # Parts read and not yet released: their buffer and how many users (upload, inflate)
        # still have it.
        held: dict[int, tuple[bytearray, list[int]]] = {}
        # Every finished read, upload or inflate wakes this thread once (a wake-up may find
        # nothing to do: a read behind the head finished).
        finished: queue.SimpleQueue[object] = queue.SimpleQueue()
        verifier = self._gzip_verifier(obj)
        inflater = _Inflater(verifier, finished.put) if verifier is not None else None

        def release(number: int) -> None:
            data, users = held[number]
            users[0] -= 1
            if users[0] == 0:
                del held[number]
                if len(data) == part_size:
                    self.buffers.put(data)

        try:
            digest = hashlib.md5()
            first_bytes = b""
            etags: dict[int, str] = {}
            ranges = iter(enumerate(range(0, obj.size, part_size), start=1))
            window = max(1, self.options.streams_per_file)
            total = 0
            while True:
                while len(reads) + len(held) < window:
                    item = next(ranges, None)
                    if item is None:
                        break
                    number, start = item
                    buf = self.buffers.get(min(part_size, obj.size - start))
                    read = self.part_pool.submit(self._read_part, obj, start, buf, stop)
                    read.add_done_callback(finished.put)
                    reads.append((number, read))
                if not reads and not held:
                    break
                progressed = False
                if reads and reads[0][1].done():
                    number, head = reads.popleft()
                    data = head.result()
                    held[number] = (data, [1 if inflater is None else 2])
                    # The upload starts before the hashing: both only read the buffer.
                    upload = self.part_pool.submit(
                        self._upload_part, key, upload_id, number, data, stop
                    )
                    upload.add_done_callback(finished.put)
                    uploads[upload] = number
                    if inflater is not None:
                        inflater.feed(number, data)
                    if number == 1:
                        first_bytes = bytes(data[:HEAD_BYTES])
                    digest.update(data)
                    total += len(data)
                    del data
                    progressed = True
                for fut in [f for f in uploads if f.done()]:
                    number = uploads.pop(fut)
                    etags[number] = fut.result()
                    release(number)
                    progressed = True
                if inflater is not None:
                    if inflater.error is not None:
                        raise inflater.error
                    for number in inflater.finished_parts():
                        release(number)
                        progressed = True
                if not progressed:
                    finished.get()
            if inflater is not None:
                inflater.finish()
            md5 = _b64(digest.digest())
            self._verify(obj, total, md5)
            completed = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
            self._s3_call(
                lambda: self.s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": completed},
                ),
                f"CompleteMultipartUpload {key}",
                stop,
            )
            return md5, len(completed), first_bytes
        except BaseException:
            stop.cancel()
            # Parts still uploading when the abort lands may survive it (S3 documents this),
            # so wait for them to stop first. Their buffers are dropped, never reused.
            cf.wait([f for _, f in reads] + list(uploads))
            if inflater is not None:
                inflater.close()
            self._abort(key, upload_id)
            raise

    def _read_part(
        self, obj: OciObject, start: int, buf: bytearray, stop: CancelToken
    ) -> bytearray:
        if stop.is_set():
            raise Cancelled()
        return self.source.read(obj, start, len(buf), cancel=stop, into=buf)

    def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytearray, stop: CancelToken
    ) -> str:
        if stop.is_set():
            raise Cancelled()
        resp = self._s3_call(
            lambda: self.s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            ),
            f"UploadPart {key} #{number}",
            stop,
        )
        self._sent_bytes(len(data))
        return resp["ETag"]

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            # Not cancellable: the abort is the clean-up and must run even after a cancel.
            call_with_retries(
                lambda: self.s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                ),
                self.s3_retry,
                is_retryable,
                what=f"AbortMultipartUpload {key}",
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchUpload":
                return  # an earlier attempt's answer was lost: the upload is already gone
            log.error("could not abort the multipart upload of %s: %s", key, code)
        except Exception as exc:  # the original error matters more; the sweep retries later
            log.error("could not abort the multipart upload of %s: %s", key, type(exc).__name__)


def copy_all(
    source: OciReportSource,
    s3_client: Any,
    bucket: str,
    plans: Sequence[PlannedCopy],
    options: TransferOptions,
    on_landed: Callable[[list[CopyResult]], None] | None = None,
    cancel: CancelToken | None = None,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
    s3_retry: RetryPolicy | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_seconds: float = PROGRESS_SECONDS,
) -> tuple[list[CopyResult], list[CopyFailure]]:
    """Copy every planned object, ``max_concurrent_files`` at a time.

    ``on_landed`` runs on the calling thread with the files that landed since its last call
    (the asset records them as one checkpoint): for the first file at once, then at most every
    ``checkpoint_seconds``, and once more before returning. S3 calls retry under ``s3_retry``;
    OCI reads under the source's own policy. A checkpoint is a database commit,
    so one per small file would bound a day of many small reports; one per batch costs a crash
    at most ``checkpoint_seconds`` of copies, which the next run repeats.

    ``on_progress`` runs on the calling thread at least every ``progress_seconds`` while files
    copy, whether or not bytes moved: it proves the run is alive.

    One file's failure does not stop the others; a termination (``BaseException`` in the
    calling thread, as Dagster raises it) stops all of them, waits for their uploads to be
    aborted, records the files that did land, and propagates.
    """
    cancel = cancel or CancelToken()
    results: list[CopyResult] = []
    failures: list[CopyFailure] = []
    if not plans:
        return results, failures
    files = max(1, min(options.max_concurrent_files, len(plans)))
    streams = max(1, options.streams_per_file)
    landed: list[CopyResult] = []
    last_checkpoint = -math.inf
    last_progress = time.monotonic()

    def collect(done: set[cf.Future[CopyResult]]) -> None:
        for fut in done:
            if fut not in uncollected:
                continue
            uncollected.discard(fut)
            exc = fut.exception()
            if exc is None:
                results.append(fut.result())
                landed.append(fut.result())
            else:
                failures.append(CopyFailure(futures[fut], exc))

    def checkpoint() -> None:
        nonlocal last_checkpoint
        if landed and on_landed is not None:
            batch = landed[:]
            landed.clear()
            on_landed(batch)
        last_checkpoint = time.monotonic()

    with (
        cf.ThreadPoolExecutor(files, thread_name_prefix="focus-file") as file_pool,
        cf.ThreadPoolExecutor(files * streams, thread_name_prefix="focus-part") as part_pool,
    ):
        copier = Copier(source, s3_client, bucket, options, part_pool, cancel, s3_retry)
        futures = {file_pool.submit(copier.copy, p.source, p.s3_key): p for p in plans}
        uncollected = set(futures)
        try:
            while uncollected:
                due = last_checkpoint + checkpoint_seconds - time.monotonic()
                timeout = min(_WAIT_SLICE_SECONDS, due) if landed else _WAIT_SLICE_SECONDS
                done, _ = cf.wait(
                    uncollected, timeout=max(0.0, timeout), return_when=cf.FIRST_COMPLETED
                )
                collect(done)
                if landed and time.monotonic() - last_checkpoint >= checkpoint_seconds:
                    checkpoint()
                if on_progress and time.monotonic() - last_progress >= progress_seconds:
                    on_progress(
                        Progress(len(futures) - len(uncollected), len(futures), copier.bytes_sent)
                    )
                    last_progress = time.monotonic()
            checkpoint()
        except BaseException:
            cancel.cancel()
            collect(cf.wait(uncollected).done)
            try:
                checkpoint()
            except Exception:  # the termination matters more; these files are copied again
                log.exception("could not record %d landed files", len(landed))
            raise
    return results, failures
