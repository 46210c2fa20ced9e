"""Two real ``scipix serve`` processes on loopback: node B (local engine, auth on) is node A's
remote. Checks forwarding, the fallback policy, caching of remote answers and bad credentials.
"""

from __future__ import annotations

import base64
import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scipix.config import load_settings
from scipix.engines.registry import build_engine
from scipix.engines.remote import RemoteAuthError, RemoteEngine
from scipix.io import decode_bytes

mathtext = pytest.importorskip("matplotlib.mathtext")

pytestmark = pytest.mark.slow

B_ID, B_KEY = "node-a", "b-secret-key"


def render(tex: str) -> bytes:
    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buf, dpi=200, format="png")
    return buf.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def post_text(self, png: bytes, **headers: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v3/text",
            json={"src": data_url(png), "formats": ["text", "latex_styled"]},
            headers=headers,
            timeout=30,
        )

    def metric(self, name: str, labels: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        match = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    def b_requests(self) -> float:
        return self.metric("scipix_ocr_requests_total", 'endpoint="/v3/text"')


def start_node(tmp: Path, name: str, body: str) -> Node:
    port = free_port()
    config = tmp / f"{name}.toml"
    data = tmp / name
    config.write_text(
        f'data_dir = "{data}"\n[server]\nport = {port}\nworkers = 1\n' + body, encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCIPIX_", "MATHPIX_"))}
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scipix", "serve", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    node = Node(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node {name} exited: {log.read_text()}")
        try:
            if httpx.get(f"{node.url}/health", timeout=1).status_code == 200:
                return node
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop(node)
    raise RuntimeError(f"node {name} did not start: {log.read_text()}")


def stop(node: Node) -> None:
    node.proc.terminate()
    try:
        node.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        node.proc.kill()
        node.proc.wait(timeout=5)


def remote_table(name: str, url: str, key: str) -> str:
    return (
        f'[engines.remotes.{name}]\nurl = "{url}/v3"\napp_id = "{B_ID}"\napp_key = "{key}"\n'
        "timeout_secs = 20\nretries = 1\n"
    )


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Node]]:
    tmp = tmp_path_factory.mktemp("nodes")
    started: list[Node] = []

    def make(name: str, body: str) -> Node:
        node = start_node(tmp, name, body)
        started.append(node)
        return node

    yield make
    for node in started:
        stop(node)


@pytest.fixture(scope="module")
def node_b(nodes: Callable[[str, str], Node]) -> Node:
    auth = f'require_auth = true\n[[server.api_keys]]\napp_id = "{B_ID}"\nkey = "{B_KEY}"\n'
    return nodes("b", auth)


@pytest.fixture(scope="module")
def node_a(nodes: Callable[[str, str], Node], node_b: Node) -> Node:
    body = '[engines]\ndefault = "node_b"\n' + remote_table("node_b", node_b.url, B_KEY)
    return nodes("a", body)


def b_confidence(node_b: Node, png: bytes) -> float:
    body = node_b.post_text(png, app_id=B_ID, app_key=B_KEY).json()
    assert "error" not in body, body
    return float(body["confidence"])


def test_a_forwards_to_b(node_a: Node, node_b: Node) -> None:
    png = render(r"\frac{a}{b}")
    direct = node_b.post_text(png, app_id=B_ID, app_key=B_KEY).json()
    before = node_b.b_requests()
    via_a = node_a.post_text(png).json()
    assert "error" not in via_a, via_a
    assert via_a["latex_styled"] == direct["latex_styled"]
    assert via_a["confidence"] == pytest.approx(direct["confidence"])
    assert node_b.b_requests() == before + 1


def test_fallback_asks_b_only_for_low_confidence(
    nodes: Callable[[str, str], Node], node_b: Node
) -> None:
    candidates = [render(t) for t in (r"x^2+1", r"\frac{a}{b}", r"\sum_{i=1}^{n} i", r"\alpha")]
    scored = sorted((b_confidence(node_b, png), png) for png in candidates)
    (low, low_png), (high, high_png) = scored[0], scored[-1]
    assert low < high
    threshold = (low + high) / 2
    body = (
        f'[engines]\ndefault = "fallback"\nfallback_remote = "node_b"\n'
        f"fallback_threshold = {threshold}\n" + remote_table("node_b", node_b.url, B_KEY)
    )
    node_fb = nodes("a_fallback", body)
    before = node_b.b_requests()
    sure = node_fb.post_text(high_png).json()
    assert sure["confidence"] == pytest.approx(high)
    assert node_b.b_requests() == before  # confident locally: B not asked
    unsure = node_fb.post_text(low_png).json()
    assert "error" not in unsure, unsure
    assert node_b.b_requests() == before + 1  # below the threshold: B asked
    # both engines answered once in A's metrics (B's answer ties local's, so local is kept)
    answered = node_fb.metric("scipix_engine_answers_total", 'engine="local"') + node_fb.metric(
        "scipix_engine_answers_total", 'engine="node_b"'
    )
    assert answered == 2


