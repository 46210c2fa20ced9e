"""The browser app in real headless Chromium (Debian's), against a real ``scipix serve``.

Uploads an image rendered with matplotlib's mathtext, pastes one, draws a stroke on the canvas,
and checks the LaTeX, the KaTeX preview, the local history and the API-key prompt. Screenshots
go to ``test-output/browser/``.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scipix.render.web import CHROMIUM_ARGS

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-output" / "browser"
QUADRATIC = r"x=\frac{-b\pm\sqrt{b^{2}-4ac}}{2a}"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="scipix-browser-")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "SCIPIX_DATA_DIR": self._tmp.name, "SCIPIX_CONFIG": "", **env}
        self._log = open(Path(self._tmp.name) / "server.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scipix",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            cwd=self._tmp.name,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"scipix serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("scipix serve did not answer /health in time")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self._tmp.cleanup()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server({})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1000, "height": 1100})  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="module")
def mathtext_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A printed formula rendered with matplotlib's mathtext."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig = plt.figure(figsize=(3, 0.8), dpi=150)
    fig.text(0.5, 0.5, r"$\frac{a}{b}+c^{2}$", fontsize=24, ha="center", va="center")
    path = tmp_path_factory.mktemp("img") / "mathtext.png"
    fig.savefig(path, facecolor="white")
    plt.close(fig)
    return path


def _shot(page: object, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _open(page: object, url: str) -> list[str]:
    """Open the app; answer the list of API requests it will make."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/v3/" in r.url else None)  # type: ignore[attr-defined]
    page.goto(url + "/")  # type: ignore[attr-defined]
    page.wait_for_selector("html[data-ready='1']")  # type: ignore[attr-defined]
    return requests


def _wait_result(page: object) -> str:
    page.wait_for_selector("#result:not([hidden])")  # type: ignore[attr-defined]
    page.wait_for_function("document.getElementById('confidence').textContent.includes('%')")  # type: ignore[attr-defined]
    return str(page.input_value("#latex"))  # type: ignore[attr-defined]


def test_upload_then_local_history(server: Server, page: object, mathtext_png: Path) -> None:
    requests = _open(page, server.url)
    page.set_input_files("#file", str(mathtext_png))  # type: ignore[attr-defined]
    latex = _wait_result(page)
    assert latex.strip(), "no LaTeX shown"
    assert page.locator("#preview .katex").count() == 1  # type: ignore[attr-defined]
    assert page.locator("#mathml-field").is_visible()  # type: ignore[attr-defined]
    assert page.locator("#asciimath-field").is_visible()  # type: ignore[attr-defined]
    assert "<math" in page.input_value("#mathml")  # type: ignore[attr-defined]
    assert page.locator("#history li").count() == 1  # type: ignore[attr-defined]
    _shot(page, "upload")
    assert len(requests) == 1

    # editing the LaTeX re-renders the preview live
    page.fill("#latex", r"\sqrt{x}+1")  # type: ignore[attr-defined]
    page.wait_for_selector("#preview .katex .sqrt")  # type: ignore[attr-defined]

    # the same image again comes from the browser's history, with no request
    page.set_input_files("#file", str(mathtext_png))  # type: ignore[attr-defined]
    page.wait_for_selector("#source:has-text('local history')")  # type: ignore[attr-defined]
    assert page.input_value("#latex") == latex  # type: ignore[attr-defined]
    assert len(requests) == 1


def test_paste(server: Server, page: object) -> None:
    _open(page, server.url)
    b64 = base64.b64encode((ROOT / "examples" / "quadratic.png").read_bytes()).decode()
    page.evaluate(  # type: ignore[attr-defined]
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
            document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true }));
        }""",
        b64,
    )
    assert _wait_result(page) == QUADRATIC
    page.wait_for_selector("#preview .katex .mfrac")  # type: ignore[attr-defined]
    assert "%" in page.text_content("#confidence")  # type: ignore[attr-defined]
    _shot(page, "paste")


def test_draw_strokes(server: Server, page: object) -> None:
    requests = _open(page, server.url)
    box = page.locator("#canvas").bounding_box()  # type: ignore[attr-defined]
    x0, y0 = box["x"], box["y"]
    mouse = page.mouse  # type: ignore[attr-defined]
    # an "x": two crossing diagonal strokes
    for (ax, ay), (bx, by) in (((60, 40), (180, 160)), ((180, 40), (60, 160))):
        mouse.move(x0 + ax, y0 + ay)
        mouse.down()
        for i in range(1, 13):
            mouse.move(x0 + ax + (bx - ax) * i / 12, y0 + ay + (by - ay) * i / 12)
        mouse.up()
    with page.expect_response(lambda r: r.url.endswith("/v3/strokes")) as resp:  # type: ignore[attr-defined]
        page.click("#recognize-drawing")  # type: ignore[attr-defined]
    body = resp.value.json()
    assert len(body.get("request_id", "")) > 0, body
    assert "error" not in body, (body, resp.value.request.post_data)
    assert 0.0 <= body["confidence"] <= 1.0
    _wait_result(page)
    # hand-drawn input is read poorly: whatever came back is shown, with a warning when unsure
    if body["confidence"] < 0.6 or not page.input_value("#latex"):  # type: ignore[attr-defined]
        assert page.locator("#low-confidence").is_visible()  # type: ignore[attr-defined]
    assert [u for u in requests if u.endswith("/v3/strokes")]
    _shot(page, "draw")


def test_api_key_prompt(browser: object) -> None:
    keyed = Server({"SCIPIX_SERVER__API_KEYS": '[{"app_id": "web", "key": "browser-key"}]'})
    try:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        _open(page, keyed.url)
        page.set_input_files("#file", str(ROOT / "examples" / "quadratic.png"))
        page.wait_for_selector("#key-form:not([hidden])")
        assert "API key" in page.text_content("#error")
        _shot(page, "api-key")
        page.fill("#app-id", "web")
        page.fill("#app-key", "browser-key")
        page.click("#key-form button[type=submit]")
        assert _wait_result(page) == QUADRATIC
        assert page.locator("#error").is_hidden()
        context.close()
    finally:
        keyed.stop()


def test_error_in_words(server: Server, page: object, tmp_path: Path) -> None:
    _open(page, server.url)
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"this is not a PNG")
    page.set_input_files("#file", str(bad))  # type: ignore[attr-defined]
    page.wait_for_selector("#error:not([hidden])")  # type: ignore[attr-defined]
    text = page.text_content("#error")  # type: ignore[attr-defined]
    assert "image" in text.lower() and "_" not in text, text
