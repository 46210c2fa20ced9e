"""``/v3/pdf`` end to end on a real loopback server (test double engine: route mechanics)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
from server_testkit import (
    RunningServer,
    TestDoubleEngine,
    image_site,
    run_server,
    settings_for,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    settings = settings_for(tmp_path / "data", **{"server.allow_private_urls": True})
    with run_server(settings, TestDoubleEngine(delay=0.05)) as running:
        yield running


def _wait(client: httpx.Client, pdf_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = client.get(f"/v3/pdf/{pdf_id}").json()
        if status["status"] in ("completed", "error") or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_upload_convert_fetch_delete(server: RunningServer, paper_pdf: bytes) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        options = {"page_ranges": "1", "math_inline_delimiters": ["$", "$"], "rm_spaces": True}
        r = client.post(
            "/v3/pdf",
            files={"file": ("paper.pdf", paper_pdf, "application/pdf")},
            data={"options_json": json.dumps(options)},
        )
        assert r.status_code == 200, r.text
        pdf_id = r.json()["pdf_id"]
        early = client.get(f"/v3/pdf/{pdf_id}.mmd")
        status = _wait(client, pdf_id)
        assert early.status_code in (200, 404)
        assert status["status"] == "completed"
        assert status["num_pages"] == 1 and status["num_pages_completed"] == 1
        assert status["percent_done"] == 100.0
        mmd = client.get(f"/v3/pdf/{pdf_id}.mmd")
        assert mmd.status_code == 200
        # formulas whose glyphs all read come from the PDF itself, the rest from the engine
        assert "# On Simple Formulas" in mmd.text and "$x^{2}+y^{2}=1$" in mmd.text
        assert "\\[\nx=\\frac{-b\\pm\\sqrt{b^{2}-4ac}}{2a}\n\\]" in mmd.text
        assert "\\[\n\\binom{n}{k}=\\frac{n!}{k!(n-k)!}\n\\]" in mmd.text
        for fmt in ("md", "tex", "lines.json"):
            assert client.get(f"/v3/pdf/{pdf_id}.{fmt}").status_code == 200
        lines = client.get(f"/v3/pdf/{pdf_id}.lines.json").json()
        assert lines["pages"][0]["page"] == 1
        conv = client.get(f"/v3/converter/{pdf_id}").json()
        assert conv["status"] == "completed"
        stored = server.settings.data_dir / "pdf" / pdf_id
        assert (stored / "input.pdf").is_file() and (stored / "output.mmd").is_file()
        assert client.delete(f"/v3/pdf/{pdf_id}").json()["deleted"] is True
        assert client.get(f"/v3/pdf/{pdf_id}").status_code == 404
        assert not stored.exists()


def test_not_ready_is_404(tmp_path: Path, paper_pdf: bytes) -> None:
    settings = settings_for(tmp_path / "data")
    with (
        run_server(settings, TestDoubleEngine(delay=1.0)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        pdf_id = client.post("/v3/pdf", files={"file": ("p.pdf", paper_pdf)}).json()["pdf_id"]
        r = client.get(f"/v3/pdf/{pdf_id}.mmd")
        assert r.status_code == 404
        assert r.json()["error_info"]["id"] == "pdf_not_ready"
        assert client.get(f"/v3/pdf/{pdf_id}").json()["status"] in ("split", "completed")
        assert client.get("/v3/pdf/nope.mmd").status_code == 404


def test_url_source_and_errors(
    server: RunningServer, paper_pdf: bytes, encrypted_pdf: bytes
) -> None:
    with image_site() as site, httpx.Client(base_url=server.url, timeout=30) as client:
        site.routes["/paper.pdf"] = (200, {"Content-Type": "application/pdf"}, paper_pdf)
        r = client.post("/v3/pdf", json={"url": f"{site.url}/paper.pdf"})
        assert r.status_code == 200, r.text
        assert _wait(client, r.json()["pdf_id"])["status"] == "completed"

        def error_id(**kwargs: Any) -> str:
            body = client.post("/v3/pdf", **kwargs).json()
            return str(body["error_info"]["id"])

        assert error_id(files={"file": ("e.pdf", encrypted_pdf)}) == "pdf_encrypted"
        truncated = paper_pdf[: len(paper_pdf) // 3]
        assert error_id(files={"file": ("t.pdf", truncated)}) == "pdf_decode_error"
        assert (
            error_id(
                files={"file": ("p.pdf", paper_pdf)},
                data={"options_json": json.dumps({"page_ranges": "2-3"})},
            )
            == "pdf_page_range_error"
        )
        assert error_id(json={}) == "pdf_missing"
        assert error_id(json={"url": "x", "bogus": 1}) == "opts_unknown_option"
