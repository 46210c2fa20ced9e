"""Batch jobs: results, callbacks, and a batch surviving a hard server restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from conftest import MakeServer
from server_testkit import (
    DOUBLE_LATEX,
    RunningServer,
    data_url,
    formula_png,
    free_socket,
    image_site,
)

HERE = Path(__file__).resolve().parent


def wait_batch(c: httpx.Client, batch_id: str, n: int, timeout: float = 20.0, **kw: Any) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(f"/v3/batch/{batch_id}", **kw).json()
        if len(body.get("results", {})) >= n or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_batch_latex_and_text(server: RunningServer, client: httpx.Client) -> None:
    with image_site() as site:
        site.routes["/f.png"] = (200, {"Content-Type": "image/png"}, formula_png())
        urls: dict[str, Any] = {
            "data": data_url(formula_png()),
            "url": site.url + "/f.png",
            "styled": {"url": data_url(formula_png()), "formats": ["latex_styled"]},
            "blank": data_url(formula_png(blank=True)),
            "gone": site.url + "/missing.png",
        }
        r = client.post("/v3/batch", json={"urls": urls, "formats": ["latex_normal"]})
        batch_id = r.json()["batch_id"]
        body = wait_batch(client, batch_id, len(urls))
    assert body["keys"] == list(urls)
    results = body["results"]
    assert results["data"]["latex_normal"] == DOUBLE_LATEX
    assert results["url"]["latex_normal"] == DOUBLE_LATEX
    assert results["styled"]["latex_styled"] == DOUBLE_LATEX
    assert "latex_normal" not in results["styled"]  # per-url formats replace the shared ones
    assert results["blank"]["error_info"]["id"] == "image_no_content"
    assert results["gone"]["error_info"]["id"] == "image_download_error"

    r = client.post(
        "/v3/batch",
        json={"urls": {"a": data_url(formula_png())}, "ocr_behavior": "text", "formats": ["text"]},
    )
    body = wait_batch(client, r.json()["batch_id"], 1)
    assert body["results"]["a"]["text"] == f"\\( {DOUBLE_LATEX} \\)"


def test_batch_callback(server: RunningServer, client: httpx.Client) -> None:
    with image_site() as site:
        callback = {
            "post": site.url + "/hook",
            "reply": {"tag": "t1"},
            "headers": {"X-Secret": "s"},
        }
        urls = {"a": data_url(formula_png()), "b": data_url(formula_png())}
        batch_id = client.post("/v3/batch", json={"urls": urls, "callback": callback}).json()[
            "batch_id"
        ]
        deadline = time.monotonic() + 20
        while not site.posts and time.monotonic() < deadline:
            time.sleep(0.05)
        path, raw = site.posts[0]
    payload = json.loads(raw)
    assert path == "/hook"
    assert payload["batch_id"] == batch_id and payload["tag"] == "t1"
    assert payload["keys"] == ["a", "b"]
    assert payload["results"]["a"]["latex"] == DOUBLE_LATEX


def _start(data_dir: Path, port: int, delay: float) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(data_dir / "server.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                str(HERE / "launch_double_server.py"),
                str(data_dir),
                str(port),
                str(delay),
            ],
            env=env,
            stdout=log,
            stderr=log,
        )


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not start")


def test_batch_survives_hard_restart(tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    n = 8
    proc = _start(tmp_path, port, delay=0.4)
    try:
        _wait_up(url, proc, tmp_path / "server.log")
        with httpx.Client(base_url=url, timeout=10) as c:
            urls = {f"k{i}": data_url(formula_png(f"x{i}")) for i in range(n)}
            batch_id = c.post("/v3/batch", json={"urls": urls}).json()["batch_id"]
            before = wait_batch(c, batch_id, 1)
        assert 1 <= len(before["results"]) < n
    finally:
        proc.send_signal(signal.SIGKILL)  # no graceful shutdown
        proc.wait(timeout=10)
    proc = _start(tmp_path, port, delay=0.0)
    try:
        _wait_up(url, proc, tmp_path / "server.log")
        with httpx.Client(base_url=url, timeout=10) as c:
            after = wait_batch(c, batch_id, n)
        assert after["keys"] == list(urls)
        assert set(after["results"]) == set(urls)
        assert all(r["latex"] == DOUBLE_LATEX for r in after["results"].values())
        for key, result in before["results"].items():  # finished items were kept, not redone
            assert after["results"][key]["request_id"] == result["request_id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_graceful_restart_keeps_pending_items(make_server: MakeServer, tmp_path: Path) -> None:
    from server_testkit import TestDoubleEngine

    data_dir = tmp_path / "shared"
    first = make_server(TestDoubleEngine(delay=0.3), data_dir=data_dir, **{"server.workers": 1})
    with httpx.Client(base_url=first.url) as c:
        urls = {f"k{i}": data_url(formula_png()) for i in range(6)}
        batch_id = c.post("/v3/batch", json={"urls": urls}).json()["batch_id"]
        wait_batch(c, batch_id, 1)
    first.stop()
    second = make_server(data_dir=data_dir)
    with httpx.Client(base_url=second.url) as c:
        assert set(wait_batch(c, batch_id, 6)["results"]) == set(urls)
