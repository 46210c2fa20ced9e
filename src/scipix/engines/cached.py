"""An engine wrapper that answers from the similarity cache and stores what the engine says."""

from __future__ import annotations

import dataclasses
import logging
import time

from scipix.cache import SimilarityCache
from scipix.engines.base import Engine, RecognizeOptions
from scipix.errors import CacheError
from scipix.io import DecodedImage
from scipix.types import OcrResult, Timings

log = logging.getLogger(__name__)


class CachedEngine:
    """``inner`` behind ``cache``: look up first, recognise on a miss, store the result.

    ``options.use_cache = False`` bypasses the cache for that request (no lookup, no store).
    Cache failures are logged and never fail a recognition. Only ``inner``'s own results are
    stored, for the very image it was given.
    """

    def __init__(self, inner: Engine, cache: SimilarityCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def name(self) -> str:
        return self.inner.name

    def ready(self) -> bool:
        return self.inner.ready()

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        opts = options or RecognizeOptions()
        if not opts.use_cache:
            return self.inner.recognize(image, opts)
        start = time.perf_counter()
        try:
            hit = self.cache.lookup(image)
        except (CacheError, OSError) as exc:
            log.warning("cache lookup failed: %s", exc)
            hit = None
        if hit is not None:
            return dataclasses.replace(
                hit.result, cached=True, timings=Timings(total=time.perf_counter() - start)
            )
        result = self.inner.recognize(image, opts)
        try:
            self.cache.store(image, result)
        except (CacheError, OSError) as exc:
            log.warning("cache store failed: %s", exc)
        return result


__all__ = ["CachedEngine"]
