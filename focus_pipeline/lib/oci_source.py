"""Reading FOCUS reports from OCI Object Storage with the official SDK.

Bodies are read raw (``decode_content=False``): a ``.csv.gz`` object stored with
``Content-Encoding: gzip`` would otherwise be silently decompressed, and the copy would no
longer be the report. Every ranged read names the etag it expects (``if-match``), so an object
overwritten mid-copy fails with 412 instead of mixing two versions.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import oci
from oci._vendor.requests.utils import get_environ_proxies

from focus_pipeline.lib.errors import BadRangeAnswer, ShortRead, SourceChanged, is_retryable
from focus_pipeline.lib.plan import OciObject
from focus_pipeline.lib.retry import Cancelled, CancelToken, RetryPolicy, call_with_retries

# OCI returns at most 1,000 objects a page.
LIST_PAGE_LIMIT = 1000
# Only what the diff and the copy use: the SDK parses each timestamp with dateutil, ~1 ms of
# CPU per object, which a 90-day sensor window of 100 objects a day would pay 9,000 times.
LIST_FIELDS = "name,size,etag,md5"
# Reads are chunked so a terminated run notices within one chunk, not one part. 256 KiB costs
# no more CPU than 1 MiB, and 32 reads in flight then hold ~24 MiB less in transient chunks.
READ_CHUNK = 256 << 10
# Folders listed at once by list_folders: at 100-200 ms per call to a remote region, a long
# window listed one by one would eat into a sensor tick's 60 s; OCI's per-tenancy request
# limits are far above this.
LIST_THREADS = 8
# Seconds: connect, read (per socket read, not per body).
DEFAULT_TIMEOUT = (10.0, 60.0)

OciAuth = Literal[
    "config_file", "api_key", "instance_principal", "resource_principal", "security_token"
]
AUTH_MODES: tuple[str, ...] = get_args(OciAuth)
# The SDK's and the oci CLI's own defaults, so an existing setup works unchanged.
DEFAULT_CONFIG_FILE: str = oci.config.DEFAULT_LOCATION
DEFAULT_PROFILE: str = oci.config.DEFAULT_PROFILE


def api_key_pem(pem: str) -> str:
    """The PEM text of an API key given by value (a secret store), line breaks restored.

    Secret stores and CI variables often flatten newlines, so literal ``\\n`` sequences are
    accepted for line breaks. Errors never repeat the key.
    """
    text = pem.strip().replace("\\n", "\n")
    if not text.startswith("-----BEGIN") or "PRIVATE KEY-----" not in text:
        raise ValueError("is not a PEM private key (-----BEGIN ... PRIVATE KEY----- ...)")
    return text


def load_api_key(pem: str, passphrase: str | None = None) -> str:
    """:func:`api_key_pem`, checked to load with ``passphrase`` (the settings' check at
    definitions load; building a signer loads it anyway, ~50 ms of CPU each time)."""
    text = api_key_pem(pem)
    try:
        oci.signer.load_private_key(text, passphrase)
    except Exception:
        raise ValueError(
            "could not be loaded: not an RSA private key, or FOCUS_OCI_PRIVATE_KEY_PASSPHRASE "
            "is missing or wrong"
        ) from None
    return text


@dataclass(frozen=True)
class ApiKey:
    """An API key given by value (``api_key`` auth); the key never appears in a repr."""

    tenancy: str
    user: str
    fingerprint: str
    private_key: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OciConnection:
    """Everything needed to build an Object Storage client: paths, or for ``api_key`` auth
    the key itself (hidden from reprs)."""

    auth: OciAuth = "config_file"
    config_file: str = DEFAULT_CONFIG_FILE
    profile: str = DEFAULT_PROFILE
    region: str | None = None
    endpoint: str | None = None
    api_key: ApiKey | None = None

    def build_client(self) -> oci.object_storage.ObjectStorageClient:
        """A client with SDK retries and circuit breaker off: our RetryPolicy governs both.

        Clients built by one connection share its signer (signers are thread-safe): loading and
        checking the RSA key costs ~40 ms of CPU, which each of a run's 16+ threads would
        otherwise pay again, and principal signers fetch a token whenever they are built.
        """
        config, signer = self._auth
        kwargs: dict[str, object] = {
            "signer": signer,
            "retry_strategy": oci.retry.NoneRetryStrategy(),
            "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
            "timeout": DEFAULT_TIMEOUT,
        }
        if self.endpoint:
            kwargs["service_endpoint"] = self.endpoint
        client = oci.object_storage.ObjectStorageClient(config, **kwargs)
        _read_environment_once(client.base_client.session, client.base_client.endpoint)
        return client

    @functools.cached_property
    def _auth(self) -> tuple[dict[str, Any], Any]:
        """The SDK config and signer, built on first use; a failure is not cached."""
        if self.auth in ("config_file", "security_token"):
            config = oci.config.from_file(self.config_file, self.profile)
            if self.region:
                config["region"] = self.region
            if self.auth == "config_file":
                oci.config.validate_config(config)
                return config, oci.signer.Signer.from_config(config)
            with open(_expand(config["security_token_file"])) as fh:
                token = fh.read().strip()
            key = oci.signer.load_private_key_from_file(
                _expand(config["key_file"]), config.get("pass_phrase")
            )
            return config, oci.auth.signers.SecurityTokenSigner(token, key)
        if self.auth == "api_key":
            if self.api_key is None or not self.region:
                raise ValueError("api_key auth needs the key's user, fingerprint, key and region")
            k = self.api_key
            pem = api_key_pem(k.private_key)
            # The SDK's in-memory form of a config profile (key_content instead of key_file):
            # the client validates it and keeps it in memory only.
            config = {
                "user": k.user,
                "fingerprint": k.fingerprint,
                "tenancy": k.tenancy,
                "region": self.region,
                "key_content": pem,
            }
            oci.config.validate_config(config)
            signer = oci.signer.Signer(
                k.tenancy,
                k.user,
                k.fingerprint,
                private_key_file_location=None,
                pass_phrase=k.passphrase,
                private_key_content=pem,
            )
            return config, signer
        if self.auth == "instance_principal":
            signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
        elif self.auth == "resource_principal":
            signer = oci.auth.signers.get_resource_principals_signer()
        else:
            raise ValueError(f"unknown OCI auth mode {self.auth!r}; expected one of {AUTH_MODES}")
        return {"region": self.region or signer.region}, signer


def _read_environment_once(session: Any, endpoint: str) -> None:
    """Resolve the proxy and CA-bundle variables for ``endpoint`` now, not on every request.

    The SDK's requests session re-reads them from the environment for each request (about
    1 ms of CPU, more in a container with a long environment), a quarter of the SDK's cost of
    a small GET. Every request of a client goes to its one endpoint, so resolving them once
    gives the same proxies, ``NO_PROXY`` exclusions and CA bundle, unless the environment
    changes during a run.
    """
    if not session.trust_env:
        return
    for scheme, proxy in get_environ_proxies(endpoint).items():
        session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _expand(path: str) -> str:
    return os.path.expanduser(path)


def check_get_answer(
    obj: OciObject, start: int, length: int, status: int, headers: Mapping[str, str]
) -> None:
    """Raise :class:`BadRangeAnswer` unless the answer's headers promise exactly the bytes
    asked for: a ranged GET answered ``206`` with ``Content-Range: bytes start-end/size``,
    a whole-object GET answered ``200`` with ``Content-Length`` equal to the object's size.

    Reading ``length`` bytes of whatever came back would otherwise copy the wrong bytes in
    silence: a proxy that ignores ``Range`` answers 200 with the object from byte 0, and every
    part would start with the object's first bytes. ``headers`` must look up names without
    regard to case (the SDK's are); tests pass lower-case names.
    """
    end = start + length - 1
    whole = start == 0 and length == obj.size
    if whole:
        asked = f"a GET of the whole of {obj.name!r}"
    else:
        asked = f"a ranged GET of bytes={start}-{end} of {obj.name!r}"
    if not whole and status == 200:
        raise BadRangeAnswer(f"OCI answered 200 to {asked}: the server ignored Range")
    expected_status = 200 if whole else 206
    if status != expected_status:
        raise BadRangeAnswer(f"OCI answered {status} to {asked}, expected {expected_status}")
    if not whole:
        got = headers.get("content-range")
        expected = f"bytes {start}-{end}/{obj.size}"
        if got != expected:
            raise BadRangeAnswer(
                f"OCI answered {asked} with Content-Range {got!r}, expected {expected}"
            )
    content_length = headers.get("content-length")
    if content_length is None:
        raise BadRangeAnswer(f"OCI answered {asked} with no Content-Length")
    if content_length.strip() != str(length):
        raise BadRangeAnswer(
            f"OCI answered {asked} with Content-Length {content_length}, expected {length}"
        )


class OciReportSource:
    """Lists and reads objects in one bucket; safe to share between threads.

    The SDK client wraps a requests session, which is not documented as thread-safe, so each
    thread gets its own client (and connection pool) built once and reused for every file.
    """

    def __init__(
        self,
        client_factory: Callable[[], oci.object_storage.ObjectStorageClient],
        namespace: str,
        bucket: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._factory = client_factory
        self.namespace = namespace
        self.bucket = bucket
        self.retry = retry or RetryPolicy()
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        self.list_calls = 0
        self.get_calls = 0

    def client(self) -> oci.object_storage.ObjectStorageClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._factory()
        return client

    def _count(self, attr: str) -> None:
        with self._stats_lock:
            setattr(self, attr, getattr(self, attr) + 1)

    def list(self, prefix: str, cancel: CancelToken | None = None) -> list[OciObject]:
        """Every object under ``prefix``, following ``nextStartWith`` across pages."""
        objects: list[OciObject] = []
        start: str | None = None
        while True:

            def page(start: str | None = start) -> oci.response.Response:
                self._count("list_calls")
                kwargs = {"prefix": prefix, "fields": LIST_FIELDS, "limit": LIST_PAGE_LIMIT}
                if start is not None:
                    kwargs["start"] = start
                return self.client().list_objects(self.namespace, self.bucket, **kwargs)

            resp = call_with_retries(
                page, self.retry, is_retryable, cancel=cancel, what=f"listing {prefix!r}"
            )
            for summary in resp.data.objects:
                objects.append(
                    OciObject(
                        name=summary.name,
                        size=int(summary.size or 0),
                        etag=summary.etag,
                        md5=summary.md5,
                    )
                )
            start = resp.data.next_start_with
            if not start:
                return objects

    def list_folders(self, prefixes: Sequence[str]) -> dict[str, list[OciObject]]:
        """:meth:`list` of several folders, ``LIST_THREADS`` at a time; the first error
        propagates."""
        if not prefixes:
            return {}
        with ThreadPoolExecutor(min(LIST_THREADS, len(prefixes))) as pool:
            return dict(zip(prefixes, pool.map(self.list, prefixes), strict=True))

    def head(self, name: str, cancel: CancelToken | None = None) -> OciObject:
        """The object's current version, for restarting a copy after the source changed."""

        def call() -> oci.response.Response:
            return self.client().head_object(self.namespace, self.bucket, name)

        resp = call_with_retries(call, self.retry, is_retryable, cancel=cancel, what=name)
        h = resp.headers
        return OciObject(
            name=name,
            size=int(h.get("content-length", 0)),
            etag=h.get("etag"),
            md5=h.get("content-md5") or h.get("opc-multipart-md5"),
        )

    def read(
        self,
        obj: OciObject,
        start: int = 0,
        length: int | None = None,
        cancel: CancelToken | None = None,
        into: bytearray | None = None,
    ) -> bytearray:
        """``length`` bytes of ``obj`` from ``start``, exactly as stored; retried on faults.

        A body cut mid-stream is retried from the same offset with ``if-match``, so only the
        broken range is fetched again, never a newer version of the object. ``into`` (exactly
        ``length`` bytes) is filled and returned instead of a new buffer, so a copy can reuse
        its part buffers.
        """
        if length is None:
            length = obj.size - start if into is None else len(into)
        if into is not None and len(into) != length:
            raise ValueError(f"buffer of {len(into)} bytes for a read of {length}")

        def attempt() -> bytearray:
            return self._read_once(obj, start, length, cancel, into)

        return call_with_retries(
            attempt, self.retry, is_retryable, cancel=cancel, what=f"reading {obj.name!r}"
        )

    def _read_once(
        self,
        obj: OciObject,
        start: int,
        length: int,
        cancel: CancelToken | None,
        into: bytearray | None,
    ) -> bytearray:
        self._count("get_calls")
        kwargs: dict[str, object] = {"if_match": obj.etag}
        whole = start == 0 and length == obj.size
        if not whole:
            kwargs["range"] = f"bytes={start}-{start + length - 1}"
        try:
            resp = self.client().get_object(self.namespace, self.bucket, obj.name, **kwargs)
        except oci.exceptions.ServiceError as exc:
            if exc.status == 412:
                raise SourceChanged(f"{obj.name} changed in OCI during the copy") from None
            raise
        raw = resp.data.raw
        try:
            check_get_answer(obj, start, length, resp.status, resp.headers)
        except BadRangeAnswer:
            raw.close()  # an unread body: the connection cannot serve another request
            raise
        buf = bytearray(length) if into is None else into
        view = memoryview(buf)
        got = 0
        complete = False
        try:
            while got < length:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                chunk = raw.read(min(READ_CHUNK, length - got), decode_content=False)
                if not chunk:
                    break
                view[got : got + len(chunk)] = chunk
                got += len(chunk)
            complete = got == length
        finally:
            view.release()
            # A fully read body leaves the connection clean for the next part; anything else
            # (a cut, a cancel) must not be handed back to the pool.
            if complete:
                raw.release_conn()
            else:
                raw.close()
        if got != length:
            raise ShortRead(f"{obj.name}: got {got} of {length} bytes at offset {start}")
        return buf