def test_server_caches_remote_answers(node_a: Node, node_b: Node) -> None:
    """A (cache on by default) in front of B: two identical images cost B one request."""
    before = node_b.b_requests()
    first = node_a.post_text(render(r"\sqrt{y}")).json()
    second = node_a.post_text(render(r"\sqrt{y}")).json()
    assert "error" not in first, first
    assert second["cached"] is True and second["latex_styled"] == first["latex_styled"]
    assert node_b.b_requests() == before + 1


def test_remote_answers_are_cached(node_b: Node, tmp_path: Path) -> None:
    from scipix.cache import SimilarityCache
    from scipix.engines.cached import CachedEngine

    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path),
            "engines.remotes": {
                "node_b": {"url": f"{node_b.url}/v3", "app_id": B_ID, "app_key": B_KEY}
            },
        },
    )
    remote = build_engine(settings, "node_b")
    assert isinstance(remote, RemoteEngine)
    cache = SimilarityCache.open(settings.cache)
    try:
        engine = CachedEngine(remote, cache)
        image = decode_bytes(render(r"\sqrt{x}"))
        before = node_b.b_requests()
        first = engine.recognize(image)
        second = engine.recognize(decode_bytes(render(r"\sqrt{x}")))
        assert second.cached and second.latex == first.latex and second.engine == "node_b"
        assert node_b.b_requests() == before + 1  # B saw one request for two identical images
    finally:
        cache.close()
        remote.close()


def test_bad_credentials_clear_error_nothing_cached(
    nodes: Callable[[str, str], Node], node_b: Node, tmp_path: Path
) -> None:
    from scipix.cache import SimilarityCache
    from scipix.engines.cached import CachedEngine

    bad = nodes(
        "a_bad", '[engines]\ndefault = "node_b"\n' + remote_table("node_b", node_b.url, "wrong")
    )
    answer = bad.post_text(render("y")).json()
    assert answer["error_info"]["id"] == "remote_unauthorized"
    assert "rejected the credentials" in answer["error"]
    assert "wrong" not in answer["error"] and "wrong" not in bad.log.read_text()

    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path),
            "engines.remotes": {
                "node_b": {"url": f"{node_b.url}/v3", "app_id": B_ID, "app_key": "wrong"}
            },
        },
    )
    remote = build_engine(settings, "node_b")
    assert isinstance(remote, RemoteEngine)
    cache = SimilarityCache.open(settings.cache)
    try:
        with pytest.raises(RemoteAuthError):
            CachedEngine(remote, cache).recognize(decode_bytes(render("y")))
        assert cache.stats().entries == 0
    finally:
        cache.close()
        remote.close()


PAPER = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
Hello from the remote paper.
\[ x = \frac{a}{b} \]
\end{document}
"""


def paper_pdf(folder: Path) -> Path:
    import shutil

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (folder / "paper.tex").write_text(PAPER)
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "paper.tex"],
        cwd=folder,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return folder / "paper.pdf"


def test_pdf_converted_by_the_remote(node_b: Node, tmp_path: Path) -> None:
    from scipix.engines.remote import RemoteError
    from scipix.engines.remote_pdf import convert_pdf_remote

    remote = build_engine(
        load_settings(
            None,
            {
                "engines.remotes": {
                    "node_b": {"url": f"{node_b.url}/v3", "app_id": B_ID, "app_key": B_KEY}
                }
            },
        ),
        "node_b",
    )
    assert isinstance(remote, RemoteEngine)
    pdf = paper_pdf(tmp_path)
    seen: list[float] = []
    try:
        mmd = convert_pdf_remote(remote, pdf.read_bytes(), "mmd", progress=seen.append)
        assert "Hello from the remote paper." in mmd
        assert "\\[" in mmd and "\\frac{a}{b}" in mmd
        assert seen and seen[-1] == 100.0
        tex = convert_pdf_remote(remote, pdf.read_bytes(), "tex")
        assert "\\begin{document}" in tex and "\\frac{a}{b}" in tex
        with pytest.raises(RemoteError) as bad:
            convert_pdf_remote(remote, b"%PDF-1.4\n1 0 obj <<", "mmd")
        assert (bad.value.remote_error_id or "").startswith("pdf_")
    finally:
        remote.close()
    # the CLI hands the whole document to a remote engine
    config = tmp_path / "a.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n' + remote_table("node_b", node_b.url, B_KEY)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCIPIX_", "MATHPIX_"))}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "scipix",
            "pdf",
            str(pdf),
            "--engine",
            "node_b",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Hello from the remote paper." in out.stdout and "\\frac{a}{b}" in out.stdout
