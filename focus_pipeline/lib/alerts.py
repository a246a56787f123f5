"""Alerts: what each message says, and sending it through Apprise without ever leaking a URL.

Pure: the message builders take plain values (days, run ids, error text) and return
``(title, body)``; :func:`send` delivers one message to every configured Apprise URL (Slack,
Teams, email, PagerDuty, a ``json://`` webhook, ...). The Dagster side (``defs/alerts.py``)
decides *when* to send; this module decides *what* is said and makes sure that sending never
fails whoever sends: a copy run, a sensor tick.

Apprise URLs carry tokens (a Slack webhook's path, a password), so they are treated as
secrets here: a failure to deliver is one WARNING line that names the event and only the
scheme of each URL (``json://…``); bodies and titles are scrubbed of anything that looks like
a configured URL or a part of one; and Apprise's own log lines, which can print a URL it could
not load, are kept out of every handler.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from focus_pipeline.lib import variables as var

_log = logging.getLogger(__name__)

PRODUCT = "focus-pipeline"
# One send must not hold up a sensor tick (60 s by default) or the end of a run: Apprise's
# whole call, all URLs together, is cut off after this many seconds.
SEND_TIMEOUT_SECONDS = 10.0
# A failure's reason is its first lines: enough to act on in a chat message; the rest is in
# the Dagster UI, which the message links to.
REASON_MAX_LINES = 10
REASON_MAX_CHARS = 1500
# Chat services cut or reject long titles and bodies (Slack's section text: 3,000 chars).
MAX_TITLE_CHARS = 150
MAX_BODY_CHARS = 2800
# Days a message lists one by one before it shows a range.
MAX_DAYS_LISTED = 5
# Bound of FOCUS_ALERT_AFTER_FAILED_TICKS: Dagster+'s consecutive_failure_threshold allows
# 1-100, and a larger value would mean days of silence at the default poll interval.
MAX_FAILED_TICKS = 100
# Parts of a URL (path segments, query values, host) at least this long are scrubbed from
# messages wherever they appear; tokens are longer (Slack's shortest are 9 characters), and
# shorter words ("hook", "alerts") would garble ordinary text. Passwords are always scrubbed.
MIN_SECRET_PART_CHARS = 8
REDACTED = "[redacted]"
# Apprise's reason for an undelivered message, in the warning line: its first line, cut here.
REASON_LINE_CHARS = 200
# Apprise's notification types, which services render as colours or icons.
FAILURE, WARNING, SUCCESS, INFO = "failure", "warning", "success", "info"
# Finished tick statuses that mean "the sensor ran": Dagster records SKIPPED for a tick that
# requested no run.
TICK_FAILED = "FAILURE"
TICK_FINISHED = frozenset({"SUCCESS", "SKIPPED", "FAILURE"})

_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*://"
# Items are separated by spaces or commas. No URL holds a space, but one may hold commas
# (mailto://...?to=a@x,b@y): a comma separates only where the next URL starts.
_COMMA_SEPARATOR = re.compile(rf",+(?={_SCHEME})")
_URL_START = re.compile(rf"^{_SCHEME}\S+$")
# A dotted exception path at the start of a line: "dagster._core.errors.SensorExecutionError:"
_QUALIFIED_ERROR = re.compile(r"^(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*):", re.MULTILINE)


# --- URLs ------------------------------------------------------------------------------------


def split_urls(urls: str | None) -> list[str]:
    """The Apprise URLs in ``FOCUS_ALERT_URLS``: separated by spaces or commas."""
    items = [
        item.strip(",") for chunk in (urls or "").split() for item in _COMMA_SEPARATOR.split(chunk)
    ]
    return [item for item in items if item]


def url_list_problem(urls: str) -> str | None:
    """Why ``urls`` is not a list of Apprise URLs, without repeating any of it, or None."""
    items = split_urls(urls)
    if not items:
        return "must hold at least one Apprise URL (scheme://...), or be unset"
    bad = [str(i + 1) for i, item in enumerate(items) if not _URL_START.match(item)]
    if bad:
        return (
            f"item(s) {', '.join(bad)} of {len(items)} are not Apprise URLs: each must look "
            "like scheme://..., separated by spaces or commas"
        )
    return None


def scheme_label(url: str) -> str:
    """What may be said about a URL in a log line: its scheme only (``json://…``)."""
    scheme, sep, _ = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return "an unreadable URL"
    return f"{scheme.lower()}://…"


def secret_parts(url: str) -> set[str]:
    """The strings of ``url`` that must never appear in a message: the URL itself, the part
    after its scheme, the password, and every long-enough host, user, path segment, query
    value and fragment (Apprise puts tokens in any of them: ``slack://T1/B2/C3``)."""
    parts = {url}
    _, sep, rest = url.partition("://")
    if not sep:
        return parts
    # Apprise's HTTP plugins log the request as http(s)://<host and path>.
    where = rest.split("?", 1)[0].split("#", 1)[0]
    slash = where.find("/")
    parts.update(
        p
        for p in (rest, where, where[slash:] if slash >= 0 else "")
        if len(p) >= MIN_SECRET_PART_CHARS
    )
    try:
        split = urlsplit("x://" + rest)
        password = split.password
    except ValueError:
        split, password = None, None
    if password:
        parts.add(password)
    pieces = re.split(r"[/:@]", where)
    if split is not None:
        pieces += [v for _, v in parse_qsl(split.query, keep_blank_values=False)]
        pieces.append(split.fragment)
    # A host that is a DNS name or an address (it has dots) is where, not a token: Slack-like
    # URLs put tokens where a host would be, and those have no dots. Redacting an address
    # would garble the UI link in every message when the webhook runs on the UI's host.
    host = (split.hostname or "") if split is not None else ""
    parts.update(
        p
        for p in pieces
        if len(p) >= MIN_SECRET_PART_CHARS and not ("." in host and p.lower() == host)
    )
    return {p for p in parts if p}


def redact(text: str, urls: Sequence[str]) -> str:
    """``text`` without anything that looks like one of ``urls`` or a secret part of one."""
    if not urls or not text:
        return text
    return _scrubber(tuple(sorted(set(urls))))(text)


@functools.lru_cache(maxsize=32)
def _scrubber(urls: tuple[str, ...]) -> Callable[[str], str]:
    """One compiled pattern per URL list: log filters call this for every record they see."""
    alternatives = []
    schemes = sorted({u.partition("://")[0] for u in urls if "://" in u}, key=len, reverse=True)
    if schemes:
        # Any URL of a configured scheme: Apprise names URLs it could not load.
        alternatives.append(
            rf"(?i:(?<![A-Za-z0-9+.-])(?:{'|'.join(re.escape(s) for s in schemes)})://\S+)"
        )
    parts = sorted(set().union(*(secret_parts(u) for u in urls)), key=len, reverse=True)
    alternatives += [rf"(?<![A-Za-z0-9]){re.escape(p)}(?![A-Za-z0-9])" for p in parts]
    pattern = re.compile("|".join(alternatives))
    return lambda text: pattern.sub(REDACTED, text)


# --- message parts ---------------------------------------------------------------------------


def first_lines(
    text: str | None, max_lines: int = REASON_MAX_LINES, max_chars: int = REASON_MAX_CHARS
) -> str:
    """The first non-blank lines of ``text``, at most ``max_lines`` and ``max_chars``; a cut is
    marked with ``…``. Stack traces and long outputs stay in the Dagster UI."""
    lines = [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "(no error message)"
    cut = len(lines) > max_lines
    out = "\n".join(lines[:max_lines])
    if len(out) > max_chars:
        out, cut = out[: max_chars - 1].rstrip(), True
    return out + ("\n…" if cut and len(out) + 2 <= max_chars else "…" if cut else "")


def short_error(message: str) -> str:
    """An error message with exception classes named without their module path:
    ``dagster._core.errors.SensorExecutionError: ...`` reads ``SensorExecutionError: ...``."""
    return _QUALIFIED_ERROR.sub(r"\1:", message)


def describe_days(days: Sequence[str]) -> str:
    """``2024-11-28``; ``2024-11-27, 2024-11-28``; ``2024-11-01 .. 2024-11-30 (30 days)``."""
    ordered = sorted(set(days))
    if not ordered:
        return "an unknown day"
    if len(ordered) <= MAX_DAYS_LISTED:
        return ", ".join(ordered)
    return f"{ordered[0]} .. {ordered[-1]} ({len(ordered)} days)"


def run_link(ui_url: str | None, run_id: str) -> str | None:
    """The run's page in the Dagster UI, when its base URL is known."""
    if not ui_url:
        return None
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def _message(title: str, lines: Sequence[str | None]) -> tuple[str, str]:
    """A message within the services' bounds; ``None`` lines are left out."""
    title = f"{PRODUCT}: {title}"
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1] + "…"
    body = "\n".join(line for line in lines if line is not None)
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1] + "…"
    return title, body


