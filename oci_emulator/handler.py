"""HTTP request handling: authorization, faults, then the operation a route names.

REST surface (all under ``/n/{namespaceName}``; every request needs an ``authorization``
header; once API keys are registered (``register_api_key``) its signature is verified as OCI
does (keyId, ``rsa-sha256`` over the listed headers), else any value passes; errors are
``{"code": ..., "message": ...}`` with an ``opc-request-id`` header):

- ``GET /n/`` GetNamespace: the namespace as a JSON string.
- ``GET|HEAD /n/{ns}/b/{bucket}`` GetBucket / HeadBucket (minimal).
- ``GET /n/{ns}/b/{bucket}/o`` ListObjects: ``prefix``, ``start``, ``end``, ``startAfter``,
  ``limit`` (<= 1000), ``delimiter`` (``/`` only), ``fields``.
- ``GET|HEAD|PUT|DELETE /n/{ns}/b/{bucket}/o/{objectName}``: the name is percent-decoded from
  everything after ``/o/`` (``%2F`` and a literal ``/`` are both accepted). GET/HEAD honour
  ``if-match``, ``if-none-match`` and one ``range``; PUT honours ``Content-MD5``,
  ``Content-Type``, ``Content-Encoding``, ``opc-meta-*``, ``if-match``, ``if-none-match: *`` and
  the emulator-only ``opc-emulator-multipart-part-size`` header (store as if uploaded in parts of
  that size: listing md5 becomes ``base64(md5(part md5s))-N``, GET sends ``opc-multipart-md5``).

Control endpoints (no authorization; not recorded in the request log), for driving an emulator
that runs in another process:

- ``GET /_emulator/health`` -> ``{"ok": true, "namespace": "bling", "endpoint": "http://..."}``
- ``GET /_emulator/faults`` -> ``[{<fault fields>, "remaining": int | null}, ...]``
- ``POST /_emulator/faults`` body ``[{"op": "GetObject", "name_pattern": "\\.csv\\.gz$",
  "status": 503, "code": "ServiceUnavailable", "message": "...", "cut_after_bytes": null,
  "range_mode": null, "latency_s": 0.0, "times": 2, "probability": 1.0}, ...]`` replaces the
  fault list (``range_mode``: ``"ignore"`` or ``"wrong_bytes"``, see ``faults.py``; every key
  but ``op`` is optional; unknown keys -> 400) and answers like GET.
- ``DELETE /_emulator/faults`` -> 204, no faults left.
- ``GET /_emulator/requests`` -> ``[{"seq", "time", "method", "path", "op", "bucket",
  "object_name", "query", "headers", "status", "bytes_sent", "bytes_received", "request_id",
  "fault"}, ...]`` oldest first (see ``RequestRecord``).
- ``DELETE /_emulator/requests`` -> 204, log emptied.
- ``GET /_emulator/settings`` -> ``{"rate_limit_bytes_per_sec": int | null, "latency_s": float}``
- ``PUT /_emulator/settings`` with any subset of those keys -> the new settings.
"""

from __future__ import annotations

import email.utils
import logging
import time
from urllib.parse import parse_qs

from oci_emulator.faults import Fault
from oci_emulator.objects import ObjectRecord
from oci_emulator.protocol import (
    LIST_FIELDS,
    MAX_LIST_LIMIT,
    MULTIPART_PART_SIZE_HEADER,
    HttpError,
    http_date,
    object_headers,
    parse_part_size,
    parse_range,
)
from oci_emulator.request_log import HEADERS_OF_INTEREST, RequestRecord
from oci_emulator.routing import control_action, is_control, route
from oci_emulator.wire import WireHandler

log = logging.getLogger(__name__)


