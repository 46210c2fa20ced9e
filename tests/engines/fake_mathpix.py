"""A small local HTTP server that speaks the Mathpix v3 ``/text`` shape, with scripted faults.

``site.script`` is a list of :class:`Reply` consumed one per ``POST /v3/text``; when it is empty
the server answers ``site.default``. Every request is recorded (path, headers, JSON body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_BODY: dict[str, Any] = {
    "request_id": "fake-1",
    "text": "\\( x^{2}+1 \\)",
    "latex_styled": "x^{2}+1",
    "confidence": 0.97,
    "confidence_rate": 0.99,
    "image_width": 40,
    "image_height": 20,
    "data": [{"type": "latex", "value": "x^{2}+1"}],
}


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: dict(GOOD_BODY))
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeMathpix:
    url: str  # base URL including /v3
    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


@contextmanager
def fake_mathpix() -> Iterator[FakeMathpix]:
    site: FakeMathpix

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, reply: Reply) -> None:
            if reply.delay:
                site.release.wait(reply.delay)
            data = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            with site.lock:
                site.requests.append(
                    Recorded(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw)
                    )
                )
            self._answer(site.next_reply())

        def do_GET(self) -> None:
            self._answer(Reply(body={"ocr_results": []}))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site = FakeMathpix(url=f"http://127.0.0.1:{server.server_address[1]}/v3")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        time.sleep(0)
