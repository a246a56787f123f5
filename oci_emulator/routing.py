"""URL patterns to operations: which API operation (or control action) a request asks for."""

from __future__ import annotations

import re
from urllib.parse import unquote

OPERATIONS = (
    "GetNamespace",
    "GetBucket",
    "HeadBucket",
    "ListObjects",
    "GetObject",
    "HeadObject",
    "PutObject",
    "DeleteObject",
)
CONTROL_PREFIX = "/_emulator"

_NS_RE = re.compile(r"^/n/?$")
_BUCKET_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/?$")
_LIST_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/o/?$")
_OBJECT_RE = re.compile(r"^/n/([^/]+)/b/([^/]+)/o/(.+)$", re.DOTALL)

_OBJECT_OPS = {
    "GET": "GetObject",
    "HEAD": "HeadObject",
    "PUT": "PutObject",
    "DELETE": "DeleteObject",
}
_BUCKET_OPS = {"GET": "GetBucket", "HEAD": "HeadBucket"}

# (path, method) -> control action; the handler has one method per action.
_CONTROL_ACTIONS = {
    ("/_emulator/health", "GET"): "health",
    ("/_emulator/faults", "GET"): "get_faults",
    ("/_emulator/faults", "POST"): "set_faults",
    ("/_emulator/faults", "DELETE"): "clear_faults",
    ("/_emulator/requests", "GET"): "get_requests",
    ("/_emulator/requests", "DELETE"): "clear_requests",
    ("/_emulator/settings", "GET"): "get_settings",
    ("/_emulator/settings", "PUT"): "put_settings",
}


def is_control(raw_path: str) -> bool:
    """True for the emulator's own endpoints (no authorization, not logged)."""
    return raw_path == CONTROL_PREFIX or raw_path.startswith(CONTROL_PREFIX + "/")


def control_action(method: str, raw_path: str) -> str | None:
    """The control action of ``method raw_path`` (a trailing ``/`` is ignored), or None."""
    return _CONTROL_ACTIONS.get((raw_path.rstrip("/"), method))


def route(method: str, raw_path: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Map a raw request path to (operation, namespace, bucket, object name), all decoded.

    The object name is everything after ``/o/``, percent-decoded (``%2F`` and a literal ``/``
    are both accepted). The operation is None when the path is known but the method is not.
    """
    if _NS_RE.match(raw_path):
        return ("GetNamespace" if method == "GET" else None), None, None, None
    m = _LIST_RE.match(raw_path)
    if m:
        ns, bucket = unquote(m.group(1)), unquote(m.group(2))
        return ("ListObjects" if method == "GET" else None), ns, bucket, None
    m = _OBJECT_RE.match(raw_path)
    if m:
        ns, bucket, name = unquote(m.group(1)), unquote(m.group(2)), unquote(m.group(3))
        return _OBJECT_OPS.get(method), ns, bucket, name
    m = _BUCKET_RE.match(raw_path)
    if m:
        ns, bucket = unquote(m.group(1)), unquote(m.group(2))
        return _BUCKET_OPS.get(method), ns, bucket, None
    return None, None, None, None
