"""CachedEngine around a counting test double, and the ``scipix cache`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cache_formulas import decoded, variants
from typer.testing import CliRunner

from scipix.cache import CacheOptions, SimilarityCache
from scipix.engines.base import Engine, RecognizeOptions
from scipix.engines.cached import CachedEngine
from scipix.errors import CacheError
from scipix.io import DecodedImage
from scipix.types import OcrResult


class CountingEngine:
    """Answers a fixed LaTeX per call and counts the calls."""

    def __init__(self, latex: str = "x^2") -> None:
        self.latex = latex
        self.calls = 0

    @property
    def name(self) -> str:
        return "counting"

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        self.calls += 1
        return OcrResult(self.latex, self.latex, f"\\({self.latex}\\)", 0.9, 0.9, engine=self.name)

    def ready(self) -> bool:
        return True


class BrokenCache(SimilarityCache):
    def lookup(self, image: DecodedImage) -> None:  # type: ignore[override]
        raise CacheError("disk on fire")

    def store(self, image: DecodedImage, result: OcrResult) -> int | None:
        raise CacheError("disk on fire")


def test_cached_engine_looks_up_then_stores(tmp_path: Path) -> None:
    inner = CountingEngine()
    engine = CachedEngine(inner, SimilarityCache(CacheOptions(dir=tmp_path)))
    assert isinstance(engine, Engine) and engine.name == "counting" and engine.ready()
    first = engine.recognize(decoded("x^2"))
    assert not first.cached and inner.calls == 1
    again = engine.recognize(variants("x^2")["jpeg75"])
    assert again.cached and again.latex == "x^2" and again.engine == "counting"
    assert inner.calls == 1
    fresh = engine.recognize(decoded("x^2"), RecognizeOptions(use_cache=False))
    assert not fresh.cached and inner.calls == 2
    other = engine.recognize(decoded("x^3"))  # a near-miss is recognised, not served
    assert not other.cached and inner.calls == 3
    stats = engine.cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 2, 2)


def test_cache_failures_do_not_fail_recognition(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inner = CountingEngine()
    engine = CachedEngine(inner, BrokenCache(CacheOptions(dir=tmp_path)))
    assert engine.recognize(decoded("x^2")).latex == "x^2"
    assert "disk on fire" in caplog.text


def test_cli_cache_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scipix.cli import app

    monkeypatch.setenv("SCIPIX_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SCIPIX_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    cache = SimilarityCache(CacheOptions(dir=tmp_path / "cache"))
    cache.store(
        decoded(r"\sqrt{x^2+y^2}"), CountingEngine(r"\sqrt{x^2+y^2}").recognize(decoded("x"))
    )
    cache.close()
    runner = CliRunner()
    out = runner.invoke(app, ["cache", "stats", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["entries"] == 1
    out = runner.invoke(app, ["cache", "search", "x^2+y^2", "-k", "3"])
    assert out.exit_code == 0 and r"\sqrt{x^2+y^2}" in out.stdout
    out = runner.invoke(app, ["cache", "clear", "--yes"])
    assert out.exit_code == 0
    out = runner.invoke(app, ["cache", "stats", "--json"])
    assert json.loads(out.stdout)["entries"] == 0
