"""End-to-end verification of a gzip body as it streams past, without keeping it.

OCI lists an MD5 of the body only for objects uploaded in one PUT; a multipart object's
``md5`` is ``base64(md5 of the part md5s)-N`` with the part size unknown, so the copy cannot
recompute it. Every gzip member ends with a trailer holding the CRC32 and length (mod 2^32)
of its inflated data, so inflating the stream and checking each trailer proves that the bytes
read are the bytes the writer compressed: a flipped, dropped or misplaced byte anywhere in
the body shows up as corrupt deflate data or a trailer mismatch.

zlib does the checks (``wbits=31``: gzip framing, CRC32 and ISIZE verified, an error on
mismatch); this module feeds it, follows concatenated members (``unused_data``), and says
what went wrong in words a user can act on. Inflated bytes are thrown away as they come:
output is bounded by :data:`INFLATE_CHUNK` per call whatever the compression ratio.
"""

from __future__ import annotations

import zlib
from typing import Literal, NoReturn, get_args

from focus_pipeline.lib import variables as var
from focus_pipeline.lib.errors import VerificationError

# Which objects are inflated and checked. "multipart": those OCI lists without a whole-body
# MD5 (multipart uploads), the only ones the copy could not otherwise verify end to end;
# "all": single-part ones too (their MD5 is checked anyway); "off": none.
GzipVerify = Literal["multipart", "all", "off"]
VERIFY_GZIP_MODES: tuple[str, ...] = get_args(GzipVerify)
DEFAULT_VERIFY_GZIP: GzipVerify = "multipart"
# Only names with this suffix are inflated: FOCUS reports are .csv.gz, and anything else in
# the folder is copied byte for byte without a claim about its format.
GZIP_SUFFIX = ".gz"

# Most inflated bytes one zlib call may return: CSV inflates 10-20x, and a crafted stream up
# to ~1000x, so without a cap one 5 MiB part could expand to gigabytes in memory.
INFLATE_CHUNK = 256 << 10
# Compressed bytes handed to zlib at once. With an output cap, zlib copies the input it did
# not consume into ``unconsumed_tail`` on every call; feeding a whole 5 MiB part at once would
# copy megabytes per 256 KiB of output.
INPUT_SLICE = 64 << 10
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # 16 + 15: gzip header and trailer, 32 KiB window


def should_verify_gzip(name: str, multipart: bool, mode: GzipVerify) -> bool:
    """Whether an object's body is inflated and its gzip trailers checked."""
    if mode == "off" or not name.endswith(GZIP_SUFFIX):
        return False
    return mode == "all" or multipart


class GzipVerifier:
    """Feed a gzip body in order, in chunks of any size; :meth:`finish` at its end.

    Raises :class:`VerificationError` naming ``name`` and the cause as soon as the stream is
    known to be bad: corrupt deflate data, a CRC32 or length that differs from a member's
    trailer, bytes after the last member that are not another member, or (at :meth:`finish`)
    a stream that stops inside a member. Not thread-safe: one feeder at a time.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.members = 0  # members whose trailer checked out
        self.inflated = 0  # bytes of output, all members
        self.consumed = 0  # compressed bytes taken in so far
        self._inflater: zlib._Decompress | None = None
        self._member_start = 0  # offset of the current (or next) member in the body
        # Bytes of a member's start held back until the two magic bytes can be checked.
        self._head = b""

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        with memoryview(data) as view:
            for start in range(0, len(view), INPUT_SLICE):
                self._feed(view[start : start + INPUT_SLICE])

    def finish(self) -> None:
        """The body ended: it must end exactly after a member's trailer."""
        if self._head and not _GZIP_MAGIC.startswith(self._head):
            self._fail(self._not_a_member(self._head))
        if self._head or self._inflater is not None:
            self._fail(
                f"the gzip stream is truncated: it ends inside member {self.members + 1} "
                f"(which starts at offset {self._member_start}) after {self.consumed} bytes"
            )
        if self.members == 0:
            self._fail("is empty: a gzip stream holds at least one member")

    # -- internals -------------------------------------------------------------------------

    def _feed(self, data: memoryview | bytes) -> None:
        while len(data):
            if self._inflater is None:
                data = self._start_member(data)
                if self._inflater is None:
                    return  # fewer than two bytes of the next member so far
            inflater = self._inflater
            before = len(data)
            try:
                out = inflater.decompress(data, INFLATE_CHUNK)
                self.inflated += len(out)
                # A full buffer may leave inflated bytes pending inside zlib: drain them
                # before looking at what input is left.
                while len(out) == INFLATE_CHUNK and not inflater.eof:
                    out = inflater.decompress(inflater.unconsumed_tail, INFLATE_CHUNK)
                    self.inflated += len(out)
            except zlib.error as exc:
                self._fail(self._describe(exc))
            if inflater.eof:  # the trailer matched: zlib raises on a CRC or ISIZE mismatch
                self.members += 1
                self._inflater = None
                rest = inflater.unused_data
            else:
                rest = inflater.unconsumed_tail
            self.consumed += before - len(rest)
            data = rest

    def _start_member(self, data: memoryview | bytes) -> memoryview | bytes:
        """Check a member starts with gzip's magic bytes; return the input left to inflate."""
        if not self._head:
            self._member_start = self.consumed
        take = 2 - len(self._head)
        head = self._head + bytes(data[:take])
        self.consumed += len(head) - len(self._head)
        rest = data[take:]
        if len(head) < 2:
            self._head = head
            return b""
        self._head = b""
        if head != _GZIP_MAGIC:
            self._fail(self._not_a_member(head))
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._inflater.decompress(head)  # two bytes of header: no output
        return rest

    def _not_a_member(self, head: bytes) -> str:
        if self.members:
            return (
                f"trailing data: the bytes after gzip member {self.members} (offset "
                f"{self._member_start}, starting {head.hex()}) are not another gzip member"
            )
        return (
            f"is not a gzip stream: it starts with {head.hex()}, not {_GZIP_MAGIC.hex()} "
            f"(if such objects are expected, {var.VERIFY_GZIP}=off copies them unchecked)"
        )

    def _describe(self, exc: zlib.error) -> str:
        member = f"gzip member {self.members + 1} (at offset {self._member_start})"
        text = str(exc)
        if "incorrect data check" in text:
            return (
                f"the CRC32 of {member} does not match its trailer: the bytes read differ "
                "from those compressed"
            )
        if "incorrect length check" in text:
            return (
                f"the inflated length of {member} does not match its trailer (ISIZE): bytes "
                "are missing or extra"
            )
        # zlib's own words ("invalid block type", "invalid distance too far back", ...).
        reason = text.split(": ", 1)[-1]
        return f"the deflate data of {member} is corrupt (zlib: {reason})"

    def _fail(self, cause: str) -> NoReturn:
        raise VerificationError(f"{self.name}: {cause}")


def verify_gzip_bytes(name: str, data: bytes | bytearray | memoryview) -> GzipVerifier:
    """Check a whole body at once (a single-part object); returns the finished verifier."""
    verifier = GzipVerifier(name)
    verifier.feed(data)
    verifier.finish()
    return verifier
