"""Every Mathpix error id the server answers, over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import httpx
import pytest
from conftest import MakeServer
from server_testkit import TestDoubleEngine, data_url, formula_png, image_site


def error_id(r: httpx.Response) -> str:
    body = r.json()
    assert body["error"] == body["error_info"]["message"]
    return str(body["error_info"]["id"])


def post_text(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v3/text", json=body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "image_missing"),
        ({"src": "data:image/png;base64,@@@notbase64"}, "image_decode_error"),
        ({"src": data_url(b"this is not an image")}, "image_decode_error"),
        ({"src": data_url(formula_png()[:40])}, "image_decode_error"),
        ({"src": "data:image/png;base64,"}, "image_missing"),
        ({"src": "ftp://example.com/a.png"}, "image_download_error"),
        ({"src": data_url(formula_png()), "formats": ["text", "wolfram"]}, "opts_unknown_format"),
        ({"src": data_url(formula_png()), "no_such_option": True}, "opts_unknown_option"),
        ({"src": data_url(formula_png()), "confidence_threshold": 2}, "opts_value_out_of_range"),
        ({"src": data_url(formula_png()), "confidence_threshold": "x"}, "opts_number_required"),
        ({"src": data_url(formula_png()), "confidence_threshold": 0.999}, "math_confidence"),
        ({"src": data_url(formula_png(blank=True))}, "image_no_content"),
        (
            {
                "src": data_url(formula_png()),
                "region": {"top_left_x": 900, "width": 5, "height": 5},
            },
            "opts_value_out_of_range",
        ),
    ],
)
def test_text_request_errors(client: httpx.Client, body: dict[str, Any], expected: str) -> None:
    r = post_text(client, **body)
    assert r.status_code == 200
    assert error_id(r) == expected
    assert r.json()["request_id"] == r.headers["x-request-id"]


def test_json_syntax(client: httpx.Client) -> None:
    for raw in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        r = client.post("/v3/text", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 200 and error_id(r) == "json_syntax"
    r = client.post(
        "/v3/text",
        files={"file": ("f.png", formula_png(), "image/png")},
        data={"options_json": "{broken"},
    )
    assert error_id(r) == "json_syntax"


def test_multipart_errors(client: httpx.Client) -> None:
    r = client.post("/v3/text", data={"options_json": "{}"}, files={"other": ("a", b"x")})
    assert error_id(r) == "opts_unknown_option"
    r = client.post("/v3/text", files={"options_json": (None, "{}")})
    assert error_id(r) == "image_missing"


def test_legacy_errors(client: httpx.Client) -> None:
    r = client.post("/v3/latex", json={"src": data_url(formula_png()), "formats": ["nope"]})
    assert error_id(r) == "opts_unknown_format"
    r = client.post("/v3/latex", json={"src": data_url(formula_png()), "ocr": ["chemistry"]})
    assert error_id(r) == "opts_unknown_ocr"
    r = client.post("/v3/latex", json={})
    assert error_id(r) == "image_missing"


def test_image_max_size(make_server: MakeServer) -> None:
    srv = make_server(**{"preprocessing.max_image_pixels": 1000})
    with httpx.Client(base_url=srv.url) as c:
        r = c.post("/v3/text", json={"src": data_url(formula_png())})
        assert error_id(r) == "image_max_size"
    srv = make_server(**{"preprocessing.max_image_bytes": 50})
    with httpx.Client(base_url=srv.url) as c:
        r = c.post("/v3/text", json={"src": data_url(formula_png())})
        assert error_id(r) == "image_max_size"


def test_strokes_errors(client: httpx.Client) -> None:
    r = client.post("/v3/strokes", json={})
    assert error_id(r) == "strokes_missing"
    r = client.post("/v3/strokes", json={"strokes": {"strokes": {"x": [[1, 2]], "y": [[1]]}}})
    assert error_id(r) == "strokes_syntax_error"
    r = client.post("/v3/strokes", json={"strokes": {"strokes": {"x": [[1]], "y": []}}})
    assert error_id(r) == "strokes_syntax_error"
    r = client.post("/v3/strokes", json={"strokes": {"strokes": {"x": "a", "y": [[1]]}}})
    assert error_id(r) == "strokes_syntax_error"
    r = client.post("/v3/strokes", json={"strokes": {"strokes": {"x": [[]], "y": [[]]}}})
    assert error_id(r) == "strokes_no_content"


def test_batch_errors(client: httpx.Client) -> None:
    r = client.get("/v3/batch/does-not-exist")
    assert r.status_code == 200 and error_id(r) == "batch_unknown_id"
    r = client.post("/v3/batch", json={"urls": {}})
    assert error_id(r) == "opts_invalid_value"
    r = client.post(
        "/v3/batch",
        json={"urls": {"a": data_url(formula_png())}, "callback": {"post": "file:///etc/x"}},
    )
    assert error_id(r) == "opts_bad_callback"
    r = client.post(
        "/v3/batch",
        json={"urls": {"a": data_url(formula_png())}, "callback": {"reply": {}}},
    )
    assert error_id(r) == "opts_bad_callback"
    r = client.post("/v3/batch", json={"urls": {"a": data_url(formula_png())}, "formats": ["x"]})
    assert error_id(r) == "opts_unknown_format"
    r = client.post("/v3/batch", content=b"nope", headers={"content-type": "application/json"})
    assert error_id(r) == "json_syntax"


def test_ocr_results_bad_query(client: httpx.Client) -> None:
    r = client.get("/v3/ocr-results", params={"from_date": "yesterday"})
    assert error_id(r) == "opts_invalid_value"
    r = client.get("/v3/ocr-results", params={"page": 0})
    assert error_id(r) == "opts_invalid_value"


def test_oversize_body_by_content_length_and_streaming(make_server: MakeServer) -> None:
    srv = make_server(**{"server.max_body_size_mb": 1})
    big = b"x" * (1024 * 1024 + 10)
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        r = c.post("/v3/text", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and error_id(r) == "sys_request_too_large"

        def chunks() -> Any:
            for _ in range(5):
                yield b"x" * (300 * 1024)

        r = c.post("/v3/text", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and error_id(r) == "sys_request_too_large"
        # a 10 MB-class body under the limit still works
        src = data_url(formula_png())
        assert "error" not in c.post("/v3/text", json={"src": src}).json()


def test_download_errors(server: Any, client: httpx.Client) -> None:
    with image_site() as site:
        site.routes["/missing"] = (404, {}, b"no")
        site.routes["/text"] = (200, {"Content-Type": "text/plain"}, b"hello, not an image")
        site.routes["/loop"] = (302, {"Location": "/loop"}, b"")
        r = post_text(client, src=site.url + "/missing")
        assert error_id(r) == "image_download_error"
        r = post_text(client, src=site.url + "/text")
        assert error_id(r) == "image_decode_error"
        r = post_text(client, src=site.url + "/loop")
        assert error_id(r) == "image_download_error"
        r = post_text(client, src="http://nonexistent.invalid/a.png")
        assert error_id(r) == "image_download_error"


def test_download_size_and_time_limits(make_server: MakeServer) -> None:
    srv = make_server(
        **{
            "server.allow_private_urls": True,
            "server.url_max_size_mb": 0.001,
            "server.url_timeout_secs": 0.5,
        }
    )
    with image_site() as site, httpx.Client(base_url=srv.url, timeout=30) as c:
        site.routes["/big.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG" + b"0" * 5000)
        site.routes["/slow.png"] = (0, {"delay": "3"}, formula_png())
        assert error_id(post_text(c, src=site.url + "/big.png")) == "image_max_size"
        start = time.monotonic()
        assert error_id(post_text(c, src=site.url + "/slow.png")) == "image_download_error"
        assert time.monotonic() - start < 2.5


def test_request_timeout(make_server: MakeServer) -> None:
    srv = make_server(TestDoubleEngine(delay=1.5), **{"server.request_timeout_secs": 0.3})
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        start = time.monotonic()
        r = post_text(c, src=data_url(formula_png()))
        assert error_id(r) == "sys_timeout"
        assert time.monotonic() - start < 1.2


def test_full_queue_answers_503_fast(make_server: MakeServer) -> None:
    srv = make_server(TestDoubleEngine(delay=1.0), **{"server.workers": 1, "server.queue_size": 0})
    first: list[httpx.Response] = []
    body = {"src": data_url(formula_png())}

    def slow() -> None:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            first.append(c.post("/v3/text", json=body))

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        start = time.monotonic()
        r = c.post("/v3/text", json=body)
        assert time.monotonic() - start < 0.5
    assert r.status_code == 503 and error_id(r) == "sys_busy"
    assert r.headers["retry-after"] == "1"
    t.join()
    assert "error" not in first[0].json()


def test_error_bodies_are_valid_json_with_ids(client: httpx.Client) -> None:
    r = client.post("/v3/text", content=base64.b64encode(b"junk"))
    payload = json.loads(r.text)
    assert set(payload) == {"request_id", "error", "error_info"}