# --- messages --------------------------------------------------------------------------------


def run_failed(
    days: Sequence[str],
    reason: str,
    run_id: str,
    ui_url: str | None = None,
    job_name: str | None = None,
) -> tuple[str, str]:
    """A copy run failed: which day(s), why (its first lines), which run, and where to look."""
    what = describe_days(days)
    link = run_link(ui_url, run_id)
    return _message(
        f"copy of {what} failed",
        [
            f"Day: {what}" if len(set(days)) <= 1 else f"Days: {what}",
            f"Run: {run_id}" + (f" ({job_name})" if job_name else ""),
            f"Link: {link}" if link else None,
            "Reason:",
            first_lines(short_error(reason)),
        ],
    )


def day_late(day: str, detail: str) -> tuple[str, str]:
    """A day's reports are not all in the BYOD bucket when they should be."""
    return _message(f"{day} is late", [f"Day: {day}", first_lines(detail)])


def day_recovered(day: str, detail: str = "") -> tuple[str, str]:
    """A day that was reported late is complete again."""
    return _message(
        f"{day} recovered",
        [f"Day: {day}", first_lines(detail) if detail.strip() else "It is no longer late."],
    )


def dead_run(run_id: str, day: str, message: str, ui_url: str | None = None) -> tuple[str, str]:
    """A copy run whose processes were gone was marked failed; its day is requested again."""
    link = run_link(ui_url, run_id)
    return _message(
        f"dead copy run of {day}",
        [f"Day: {day}", f"Run: {run_id}", f"Link: {link}" if link else None, first_lines(message)],
    )