class Handler(WireHandler):
    """Routes one connection's requests to the store, the request log and the fault list."""

    # -- verbs ---------------------------------------------------------------------------------

    def do_GET(self) -> None:  # stdlib naming
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- dispatch ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self.begin(method)
        raw_path, _, raw_query = self.path.partition("?")
        try:
            if is_control(raw_path):
                self._control(method, raw_path)
                return
            self._handle_api(method, raw_path, raw_query)
        except HttpError as err:
            if not self.headers_started:
                self.send_error_json(err.status, err.code, err.message, err.headers)
            else:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception:
            log.exception("emulator failed on %s %s", method, self.path)
            if not self.headers_started:
                self.send_error_json(500, "InternalServerError", "emulator internal error")
            else:
                self.close_connection = True

    def _handle_api(self, method: str, raw_path: str, raw_query: str) -> None:
        emu = self.server.emulator
        op, namespace, bucket, name = route(method, raw_path)
        query = {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        headers = {h: self.headers[h] for h in HEADERS_OF_INTEREST if self.headers.get(h)}
        self.record = RequestRecord(
            seq=emu.requests.next_seq(),
            time=time.time(),
            method=method,
            path=raw_path,
            op=op,
            bucket=bucket,
            object_name=name,
            query=query,
            headers=headers,
            request_id=self.request_id,
        )
        if op is None:
            raise HttpError(404, "NotFound", f"No route for {method} {raw_path}")
        if not self.headers.get("authorization") or not self.server.api_keys.verifies(
            self.command, self.path, self.headers
        ):
            raise HttpError(
                401,
                "NotAuthenticated",
                "The required information to complete authentication "
                "was not provided or was incorrect.",
            )
        if emu.latency_s:
            time.sleep(emu.latency_s)
        fault = emu.faults.pick(op, name if op != "ListObjects" else query.get("prefix", ""))
        if fault is not None:
            self.record.fault = fault.to_dict()
            if fault.latency_s:
                time.sleep(fault.latency_s)
            if fault.status is not None:
                raise HttpError(
                    int(fault.status),
                    fault.error_code,
                    fault.message or f"Injected fault: {fault.error_code}",
                )
            self.cut_after = fault.cut_after_bytes
            self.range_mode = fault.range_mode
        if op == "GetNamespace":
            self.send_json(200, emu.namespace)
            return
        if namespace != emu.namespace:
            raise HttpError(
                404,
                "NamespaceNotFound",
                f"You do not have authorization to perform this "
                f"request, or the requested resource could not be found. Namespace "
                f"'{namespace}' not found.",
            )
        assert bucket is not None
        if not self.server.store.has_bucket(bucket):
            raise HttpError(
                404,
                "BucketNotFound",
                f"Either the bucket named '{bucket}' does not exist in "
                f"the namespace '{namespace}' or you are not authorized to access it",
            )
        if op in ("GetBucket", "HeadBucket"):
            self._bucket_info(bucket, head=op == "HeadBucket")
        elif op == "ListObjects":
            self._list_objects(bucket, query)
        elif op in ("GetObject", "HeadObject"):
            assert name is not None
            self._get_object(bucket, name, head=op == "HeadObject")
        elif op == "PutObject":
            assert name is not None
            self._put_object(bucket, name)
        elif op == "DeleteObject":
            assert name is not None
            self._delete_object(bucket, name)

    # -- operations ------------------------------------------------------------------------------

    def _bucket_info(self, bucket: str, *, head: bool) -> None:
        info = self.server.store.bucket_info(bucket)
        if head:
            self.respond(200, {"ETag": info["etag"], "Content-Length": "0"})
            return
        self.send_json(200, info, {"ETag": info["etag"]})

    def _list_objects(self, bucket: str, query: dict[str, str]) -> None:
        limit_raw = query.get("limit", str(MAX_LIST_LIMIT))
        try:
            limit = int(limit_raw)
        except ValueError:
            raise HttpError(400, "InvalidParameter", f"Invalid limit '{limit_raw}'") from None
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise HttpError(
                400, "InvalidParameter", f"The limit must be between 1 and {MAX_LIST_LIMIT}"
            )
        delimiter = query.get("delimiter") or None
        if delimiter is not None and delimiter != "/":
            raise HttpError(400, "InvalidParameter", "The only supported delimiter is '/'")
        fields = ("name",)
        if query.get("fields"):
            requested = tuple(f.strip() for f in query["fields"].split(",") if f.strip())
            unknown = [f for f in requested if f not in LIST_FIELDS]
            if unknown:
                raise HttpError(
                    400,
                    "InvalidParameter",
                    f"Invalid fields {unknown}; allowed: {','.join(LIST_FIELDS)}",
                )
            fields = ("name",) + tuple(f for f in requested if f != "name")
        result = self.server.emulator.list_objects(
            bucket,
            prefix=query.get("prefix", ""),
            start=query.get("start") or None,
            end=query.get("end") or None,
            start_after=query.get("startAfter") or None,
            limit=limit,
            delimiter=delimiter,
            fields=fields,
        )
        self.send_json(200, result)

    def _get_object(self, bucket: str, name: str, *, head: bool) -> None:
        record, fh = self.server.store.open_object(bucket, name, open_body=not head)
        if record is None:
            raise HttpError(
                404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'"
            )
        try:
            if self._not_modified(record):
                self.respond(304, {"ETag": record.etag, "Last-Modified": http_date(record)})
                return
            headers = object_headers(record)
            status, offset, length = 200, 0, record.size
            byte_range = None if head else self.headers.get("range")
            if self.range_mode == "ignore":
                byte_range = None  # 200 and the whole body, as if Range were not supported
            if byte_range:
                offset, length = parse_range(byte_range, record.size)
                status = 206
                headers.pop("Content-MD5", None)  # a ranged body cannot be checked against it
                headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{record.size}"
            headers["Content-Length"] = str(length)
            self.respond(status, headers)
            if fh is not None:
                if self.range_mode == "wrong_bytes" and length:
                    self.corrupt_at = offset + length // 2  # right headers, one wrong byte
                self.send_file(fh, offset, length)
        finally:
            if fh is not None:
                fh.close()

    def _not_modified(self, record: ObjectRecord) -> bool:
        """Apply if-match (412 on mismatch) and if-none-match (True: answer 304)."""
        if_match = self.headers.get("if-match")
        if if_match and if_match.strip() not in ("*", record.etag):
            raise HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{record.etag}'",
            )
        if_none_match = self.headers.get("if-none-match")
        return bool(if_none_match) and if_none_match.strip() in ("*", record.etag)

    def _put_object(self, bucket: str, name: str) -> None:
        if self.body_left == 0 and self.headers.get("content-length") is None:
            raise HttpError(411, "LengthRequired", "Content-Length is required")
        part_size = parse_part_size(self.headers.get(MULTIPART_PART_SIZE_HEADER))
        existing = self.server.emulator.get_object_record(bucket, name)
        if_match = self.headers.get("if-match")
        if if_match and (existing is None or if_match.strip() not in ("*", existing.etag)):
            raise HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{existing.etag if existing else None}'",
            )
        if_none_match = self.headers.get("if-none-match")
        if if_none_match and existing is not None and if_none_match.strip() == "*":
            raise HttpError(
                412,
                "IfNoneMatchFailed",
                f"The object '{name}' already exists in the bucket '{bucket}'",
            )
        metadata = {
            k[len("opc-meta-") :]: v
            for k, v in ((k.lower(), v) for k, v in self.headers.items())
            if k.startswith("opc-meta-")
        }
        store = self.server.store
        writer = store.new_writer(part_size)
        try:
            for chunk in self.iter_request_body():
                writer.write(chunk)
            writer.close()
        except BaseException:
            writer.abort()
            raise
        assert self.record is not None
        self.record.bytes_received = writer.digest.size
        expected_md5 = self.headers.get("content-md5")
        if expected_md5 and expected_md5.strip() != writer.digest.content_md5:
            writer.abort()
            raise HttpError(
                400,
                "InvalidParameter",
                f"The value of the Content-MD5 header "
                f"'{expected_md5}' was not the same as the computed digest "
                f"'{writer.digest.content_md5}'",
            )
        record = store.commit(
            bucket,
            name,
            writer,
            content_type=self.headers.get("content-type") or "application/octet-stream",
            content_encoding=self.headers.get("content-encoding") or None,
            metadata=metadata,
        )
        headers = {
            "ETag": record.etag,
            "Last-Modified": http_date(record),
            "Content-Length": "0",
        }
        if record.is_multipart:
            headers["opc-multipart-md5"] = record.md5
        else:
            headers["opc-content-md5"] = record.md5
        self.respond(200, headers)

    def _delete_object(self, bucket: str, name: str) -> None:
        emu = self.server.emulator
        existing = emu.get_object_record(bucket, name)
        if existing is None:
            raise HttpError(
                404, "ObjectNotFound", f"The object '{name}' was not found in the bucket '{bucket}'"
            )
        if_match = self.headers.get("if-match")
        if if_match and if_match.strip() not in ("*", existing.etag):
            raise HttpError(
                412,
                "IfMatchFailed",
                f"The If-Match header is '{if_match}' but the current "
                f"entity tag is '{existing.etag}'",
            )
        emu.delete_object(bucket, name)
        self.respond(204, {"Last-Modified": email.utils.formatdate(usegmt=True)})

    # -- control endpoints ---------------------------------------------------------------------

    def _control(self, method: str, raw_path: str) -> None:
        emu = self.server.emulator
        action = control_action(method, raw_path)
        try:
            if action == "health":
                self.send_json(
                    200, {"ok": True, "namespace": emu.namespace, "endpoint": emu.endpoint}
                )
            elif action == "get_faults":
                self.send_json(200, emu.faults.as_dicts())
            elif action == "set_faults":
                body = self.read_json()
                if isinstance(body, dict):
                    body = [body]
                if not isinstance(body, list):
                    raise ValueError("expected a JSON list of faults")
                emu.faults.replace([Fault.from_dict(item) for item in body])
                self.send_json(200, emu.faults.as_dicts())
            elif action == "clear_faults":
                emu.faults.clear()
                self.respond(204, {})
            elif action == "get_requests":
                self.send_json(200, [r.to_dict() for r in emu.requests.snapshot()])
            elif action == "clear_requests":
                emu.clear_requests()
                self.respond(204, {})
            elif action == "get_settings":
                self.send_json(200, emu.settings())
            elif action == "put_settings":
                body = self.read_json()
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                emu.update_settings(**body)
                self.send_json(200, emu.settings())
            else:
                raise HttpError(404, "NotFound", f"No control route {method} {raw_path}")
        except (ValueError, TypeError) as err:
            raise HttpError(400, "InvalidParameter", str(err)) from None
