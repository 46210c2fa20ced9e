"""Helpers for the server tests: a test double engine, images, and real servers on loopback.

``TestDoubleEngine`` is a stand-in for route mechanics only: it returns a fixed formula for any
image that has ink and an empty result for a blank one. Tests of recognition quality use the
real engine (see test_server_real_engine.py).
"""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from PIL import Image, ImageDraw

from scipix.config import Settings, load_settings
from scipix.engines.base import Engine, RecognizeOptions
from scipix.io import DecodedImage
from scipix.server import create_app
from scipix.types import BoundingBox, OcrResult

DOUBLE_LATEX = "x^{2}+1"


class TestDoubleEngine:
    """Test double: a fixed answer for inked images, empty for blank ones; optional delay."""

    __test__ = False  # not a pytest test class

    def __init__(self, delay: float = 0.0, latex: str = DOUBLE_LATEX) -> None:
        self.delay = delay
        self.latex = latex
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "test-double"

    def ready(self) -> bool:
        return True

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        with self._lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        ink = np.argwhere(image.gray < 128)
        if ink.size == 0:
            return OcrResult(
                latex="",
                latex_styled="",
                text="",
                confidence=0.0,
                confidence_rate=0.0,
                image_width=image.width,
                image_height=image.height,
                engine=self.name,
                reason="the image is blank",
            )
        (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
        box = BoundingBox(int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1), 0.99, "x")
        return OcrResult(
            latex=self.latex,
            latex_styled=self.latex,
            text=f"\\( {self.latex} \\)",
            confidence=0.97,
            confidence_rate=0.99,
            boxes=(box,),
            image_width=image.width,
            image_height=image.height,
            engine=self.name,
        )


def formula_png(
    text: str = "x2+1", size: tuple[int, int] = (160, 60), blank: bool = False
) -> bytes:
    img = Image.new("L", size, 255)
    if not blank:
        ImageDraw.Draw(img).text((20, 20), text, fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    # the cache is off unless a test turns it on: route tests count engine calls
    values: dict[str, Any] = {
        "data_dir": str(data_dir),
        "server.workers": 2,
        "cache.enabled": False,
    }
    values.update(overrides)
    return load_settings(None, values)


def free_socket() -> socket.socket:
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class RunningServer:
    url: str
    engine: Engine | None
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@contextmanager
def run_server(settings: Settings, engine: Engine | None) -> Iterator[RunningServer]:
    """The real app under uvicorn on a free loopback port, in a thread (``engine=None``:
    the app builds the configured engine at startup)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, engine), log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=20)
            sock.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    running = RunningServer(f"http://127.0.0.1:{port}", engine, settings, server, thread)
    try:
        yield running
    finally:
        running.stop()
        sock.close()


# --- a local HTTP server that serves images (URL sources, callbacks) ---------------------------


@dataclass
class ImageSite:
    url: str
    routes: dict[str, tuple[int, dict[str, str], bytes]]
    posts: list[tuple[str, bytes]]
    server: ThreadingHTTPServer


@contextmanager
def image_site(host: str = "127.0.0.1") -> Iterator[ImageSite]:
    """``site.routes[path] = (status, headers, body)``; POST bodies are kept in ``site.posts``."""
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    posts: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            if status == 0:  # "slow": wait before answering
                time.sleep(float(headers.get("delay", "5")))
                status, headers = 200, {"Content-Type": "image/png"}
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            posts.append((self.path, self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ImageSite(f"http://{host}:{server.server_address[1]}", routes, posts, server)
    finally:
        server.shutdown()
        server.server_close()
