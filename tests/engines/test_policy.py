"""FallbackEngine: local first, the remote when local is unsure, the better answer kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scipix.config import Settings
from scipix.engines.base import Engine, RecognizeOptions
from scipix.engines.policy import ENGINE_ANSWERS, FallbackEngine
from scipix.errors import ConfigError, EngineError
from scipix.io import DecodedImage
from scipix.types import OcrResult

IMAGE = DecodedImage(gray=np.full((10, 10), 255, np.uint8), format="PNG", width=10, height=10)


class Scripted:
    """A test double engine answering a fixed result (or raising), counting its calls."""

    def __init__(self, name: str, confidence: float, latex: str = "x", fail: bool = False) -> None:
        self._name = name
        self.confidence = confidence
        self.latex = latex
        self.fail = fail
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    def ready(self) -> bool:
        return True

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        self.calls += 1
        if self.fail:
            raise EngineError(f"{self._name} is down")
        return OcrResult(
            latex=self.latex,
            latex_styled=self.latex,
            text=f"\\( {self.latex} \\)" if self.latex else "",
            confidence=self.confidence,
            confidence_rate=self.confidence,
            engine=self._name,
        )


def answers(engine: str) -> float:
    return float(ENGINE_ANSWERS.labels(engine=engine)._value.get())


def test_confident_local_answer_does_not_ask_the_remote() -> None:
    local, remote = Scripted("local", 0.9), Scripted("remote", 0.99)
    fb = FallbackEngine(local, remote, 0.5)
    assert isinstance(fb, Engine)
    before = answers("local")
    assert fb.recognize(IMAGE).engine == "local"
    assert remote.calls == 0
    assert answers("local") == before + 1


def test_unsure_local_asks_the_remote_and_keeps_the_better() -> None:
    local, remote = Scripted("local", 0.2, "y"), Scripted("node_b", 0.8, "z")
    fb = FallbackEngine(local, remote, 0.5)
    before = answers("node_b")
    result = fb.recognize(IMAGE)
    assert (result.engine, result.latex) == ("node_b", "z")
    assert answers("node_b") == before + 1
    # the remote is even less sure: the local answer stays
    remote.confidence = 0.1
    assert fb.recognize(IMAGE).engine == "local"
    # an empty local answer is always replaced by a non-empty remote one
    local.latex, local.confidence = "", 0.0
    assert fb.recognize(IMAGE).engine == "node_b"


def test_failing_remote_keeps_the_local_answer_or_raises_when_there_is_none() -> None:
    local, remote = Scripted("local", 0.2), Scripted("node_b", 0.0, fail=True)
    fb = FallbackEngine(local, remote, 0.5)
    assert fb.recognize(IMAGE).engine == "local"
    local.latex = ""
    with pytest.raises(EngineError, match="node_b is down"):
        fb.recognize(IMAGE)


def test_bad_threshold() -> None:
    with pytest.raises(ConfigError):
        FallbackEngine(Scripted("a", 1), Scripted("b", 1), 1.5)


def test_engine_set_builds_once_wraps_and_checks_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scipix.config import load_settings
    from scipix.engines import registry
    from scipix.engines.engine_set import EngineSet, check_allowed
    from scipix.errors import OptionsError

    built: list[str] = []

    def factory(settings: Settings) -> Engine:
        built.append("double")
        return Scripted("double", 0.9)

    monkeypatch.setitem(registry._REGISTERED, "test_double", factory)
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    default = Scripted("local", 0.9)
    wrapped: list[str] = []

    def wrap(engine: Engine) -> Engine:
        wrapped.append(engine.name)
        return engine

    engines = EngineSet(settings, default=default, wrap=wrap)
    assert engines.get() is default and engines.get("local") is default
    first = engines.get("test_double")
    assert engines.get("test_double") is first and built == ["double"] and wrapped == ["double"]
    with pytest.raises(OptionsError, match="unknown engine"):
        engines.get("nope")
    check_allowed("local", [], "local")
    check_allowed(None, ["local"], "local")
    check_allowed("mathpix", ["remote"], "local")  # aliases are the same engine
    with pytest.raises(OptionsError, match="may not use engine 'remote'"):
        check_allowed("remote", ["local"], "local")
