"""Every route over real HTTP, both input encodings, with the test double engine."""

from __future__ import annotations

import json

import httpx
from conftest import MakeServer
from server_testkit import DOUBLE_LATEX, RunningServer, TestDoubleEngine, data_url, formula_png

from scipix.engines.registry import register_engine


def test_text_json_data_url_default_formats(client: httpx.Client) -> None:
    r = client.post("/v3/text", json={"src": data_url(formula_png())})
    assert r.status_code == 200
    body = r.json()
    assert "error" not in body
    assert body["text"] == f"\\( {DOUBLE_LATEX} \\)"
    assert body["request_id"] == r.headers["x-request-id"]
    assert body["image_width"] == 160 and body["image_height"] == 60
    assert body["is_printed"] is True and body["is_handwritten"] is False
    assert 0 <= body["confidence"] <= 1 and 0 <= body["confidence_rate"] <= 1
    assert body["auto_rotate_degrees"] == 0
    assert body["version"].startswith("scipix-")
    # only what was asked for
    for absent in ("latex_styled", "html", "data", "line_data"):
        assert absent not in body


def test_text_all_formats_and_data_options(client: httpx.Client) -> None:
    r = client.post(
        "/v3/text",
        json={
            "src": data_url(formula_png()),
            "formats": ["text", "data", "html", "latex_styled"],
            "data_options": {
                "include_latex": True,
                "include_mathml": True,
                "include_asciimath": True,
            },
            "include_line_data": True,
        },
    )
    body = r.json()
    assert body["latex_styled"] == DOUBLE_LATEX
    types = {item["type"]: item["value"] for item in body["data"]}
    assert types["latex"] == DOUBLE_LATEX
    assert types["mathml"].startswith("<math")
    assert types["asciimath"].replace(" ", "") in {"x^(2)+1", "x^2+1"}
    assert "<asciimath" in body["html"]
    assert "<math" in body["html"] and "math-inline" in body["html"]
    (line,) = body["line_data"]
    assert line["type"] == "math" and line["included"] is True
    assert len(line["cnt"]) == 4


def test_text_custom_delimiters(client: httpx.Client) -> None:
    r = client.post(
        "/v3/text",
        json={"src": data_url(formula_png()), "math_inline_delimiters": ["$", "$"]},
    )
    assert r.json()["text"] == f"$ {DOUBLE_LATEX} $"


def test_text_multipart_file_and_options_json(client: httpx.Client) -> None:
    r = client.post(
        "/v3/text",
        files={"file": ("f.png", formula_png(), "image/png")},
        data={"options_json": json.dumps({"formats": ["text", "latex_styled"]})},
    )
    body = r.json()
    assert body["text"] == f"\\( {DOUBLE_LATEX} \\)"
    assert body["latex_styled"] == DOUBLE_LATEX


def test_text_multipart_without_options(client: httpx.Client) -> None:
    r = client.post("/v3/text", files={"file": ("f.png", formula_png(), "image/png")})
    assert r.json()["text"] == f"\\( {DOUBLE_LATEX} \\)"


def test_text_region_crops(client: httpx.Client) -> None:
    png = formula_png(size=(300, 100))
    r = client.post(
        "/v3/text",
        json={
            "src": data_url(png),
            "region": {"top_left_x": 10, "top_left_y": 10, "width": 100, "height": 60},
            "include_line_data": True,
        },
    )
    body = r.json()
    assert body["image_width"] == 300  # the whole image
    xs = [p[0] for p in body["line_data"][0]["cnt"]]
    assert min(xs) >= 10


def test_latex_legacy_default_and_formats(client: httpx.Client) -> None:
    r = client.post("/v3/latex", json={"src": data_url(formula_png())})
    body = r.json()
    assert body["latex"] == DOUBLE_LATEX
    assert set(body["position"]) == {"top_left_x", "top_left_y", "width", "height"}
    assert 0 <= body["latex_confidence"] <= 1
    r = client.post(
        "/v3/latex",
        json={
            "src": data_url(formula_png()),
            "formats": ["latex_normal", "latex_styled", "latex_simplified", "latex_list", "text"],
        },
    )
    body = r.json()
    assert "latex" not in body
    assert body["latex_normal"] == DOUBLE_LATEX
    assert body["latex_list"] == [DOUBLE_LATEX]
    assert body["text"] == f"\\( {DOUBLE_LATEX} \\)"


def test_latex_mathml(client: httpx.Client) -> None:
    r = client.post("/v3/latex", json={"src": data_url(formula_png()), "formats": ["mathml"]})
    assert r.json()["mathml"].startswith("<math")


def test_latex_multipart(client: httpx.Client) -> None:
    r = client.post(
        "/v3/latex",
        files={"file": ("f.png", formula_png(), "image/png")},
        data={"options_json": json.dumps({"formats": ["latex_normal"]})},
    )
    assert r.json()["latex_normal"] == DOUBLE_LATEX


