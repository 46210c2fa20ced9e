"""RemoteEngine against a local HTTP server that speaks the Mathpix v3 /text shape."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_mathpix import FakeMathpix, Reply, fake_mathpix

from scipix.config import load_settings
from scipix.engines.breaker import BreakerState
from scipix.engines.registry import build_engine
from scipix.engines.remote import (
    RemoteAuthError,
    RemoteEngine,
    RemoteError,
    RemoteSpec,
    RemoteTimeout,
    RemoteUnavailable,
    backoff_delay,
    parse_retry_after,
)
from scipix.errors import ConfigError
from scipix.io import DecodedImage

SECRET = "s3cret-key-value"


def image(seed: int = 0) -> DecodedImage:
    gray = np.full((20, 40), 255, np.uint8)
    gray[8:12, 5 + seed : 30 + seed] = 0
    return DecodedImage(gray=gray, format="PNG", width=40, height=20)


_OPEN: list[RemoteEngine] = []


@pytest.fixture(autouse=True)
def close_engines() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def track(eng: Any) -> RemoteEngine:
    assert isinstance(eng, RemoteEngine)
    _OPEN.append(eng)
    return eng


@pytest.fixture
def site() -> Iterator[FakeMathpix]:
    with fake_mathpix() as s:
        yield s


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def engine_for(site: FakeMathpix, **spec: Any) -> tuple[RemoteEngine, Sleeps]:
    values: dict[str, Any] = {"app_id": "my-app", "app_key": SECRET, "retries": 2}
    values.update(spec)
    sleeps = Sleeps()
    eng = RemoteEngine(name="mp", spec=RemoteSpec(url=site.url, **values), sleep=sleeps)
    return track(eng), sleeps


def test_success_maps_response_and_sends_credentials(
    site: FakeMathpix, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    eng, _ = engine_for(site)
    result = eng.recognize(image())
    assert result.latex == "x^{2}+1"
    assert result.latex_styled == "x^{2}+1"
    assert result.confidence == pytest.approx(0.97)
    assert result.confidence_rate == pytest.approx(0.99)
    assert result.engine == "mp"
    [req] = site.requests
    assert req.path == "/v3/text"
    assert req.headers["app_id"] == "my-app"
    assert req.headers["app_key"] == SECRET
    assert req.body["src"].startswith("data:image/png;base64,")
    png = base64.b64decode(req.body["src"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG")
    assert {"text", "latex_styled", "data"} <= set(req.body["formats"])
    assert SECRET not in caplog.text


def test_latex_from_data_or_text_when_no_latex_styled(site: FakeMathpix) -> None:
    eng, _ = engine_for(site)
    site.script = [
        Reply(body={"data": [{"type": "latex", "value": "a+b"}], "confidence": 0.5}),
        Reply(body={"text": "\\( \\frac{1}{2} \\)", "confidence": 0.4}),
    ]
    assert eng.recognize(image()).latex == "a+b"
    assert eng.recognize(image()).latex == "\\frac{1}{2}"


def test_remote_error_id_is_kept(site: FakeMathpix) -> None:
    eng, _ = engine_for(site)
    site.script = [
        Reply(body={"error": "bad image", "error_info": {"id": "image_decode_error"}}),
        Reply(body={"error": "nothing", "error_info": {"id": "image_no_content"}}),
    ]
    with pytest.raises(RemoteError) as info:
        eng.recognize(image())
    assert info.value.error_id == "image_decode_error"
    assert info.value.remote_error_id == "image_decode_error"
    empty = eng.recognize(image())  # "no math" is an empty result, like the local engine's
    assert empty.is_empty and "no math" in empty.reason


def test_retries_on_429_and_503_honouring_retry_after(site: FakeMathpix) -> None:
    eng, sleeps = engine_for(site)
    busy = {"error": "busy", "error_info": {"id": "sys_busy"}}
    site.script = [
        Reply(
            429,
            {"error": "slow down", "error_info": {"id": "http_max_requests"}},
            {"Retry-After": "2"},
        ),
        Reply(503, busy),
    ]
    result = eng.recognize(image())
    assert result.latex == "x^{2}+1"
    assert len(site.requests) == 3
    assert sleeps.calls[0] == 2.0  # Retry-After honoured
    assert 0.5 <= sleeps.calls[1] <= 1.0  # jittered exponential: base 0.5 * 2**1, half to full


def test_retries_exhausted_raise_with_remote_id(site: FakeMathpix) -> None:
    eng, sleeps = engine_for(site, retries=1)
    site.default = Reply(503, {"error": "down", "error_info": {"id": "sys_busy"}})
    with pytest.raises(RemoteError) as info:
        eng.recognize(image())
    assert info.value.status == 503 and info.value.remote_error_id == "sys_busy"
    assert len(site.requests) == 2 and len(sleeps.calls) == 1


def test_backoff_and_retry_after_parsing() -> None:
    for attempt in range(6):
        delay = backoff_delay(attempt, 0.5)
        ceiling = min(10.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert backoff_delay(0, 0.5, retry_after=60) == 10.0  # capped
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("garbage") is None
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (parse_retry_after(http_date) or 0) <= 31


def test_circuit_breaker_opens_fails_fast_and_closes(site: FakeMathpix) -> None:
    now = [1000.0]
    eng = track(
        RemoteEngine(
            name="mp",
            spec=RemoteSpec(url=site.url, retries=0, breaker_failures=2, breaker_cooldown_secs=30),
            clock=lambda: now[0],
            sleep=Sleeps(),
        )
    )
    site.default = Reply(500, {"error": "boom"})
    for _ in range(2):
        with pytest.raises(RemoteError):
            eng.recognize(image())
    assert eng.breaker.state is BreakerState.OPEN and not eng.ready()
    sent = len(site.requests)
    with pytest.raises(RemoteUnavailable, match="circuit breaker open"):
        eng.recognize(image())
    assert len(site.requests) == sent  # failed fast, nothing sent
    now[0] += 31  # cool-down over: one probe goes through; it fails, so open again
    with pytest.raises(RemoteError):
        eng.recognize(image())
    assert eng.breaker.state is BreakerState.OPEN
    now[0] += 31
    site.default = Reply()  # the remote recovers: the probe succeeds and closes the breaker
    assert eng.recognize(image()).latex == "x^{2}+1"
    state: BreakerState = eng.breaker.state
    assert state is BreakerState.CLOSED and eng.ready()


def test_hanging_remote_times_out(site: FakeMathpix) -> None:
    eng, _ = engine_for(site, timeout_secs=0.5, retries=2)
    site.default = Reply(delay=10)
    start = time.monotonic()
    with pytest.raises(RemoteTimeout, match=r"within 0\.5 s"):
        eng.recognize(image())
    assert time.monotonic() - start < 2.0
    assert len(site.requests) == 1  # a read timeout is not retried (it may have been billed)


def test_unreachable_remote_is_a_clear_error() -> None:
    eng = track(
        RemoteEngine(
            name="gone", spec=RemoteSpec(url="http://127.0.0.1:9/v3", retries=1), sleep=Sleeps()
        )
    )
    with pytest.raises(RemoteUnavailable, match="unreachable"):
        eng.recognize(image())
    assert not eng.probe().reachable


def test_bad_credentials_clear_error_and_nothing_cached(site: FakeMathpix, tmp_path: Path) -> None:
    from scipix.cache import SimilarityCache
    from scipix.engines.cached import CachedEngine

    site.default = Reply(
        401, {"error": "Invalid credentials", "error_info": {"id": "http_unauthorized"}}
    )
    eng, _ = engine_for(site)
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    cache = SimilarityCache.open(settings.cache)
    try:
        cached = CachedEngine(eng, cache)
        with pytest.raises(RemoteAuthError, match="rejected the credentials") as info:
            cached.recognize(image())
        assert info.value.error_id == "remote_unauthorized"
        assert info.value.remote_error_id == "http_unauthorized"
        assert SECRET not in str(info.value)
        assert len(site.requests) == 1  # 401 is not retried
        assert cache.stats().entries == 0
        assert eng.breaker.state is BreakerState.CLOSED  # the remote is up
    finally:
        cache.close()


def test_remote_answers_are_cached(site: FakeMathpix, tmp_path: Path) -> None:
    from scipix.cache import SimilarityCache
    from scipix.engines.cached import CachedEngine

    eng, _ = engine_for(site)
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    cache = SimilarityCache.open(settings.cache)
    try:
        cached = CachedEngine(eng, cache)
        first = cached.recognize(image())
        second = cached.recognize(image())
        assert first.latex == second.latex == "x^{2}+1"
        assert second.cached and second.engine == "mp"
        assert len(site.requests) == 1
    finally:
        cache.close()


def test_named_remotes_from_config_and_env(
    site: FakeMathpix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATHPIX_APP_ID", "env-id")
    monkeypatch.setenv("MATHPIX_APP_KEY", "env-key")
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path),
            "api.url": site.url,
            "engines.remotes": {"node_b": {"url": site.url, "app_id": "b", "app_key": "kb"}},
        },
    )
    default = track(build_engine(settings, "mathpix"))
    assert isinstance(default, RemoteEngine) and default.name == "remote"
    assert default.spec.app_id == "env-id" and default.spec.app_key == "env-key"
    named = track(build_engine(settings, "node_b"))
    assert isinstance(named, RemoteEngine) and named.name == "node_b"
    assert named.recognize(image()).engine == "node_b"
    assert site.requests[-1].headers["app_key"] == "kb"
    assert "kb" not in str(settings.public_dict())
    with pytest.raises(ConfigError, match=r"unknown engine .nope.*node_b"):
        build_engine(settings, "nope")
    with pytest.raises(ConfigError, match="reserved"):
        load_settings(None, {"engines.remotes": {"local": {"url": site.url}}})
