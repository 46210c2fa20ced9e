"""Auth, rate limits, SSRF guards and CORS over real HTTP."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from typing import Any

import httpx
import pytest
from conftest import MakeServer
from server_testkit import data_url, formula_png, image_site

from scipix.cli.serve import bind_host
from scipix.config import load_settings
from scipix.server import fetch

KEYS = [
    {"app_id": "alice", "key": "alice-secret"},
    {"app_id": "bob", "key_sha256": hashlib.sha256(b"bob-secret").hexdigest()},
]
ALICE = {"app_id": "alice", "app_key": "alice-secret"}
BOB = {"app_id": "bob", "app_key": "bob-secret"}


def body() -> dict[str, Any]:
    return {"src": data_url(formula_png())}


def error_id(r: httpx.Response) -> str:
    return str(r.json()["error_info"]["id"])


def test_auth_off_accepts_anonymous(client: httpx.Client) -> None:
    assert "error" not in client.post("/v3/text", json=body()).json()


def test_auth_on(make_server: MakeServer, caplog: pytest.LogCaptureFixture) -> None:
    srv = make_server(**{"server.api_keys": KEYS})
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=srv.url) as c:
        for headers in ({}, {"app_id": "alice"}, {"app_id": "alice", "app_key": "wrong"}):
            r = c.post("/v3/text", json=body(), headers=headers)
            assert r.status_code == 401 and error_id(r) == "http_unauthorized"
        # a valid key under another app_id is refused
        r = c.post("/v3/text", json=body(), headers={"app_id": "bob", "app_key": "alice-secret"})
        assert r.status_code == 401
        assert "error" not in c.post("/v3/text", json=body(), headers=ALICE).json()
        assert "error" not in c.post("/v3/text", json=body(), headers=BOB).json()  # hashed key
        r = c.post("/v3/text", json=body(), headers={"X-API-Key": "alice-secret"})
        assert "error" not in r.json()
        r = c.post("/v3/text", json=body(), headers={"app_key": "bob-secret"})
        assert "error" not in r.json()
        assert c.get("/v3/ocr-results").status_code == 401
        assert c.get("/v3/batch/x").status_code == 401
        # health, metrics and docs stay open
        assert c.get("/health").json()["auth"] is True
        assert c.get("/metrics").status_code == 200
        # each key sees only its own history
        alice = c.get("/v3/ocr-results", headers=ALICE).json()["ocr_results"]
        bob = c.get("/v3/ocr-results", headers=BOB).json()["ocr_results"]
        assert len(alice) == 2 and len(bob) == 2
        assert not {e["request_id"] for e in alice} & {e["request_id"] for e in bob}
    assert "alice-secret" not in caplog.text and "bob-secret" not in caplog.text


def test_batch_results_are_per_key(make_server: MakeServer) -> None:
    srv = make_server(**{"server.api_keys": KEYS})
    with httpx.Client(base_url=srv.url) as c:
        batch_id = c.post("/v3/batch", json={"urls": {"a": body()["src"]}}, headers=ALICE).json()[
            "batch_id"
        ]
        r = c.get(f"/v3/batch/{batch_id}", headers=BOB)
        assert error_id(r) == "batch_unknown_id"
        assert c.get(f"/v3/batch/{batch_id}", headers=ALICE).json()["keys"] == ["a"]


def test_rate_limit_per_key_then_recovery(make_server: MakeServer) -> None:
    srv = make_server(
        **{
            "server.api_keys": KEYS,
            "server.rate_limit.requests_per_minute": 3,
            "server.rate_limit.window_secs": 2,
        }
    )
    with httpx.Client(base_url=srv.url) as c:
        for _ in range(3):
            assert c.post("/v3/text", json=body(), headers=ALICE).status_code == 200
        r = c.post("/v3/text", json=body(), headers=ALICE)
        assert r.status_code == 429 and error_id(r) == "http_max_requests"
        assert r.json()["error_info"]["limit_name"] == "per_key_limit"
        retry_after = int(r.headers["retry-after"])
        assert 1 <= retry_after <= 2
        # another key is not limited
        assert "error" not in c.post("/v3/text", json=body(), headers=BOB).json()
        time.sleep(retry_after + 0.1)
        r = c.post("/v3/text", json=body(), headers=ALICE)
        assert r.status_code == 200 and "error" not in r.json()


def test_rate_limit_per_ip_without_keys(make_server: MakeServer) -> None:
    srv = make_server(
        **{
            "server.rate_limit.per_ip_requests_per_minute": 2,
            "server.rate_limit.window_secs": 1,
        }
    )
    with httpx.Client(base_url=srv.url) as c:
        assert c.post("/v3/text", json=body()).status_code == 200
        assert c.post("/v3/text", json=body()).status_code == 200
        r = c.post("/v3/text", json=body())
        assert r.status_code == 429 and r.json()["error_info"]["limit_name"] == "per_ip_limit"
        assert c.get("/health").status_code == 200  # not rate limited
        time.sleep(int(r.headers["retry-after"]) + 0.1)
        assert c.post("/v3/text", json=body()).status_code == 200


def test_rate_limit_disabled(make_server: MakeServer) -> None:
    srv = make_server(
        **{
            "server.rate_limit.enabled": False,
            "server.rate_limit.per_ip_requests_per_minute": 1,
        }
    )
    with httpx.Client(base_url=srv.url) as c:
        for _ in range(3):
            assert c.post("/v3/text", json=body()).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/f.png",
        "http://localhost:{port}/f.png",
        "http://[::1]:{port}/f.png",
        "http://10.1.2.3/f.png",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0:{port}/f.png",
        "http://[::ffff:127.0.0.1]:{port}/f.png",
    ],
)
def test_private_addresses_refused(make_server: MakeServer, url: str) -> None:
    srv = make_server()  # allow_private_urls is off by default
    with image_site() as site, httpx.Client(base_url=srv.url, timeout=30) as c:
        site.routes["/f.png"] = (200, {"Content-Type": "image/png"}, formula_png())
        port = site.url.rsplit(":", 1)[1]
        r = c.post("/v3/text", json={"src": url.format(port=port)})
        assert error_id(r) == "image_download_error"
        assert "private" in r.json()["error"] or "resolve" in r.json()["error"]


def test_redirect_to_private_address_refused(
    make_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each hop is checked: pretend 127.0.0.1 is public and 127.0.0.2 private."""

    def only_first_loopback(ip: fetch.IpAddress) -> bool:
        return ip == ipaddress.ip_address("127.0.0.1")

    monkeypatch.setattr(fetch, "is_public_address", only_first_loopback)
    srv = make_server()
    with image_site() as site, httpx.Client(base_url=srv.url, timeout=30) as c:
        port = site.url.rsplit(":", 1)[1]
        site.routes["/f.png"] = (200, {"Content-Type": "image/png"}, formula_png())
        site.routes["/away"] = (302, {"Location": f"http://127.0.0.2:{port}/f.png"}, b"")
        assert "error" not in c.post("/v3/text", json={"src": site.url + "/f.png"}).json()
        r = c.post("/v3/text", json={"src": site.url + "/away"})
        assert error_id(r) == "image_download_error" and "private" in r.json()["error"]


def test_public_address_check() -> None:
    assert fetch.is_public_address(ipaddress.ip_address("8.8.8.8"))
    for ip in (
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.1.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "224.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::ffff:10.0.0.1",
    ):
        assert not fetch.is_public_address(ipaddress.ip_address(ip)), ip


def test_cors(make_server: MakeServer) -> None:
    srv = make_server(**{"server.cors_origins": ["https://app.example"]})
    with httpx.Client(base_url=srv.url) as c:
        r = c.options(
            "/v3/text",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "app_key,content-type",
            },
        )
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        r = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_serve_binds_loopback_without_keys() -> None:
    open_settings = load_settings(None, {"server.host": "0.0.0.0"})
    assert bind_host(open_settings) == "127.0.0.1"
    keyed = load_settings(None, {"server.host": "0.0.0.0", "server.api_keys": KEYS})
    assert bind_host(keyed) == "0.0.0.0"