def test_strokes(client: httpx.Client) -> None:
    strokes = {
        "x": [[131, 140, 150, 160, 170], [200, 230], [215, 215]],
        "y": [[213, 230, 240, 230, 213], [230, 230], [215, 245]],
    }
    r = client.post("/v3/strokes", json={"strokes": {"strokes": strokes}})
    body = r.json()
    assert body["text"] == f"\\( {DOUBLE_LATEX} \\)"
    assert body["is_handwritten"] is True and body["is_printed"] is False
    assert body["image_width"] > 0 and body["image_height"] > 0


def test_url_source_from_local_site(server: RunningServer, client: httpx.Client) -> None:
    from server_testkit import image_site

    with image_site() as site:
        site.routes["/f.png"] = (200, {"Content-Type": "image/png"}, formula_png())
        site.routes["/moved"] = (302, {"Location": "/f.png"}, b"")
        r = client.post("/v3/text", json={"src": site.url + "/f.png"})
        assert r.json()["text"] == f"\\( {DOUBLE_LATEX} \\)"
        r = client.post("/v3/text", json={"src": site.url + "/moved"})
        assert r.json()["text"] == f"\\( {DOUBLE_LATEX} \\)"
        by_name = site.url.replace("127.0.0.1", "localhost") + "/f.png"  # may resolve to ::1 first
        assert client.post("/v3/text", json={"src": by_name}).json()["text"]


def test_ocr_results_history(client: httpx.Client) -> None:
    client.post("/v3/text", json={"src": data_url(formula_png()), "tags": ["a"]})
    client.post("/v3/latex", json={"src": data_url(formula_png()), "tags": ["b"]})
    client.post(
        "/v3/text",
        json={"src": data_url(formula_png()), "metadata": {"improve_mathpix": False}},
    )
    body = client.get("/v3/ocr-results").json()
    entries = body["ocr_results"]
    assert [e["endpoint"] for e in entries] == ["/v3/latex", "/v3/text"]  # newest first
    assert "src" not in entries[0]["request_args"]
    assert entries[1]["result"]["text"] == f"\\( {DOUBLE_LATEX} \\)"
    assert entries[0]["timestamp"].endswith("Z")
    page = client.get("/v3/ocr-results", params={"per_page": 1, "page": 2}).json()
    assert [e["endpoint"] for e in page["ocr_results"]] == ["/v3/text"]
    tagged = client.get("/v3/ocr-results", params={"tags": "b"}).json()
    assert [e["endpoint"] for e in tagged["ocr_results"]] == ["/v3/latex"]
    future = client.get("/v3/ocr-results", params={"from_date": "2999-01-01T00:00:00Z"})
    assert future.json()["ocr_results"] == []


def test_health(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["model_loaded"] is True
    assert body["engine"] == "test-double"
    assert body["auth"] is False


def test_metrics(client: httpx.Client) -> None:
    client.post("/v3/text", json={"src": data_url(formula_png())})
    client.post("/v3/text", content=b"{oops", headers={"content-type": "application/json"})
    text = client.get("/metrics").text
    for name in (
        "scipix_ocr_requests_total",
        "scipix_cache_hits_total",
        "scipix_cache_misses_total",
        "scipix_ocr_duration_seconds_bucket",
        "scipix_confidence_score_bucket",
        "scipix_active_calls",
    ):
        assert name in text, name
    assert 'scipix_errors_total{kind="json_syntax"}' in text


def test_docs_and_openapi(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Swagger UI comes from the package itself, never from a CDN: the docs work offline
    assert "/static/docs/swagger-ui-bundle.js" in docs.text and "cdn." not in docs.text
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs/swagger-ui.css").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/v3/text", "/v3/latex", "/v3/strokes", "/v3/batch", "/v3/ocr-results"):
        assert path in spec["paths"], path
    assert "TextOptions" in spec["components"]["schemas"]
    body = spec["paths"]["/v3/text"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}


def test_metrics_endpoint_setting(make_server: MakeServer) -> None:
    srv = make_server(**{"metrics.prometheus_endpoint": "/prom"})
    with httpx.Client(base_url=srv.url) as c:
        assert "scipix_active_calls" in c.get("/prom").text
        assert c.get("/metrics").status_code == 404
    srv = make_server(**{"metrics.enabled": False})
    with httpx.Client(base_url=srv.url) as c:
        assert c.get("/metrics").status_code == 404


def test_engine_built_at_startup_from_settings(make_server: MakeServer) -> None:
    """With no engine given, the app builds the configured one once, at startup."""
    built: list[TestDoubleEngine] = []

    def factory(settings: object) -> TestDoubleEngine:
        built.append(TestDoubleEngine())
        return built[-1]

    register_engine("startup-double", factory)
    srv = make_server(engine=None, build=True, **{"engines.default": "startup-double"})
    with httpx.Client(base_url=srv.url) as c:
        assert c.get("/health").json()["engine"] == "test-double"
        for _ in range(2):
            assert "error" not in c.post("/v3/text", json={"src": data_url(formula_png())}).json()
    assert len(built) == 1 and built[0].calls == 2
