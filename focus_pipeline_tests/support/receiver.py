"""A webhook receiver for the alert tests: a tiny threaded HTTP server recording every POST.

Apprise's ``json://host:port/path`` URL posts each message as a JSON object (``title``,
``message``, ``type``, ...) to ``http://host:port/path``, so the tests point the pipeline at
:attr:`Receiver.url` and read back exactly what a Slack or a Teams would have received. The
URL's path carries a fake token, so a test can check that no message or log line names it.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from focus_pipeline_tests.support.helpers import WAIT_SECONDS, free_port

# Stands in for the token of a real webhook URL: long enough to be scrubbed from messages.
FAKE_TOKEN = "tok3nS3cretWebhookValue42"


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.body.get("title", ""))

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))

    @property
    def text(self) -> str:
        """The whole message as sent (the path is the URL's, token included, so not here)."""
        return json.dumps(self.body)


class Receiver:
    """Records each POST body (JSON) it receives; answers ``status`` (200 by default)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.delay = 0.0  # seconds before answering: a slow target
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                with receiver._lock:
                    receiver._received.append(Received(self.path, body))
                if receiver._stopping.wait(receiver.delay):
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The Apprise URL that posts here, with a fake token in its path."""
        return f"json://127.0.0.1:{self.port}/hooks/{FAKE_TOKEN}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        """The messages once at least ``count`` arrived (all of them, possibly fewer at the
        deadline)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(self.received) < count:
            time.sleep(0.05)
        return self.received

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port_url() -> str:
    """An Apprise URL whose receiver is down: nothing listens on its port."""
    return f"json://127.0.0.1:{free_port()}/hooks/{FAKE_TOKEN}"
