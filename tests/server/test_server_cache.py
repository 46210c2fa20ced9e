"""The similarity cache behind the server: cached answers, metrics, /cache/* routes, engines.

The cache tests run the real local engine, built by the server at startup, on the bundled
example image; the auth tests use the test double engine (route mechanics only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import MakeServer
from server_testkit import RunningServer, TestDoubleEngine, data_url, formula_png

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quadratic.png"
CACHE_ON = {"cache.enabled": True}
KEYS = [
    {"app_id": "root", "key": "root-secret", "admin": True},
    {"app_id": "user", "key": "user-secret", "engines": ["local"]},
]
ROOT = {"app_id": "root", "app_key": "root-secret"}
USER = {"app_id": "user", "app_key": "user-secret"}


def error_id(r: httpx.Response) -> str:
    return str(r.json()["error_info"]["id"])


def counter(c: httpx.Client, name: str) -> float:
    """A counter's value from the Prometheus text of ``/metrics``."""
    match = re.search(rf"^{name} (\S+)$", c.get("/metrics").text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


@pytest.fixture
def real(make_server: MakeServer) -> RunningServer:
    """The real local engine (built at startup) behind the cache; no keys."""
    return make_server(build=True, **CACHE_ON)


@pytest.fixture
def image() -> dict[str, Any]:
    return {"src": data_url(EXAMPLE.read_bytes()), "formats": ["text", "latex_styled"]}


def test_repeated_image_is_served_from_the_cache(
    real: RunningServer, image: dict[str, Any]
) -> None:
    with httpx.Client(base_url=real.url, timeout=120) as c:
        hits, misses = (
            counter(c, "scipix_cache_hits_total"),
            counter(c, "scipix_cache_misses_total"),
        )
        first = c.post("/v3/text", json=image).json()
        assert "error" not in first, first
        assert first["cached"] is False
        assert counter(c, "scipix_cache_misses_total") == misses + 1
        second = c.post("/v3/text", json=image).json()
        assert second["cached"] is True
        assert second["latex_styled"] == first["latex_styled"]
        assert counter(c, "scipix_cache_hits_total") == hits + 1
        # v3/latex with a multipart upload of the same image: also a hit
        files = {"file": ("q.png", EXAMPLE.read_bytes(), "image/png")}
        legacy = c.post("/v3/latex", files=files).json()
        assert legacy["cached"] is True and legacy["latex"] == first["latex_styled"]
        # use_cache=false: recognised again, and counted neither as a hit nor a miss
        before = counter(c, "scipix_cache_hits_total"), counter(c, "scipix_cache_misses_total")
        fresh = c.post("/v3/text", json={**image, "use_cache": False}).json()
        assert fresh["cached"] is False
        after = counter(c, "scipix_cache_hits_total"), counter(c, "scipix_cache_misses_total")
        assert after == before


def test_cache_routes_stats_search_clear(real: RunningServer, image: dict[str, Any]) -> None:
    with httpx.Client(base_url=real.url, timeout=120) as c:
        assert c.get("/cache/stats").json()["entries"] == 0
        latex = c.post("/v3/text", json=image).json()["latex_styled"]
        stats = c.get("/cache/stats").json()
        assert stats["entries"] >= 1 and stats["misses"] >= 1
        found = c.post("/cache/search", json={"latex": latex, "k": 3}).json()["results"]
        assert found and found[0]["latex"] == latex
        assert {"latex", "score", "confidence", "similarity"} <= set(found[0])
        assert found[0]["score"] > 0.9
        bad = c.post("/cache/search", json={"latex": latex, "k": 0})
        assert error_id(bad) == "opts_value_out_of_range"
        assert c.post("/cache/clear").json() == {"cleared": stats["entries"]}
        assert c.get("/cache/stats").json()["entries"] == 0
        assert c.post("/cache/search", json={"latex": latex}).json() == {"results": []}
        assert c.post("/v3/text", json=image).json()["cached"] is False  # recognised again


def test_engine_option(real: RunningServer, image: dict[str, Any]) -> None:
    with httpx.Client(base_url=real.url, timeout=120) as c:
        ok = c.post("/v3/text", json={**image, "engine": "local"}).json()
        assert "error" not in ok, ok
        assert ok["version"].endswith(":local")
        r = c.post("/v3/text", json={**image, "engine": "nope"})
        assert r.status_code == 200 and error_id(r) == "opts_unknown_engine"
        assert "nope" in r.json()["error"]
        r = c.post("/v3/latex", json={**image, "formats": [], "engine": "nope"})
        assert error_id(r) == "opts_unknown_engine"
        strokes = {"strokes": {"strokes": {"x": [[10, 50]], "y": [[10, 50]]}}, "engine": "nope"}
        assert error_id(c.post("/v3/strokes", json=strokes)) == "opts_unknown_engine"
        batch = c.post("/v3/batch", json={"urls": {"a": image["src"]}, "engine": "nope"})
        assert error_id(batch) == "opts_unknown_engine"


def test_cache_routes_need_an_admin_key(make_server: MakeServer) -> None:
    srv = make_server(engine=TestDoubleEngine(), **CACHE_ON, **{"server.api_keys": KEYS})
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        for method, path in (("GET", "/cache/stats"), ("POST", "/cache/clear")):
            assert c.request(method, path).status_code == 401
            refused = c.request(method, path, headers=USER)
            assert refused.status_code == 401 and error_id(refused) == "http_unauthorized"
        search = c.post("/cache/search", json={"latex": "x"}, headers=USER)
        assert search.status_code == 401
        body = {"src": data_url(formula_png())}
        assert c.post("/v3/text", json=body, headers=ROOT).json()["cached"] is False
        assert c.post("/v3/text", json=body, headers=USER).json()["cached"] is True
        assert c.get("/cache/stats", headers=ROOT).json()["entries"] == 1
        assert c.post("/cache/clear", headers=ROOT).json() == {"cleared": 1}


def test_key_limited_to_some_engines(make_server: MakeServer) -> None:
    srv = make_server(engine=TestDoubleEngine(), **{"server.api_keys": KEYS})
    body = {"src": data_url(formula_png())}
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        assert "error" not in c.post("/v3/text", json=body, headers=USER).json()
        r = c.post("/v3/text", json={**body, "engine": "remote"}, headers=USER)
        assert error_id(r) == "opts_unknown_engine" and "may not use" in r.json()["error"]
        batch = {"urls": {"a": body["src"]}, "engine": "remote"}
        assert error_id(c.post("/v3/batch", json=batch, headers=USER)) == "opts_unknown_engine"


def test_cache_disabled(make_server: MakeServer) -> None:
    srv = make_server(engine=TestDoubleEngine())  # the kit's servers run without the cache
    with httpx.Client(base_url=srv.url, timeout=30) as c:
        r = c.get("/cache/stats")
        assert r.status_code == 404 and error_id(r) == "cache_disabled"
        assert c.post("/cache/clear").status_code == 404
        body = {"src": data_url(formula_png())}
        assert c.post("/v3/text", json=body).json()["cached"] is False
