"""Happy paths with the real local recognizer (built by the server at startup)."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_testkit import RunningServer, data_url, run_server, settings_for

from scipix.engines.registry import build_engine

matplotlib = pytest.importorskip("matplotlib")
mathtext = pytest.importorskip("matplotlib.mathtext")


def render(tex: str, dpi: int = 200) -> bytes:
    """A PNG of ``tex`` in Computer Modern (mathtext's TeX-like font set)."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"mathtext.fontset": "cm"}):
        mathtext.math_to_image(f"${tex}$", buf, dpi=dpi, format="png")
    return buf.getvalue()


def squash(latex: str) -> str:
    return re.sub(r"\s+", "", latex).replace("{", "").replace("}", "")


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("real")
    settings = settings_for(data_dir, **{"cache.enabled": False})
    with run_server(settings, build_engine(settings)) as srv:
        yield srv


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        (r"x^2+1", "x^2+1"),
        (r"E=mc^2", "E=mc^2"),
        (r"\alpha+\beta", "\\alpha+\\beta"),
        (r"e^{i\pi}+1=0", "e^i\\pi+1=0"),
    ],
)
def test_text_real_engine_json(real_server: RunningServer, tex: str, expected: str) -> None:
    with httpx.Client(base_url=real_server.url, timeout=60) as c:
        r = c.post(
            "/v3/text",
            json={
                "src": data_url(render(tex)),
                "formats": ["text", "data", "latex_styled"],
                "data_options": {"include_latex": True, "include_mathml": True},
            },
        )
    body = r.json()
    assert "error" not in body, body
    latex = next(d["value"] for d in body["data"] if d["type"] == "latex")
    assert squash(latex) == expected
    assert squash(body["latex_styled"]) == expected
    assert body["text"].startswith("\\(") and body["text"].endswith("\\)")
    assert 0.5 < body["confidence"] <= 1.0
    assert "<math" in next(d["value"] for d in body["data"] if d["type"] == "mathml")


@pytest.mark.slow
def test_text_real_engine_multipart_and_legacy(real_server: RunningServer) -> None:
    png = render(r"\frac{a}{b}")
    with httpx.Client(base_url=real_server.url, timeout=60) as c:
        r = c.post(
            "/v3/text",
            files={"file": ("f.png", png, "image/png")},
            data={"options_json": json.dumps({"math_inline_delimiters": ["$", "$"]})},
        )
        text = r.json()["text"]
        assert text.startswith("$") and squash(text) == "$\\fracab$"
        r = c.post(
            "/v3/latex",
            files={"file": ("f.png", png, "image/png")},
            data={"options_json": json.dumps({"formats": ["latex_normal", "asciimath"]})},
        )
    body = r.json()
    assert "error" not in body, body
    assert squash(body["latex_normal"]) == "\\fracab"
    assert body["asciimath"].replace(" ", "") in {"a/b", "(a)/(b)"}


@pytest.mark.slow
def test_batch_real_engine(real_server: RunningServer) -> None:
    urls = {"sqrt": data_url(render(r"\sqrt{x}")), "int": data_url(render(r"\int_0^1 x\,dx"))}
    with httpx.Client(base_url=real_server.url, timeout=60) as c:
        batch_id = c.post("/v3/batch", json={"urls": urls}).json()["batch_id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body = c.get(f"/v3/batch/{batch_id}").json()
            if len(body["results"]) == len(urls):
                break
            time.sleep(0.1)
    assert squash(body["results"]["sqrt"]["latex"]) == "\\sqrtx"
    # the thin space before dx is a pixel or two: either reading is the same formula
    assert squash(body["results"]["int"]["latex"]) in {"\\int_0^1x\\,dx", "\\int_0^1xdx"}
