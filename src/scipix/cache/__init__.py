"""Similarity cache: exact and verified-vector tiers, persistent, quantised, searchable.

Public API (used by the engines, the CLI and the server)::

    cache = SimilarityCache.open(settings.cache)
    hit = cache.lookup(image)          # CacheHit | None, never another formula's LaTeX
    cache.store(image, result)         # an engine's OcrResult for that image
    cache.search(latex, k)             # list[SearchHit]
    cache.stats()                      # CacheStats
    cache.clear()
"""

from scipix.cache.cache import CacheHit, CacheStats, SearchHit, SimilarityCache, Tier
from scipix.cache.index import BACKENDS, HnswParams, Neighbor, VectorIndex, create_index, load_index
from scipix.cache.normalize import NormalizedInk, normalize
from scipix.cache.options import CacheOptions
from scipix.cache.verify import Verdict, compare

__all__ = [
    "BACKENDS",
    "CacheHit",
    "CacheOptions",
    "CacheStats",
    "HnswParams",
    "Neighbor",
    "NormalizedInk",
    "SearchHit",
    "SimilarityCache",
    "Tier",
    "VectorIndex",
    "Verdict",
    "compare",
    "create_index",
    "load_index",
    "normalize",
]