def sensor_failing(failed_ticks: int, reason: str, sensor: str | None = None) -> tuple[str, str]:
    """The OCI polling sensor failed ``failed_ticks`` ticks in a row: nothing new is copied
    until it recovers."""
    return _message(
        f"OCI polling sensor failed {failed_ticks} ticks in a row",
        [
            f"Sensor: {sensor}" if sensor else None,
            f"Its last {failed_ticks} ticks failed, so no new or changed report is copied "
            "until it recovers. Last error:",
            first_lines(short_error(reason)),
        ],
    )


def sensor_recovered(sensor: str | None = None) -> tuple[str, str]:
    """The OCI polling sensor's ticks succeed again after a failing alert."""
    return _message(
        "OCI polling sensor recovered",
        [
            f"Sensor: {sensor}" if sensor else None,
            "Its ticks succeed again; days with new or changed reports are requested as usual.",
        ],
    )


# --- the sensor's ticks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    """A finished tick of the watched sensor, as the watcher needs it."""

    failed: bool
    error: str = ""


@dataclass(frozen=True)
class TickWatch:
    """The watcher's state between its ticks (its cursor): whether a failing alert went out
    and no recovery alert since. One message per streak, never one per tick."""

    alerted: bool = False

    def to_json(self) -> str:
        return json.dumps({"alerted": self.alerted})

    @classmethod
    def from_json(cls, text: str | None) -> TickWatch:
        try:
            return cls(alerted=bool(json.loads(text or "{}").get("alerted", False)))
        except (ValueError, AttributeError):
            return cls()


@dataclass(frozen=True)
class TickVerdict:
    """What the watcher should say now: ``"failing"``, ``"recovered"`` or nothing (None)."""

    event: str | None
    failed_in_a_row: int = 0
    reason: str = ""


