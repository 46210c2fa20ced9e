"""Engine policies: ``local``, ``remote`` and ``fallback`` (local first, remote when unsure).

:class:`FallbackEngine` asks its primary engine; when the answer's confidence is below the
threshold (or it is empty) it asks the secondary and keeps the better-confidence answer.
``OcrResult.engine`` says which engine answered, and ``scipix_engine_answers_total{engine}``
counts it. When the secondary fails, the primary's answer is returned (and the failure logged);
when both fail, the secondary's error is raised.

The cache goes in front of the whole policy (``CachedEngine(FallbackEngine(...), cache)``), so a
repeated image costs neither a local recognition nor a remote call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Counter

from scipix.engines.base import Engine, RecognizeOptions
from scipix.errors import ConfigError, EngineError
from scipix.io import DecodedImage
from scipix.types import OcrResult

if TYPE_CHECKING:
    from scipix.config import Settings

log = logging.getLogger(__name__)


def _answers_counter() -> Counter:
    name = "scipix_engine_answers_total"
    try:
        return Counter(name, "Results by the engine that answered them", ["engine"])
    except ValueError:  # registered already in this process
        existing = REGISTRY._names_to_collectors.get(name)
        if isinstance(existing, Counter):
            return existing
        raise


ENGINE_ANSWERS = _answers_counter()


class FallbackEngine:
    """``primary`` first; ``secondary`` when ``primary`` is less sure than ``threshold``."""

    def __init__(
        self, primary: Engine, secondary: Engine, threshold: float, name: str = "fallback"
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"fallback threshold {threshold} is not in [0, 1]")
        self.primary = primary
        self.secondary = secondary
        self.threshold = threshold
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def ready(self) -> bool:
        """Ready when the primary is: the secondary only improves answers."""
        return self.primary.ready()

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        first = self.primary.recognize(image, options)
        if not first.is_empty and first.confidence >= self.threshold:
            ENGINE_ANSWERS.labels(engine=first.engine).inc()
            return first
        log.debug(
            "%s: confidence %.3f < %.3f, asking %s",
            self.primary.name,
            first.confidence,
            self.threshold,
            self.secondary.name,
        )
        try:
            second = self.secondary.recognize(image, options)
        except EngineError as exc:
            if first.is_empty:
                raise
            log.warning(
                "fallback engine %s failed (%s: %s); keeping %s's answer",
                self.secondary.name,
                exc.error_id,
                exc,
                self.primary.name,
            )
            ENGINE_ANSWERS.labels(engine=first.engine).inc()
            return first
        best = second if _better(second, first) else first
        ENGINE_ANSWERS.labels(engine=best.engine).inc()
        return best


def _better(candidate: OcrResult, incumbent: OcrResult) -> bool:
    if candidate.is_empty:
        return False
    return incumbent.is_empty or candidate.confidence > incumbent.confidence


def build_fallback(settings: Settings) -> FallbackEngine:
    """The ``fallback`` engine from config: local, then ``engines.fallback_remote``."""
    from scipix.engines.registry import build_engine

    remote_name = settings.engines.fallback_remote
    if remote_name in ("fallback", "local"):
        raise ConfigError(f"engines.fallback_remote must name a remote, not '{remote_name}'")
    secondary = build_engine(settings, remote_name)
    primary = build_engine(settings, "local")
    return FallbackEngine(primary, secondary, settings.engines.fallback_threshold)


__all__ = ["ENGINE_ANSWERS", "FallbackEngine", "build_fallback"]