def judge_ticks(watch: TickWatch, ticks: Sequence[Tick], threshold: int) -> TickVerdict:
    """Given the newest finished ticks (newest first), whether to alert: once when the last
    ``threshold`` all failed, once when a tick succeeds after that alert."""
    in_a_row = 0
    for tick in ticks:
        if not tick.failed:
            break
        in_a_row += 1
    if not watch.alerted and in_a_row >= threshold:
        return TickVerdict("failing", in_a_row, ticks[0].error)
    if watch.alerted and ticks and not ticks[0].failed:
        return TickVerdict("recovered")
    return TickVerdict(None, in_a_row)


# --- sending ---------------------------------------------------------------------------------


class _Scrub(logging.Filter):
    """Rewrites log records with the configured URLs' secret parts removed, at the logger,
    before any handler sees them: Apprise names a URL it could not load (``Could not load
    Slack URL: slack://<token>``) and its requests, and urllib3 names request paths."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: frozenset[str] = frozenset()

    def filter(self, record: logging.LogRecord) -> bool:
        urls = self.urls  # replaced whole, never changed in place: safe across threads
        if urls:
            message = record.getMessage()
            scrubbed = redact(message, sorted(urls))
            if scrubbed != message:
                record.msg, record.args = scrubbed, ()
        return True


_SCRUB = _Scrub()
_guard_lock = threading.Lock()
_guarded = False


def _guard_logs(urls: Sequence[str]) -> None:
    """Keep URLs out of every log: Apprise's and urllib3's records are scrubbed at their
    loggers, and Apprise's (chatty, and repeated by :func:`send`'s own warning) go to no
    handler but its per-call capture."""
    global _guarded
    with _guard_lock:
        _SCRUB.urls = _SCRUB.urls | frozenset(urls)
        if _guarded:
            return
        apprise_logger = logging.getLogger("apprise")
        apprise_logger.addFilter(_SCRUB)
        apprise_logger.propagate = False
        apprise_logger.addHandler(logging.NullHandler())  # no "last resort" print to stderr
        logging.getLogger("urllib3.connectionpool").addFilter(_SCRUB)
        _guarded = True


def _failure_reason(result: object, urls: Sequence[str]) -> str:
    """Apprise's first warning or error of the call, scrubbed, on one line."""
    try:
        entries = list(result.logs())  # type: ignore[attr-defined]
    except Exception:
        entries = []
    for entry in entries:
        if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL"):
            lines = redact(str(entry.message), urls).strip().splitlines()
            if lines:
                return lines[0][:REASON_LINE_CHARS].rstrip(".")
    status = getattr(result, "status", None)
    return f"Apprise answered {getattr(status, 'name', status)}"


def send(
    urls: str,
    title: str,
    body: str,
    *,
    event: str | None = None,
    notify_type: str = INFO,
    timeout: float = SEND_TIMEOUT_SECONDS,
) -> bool:
    """Send one message to every Apprise URL in ``urls``; True when all of them took it.

    Never raises: an alert must not fail the run or tick that sends it. A URL Apprise cannot
    load, a target that is down or slow, any error: one WARNING naming ``event`` (the title
    when not given) and the URLs' schemes only, and False.
    """
    targets = split_urls(urls)
    if not targets:
        return False
    event = redact(event or title, targets)
    schemes = ", ".join(scheme_label(u) for u in targets)
    try:
        _guard_logs(targets)
        # Imported here: Apprise loads its plugins on first use (about a second), which the
        # settings and every command that never sends an alert need not pay.
        import apprise

        notifier = apprise.Apprise()
        unloadable = [scheme_label(u) for u in targets if not notifier.add(u)]
        if unloadable:
            _log.warning(
                "Alert %r: %d of %d alert URL(s) could not be loaded by Apprise (%s); check %s.",
                event,
                len(unloadable),
                len(targets),
                ", ".join(unloadable),
                var.ALERT_URLS,
            )
        if len(notifier) == 0:
            return False
        result = notifier.notify(
            body=redact(body, targets),
            title=redact(title, targets),
            notify_type=notify_type,
            timeout=timeout,
        )
    except Exception as exc:  # never fail the caller; the exception text could hold a URL
        _log.warning("Alert %r not sent to %s: %s.", event, schemes, type(exc).__name__)
        return False
    if not result:
        _log.warning(
            "Alert %r not delivered to %s: %s.", event, schemes, _failure_reason(result, targets)
        )
        return False
    return not unloadable
