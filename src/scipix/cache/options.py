"""The cache's resolved settings, built from ``settings.cache`` or directly (tests, benchmarks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scipix.cache.index import Backend, Dtype, HnswParams
from scipix.errors import CacheError

if TYPE_CHECKING:
    from scipix.config import CacheConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """Everything the cache needs to know; ``size_bytes`` is the cap on its stored bytes."""

    dir: Path
    dimension: int = 512
    size_bytes: int = 1000 * 1024 * 1024
    threshold: float = 0.95
    backend: Backend = "usearch"
    dtype: Dtype = "i8"
    hnsw: HnswParams = field(default_factory=HnswParams)
    mmap: bool = False
    min_confidence: float = 0.0
    encrypt: bool = False
    encryption_key_env: str = "SCIPIX_CACHE_KEY"
    candidates: int = 4  # vector candidates verified per lookup
    save_every: int = 1000  # changes between automatic saves of the vector index
    # who fills the cache (the recognizer model's fingerprint): results stored by another
    # producer are dropped when the cache opens; None (admin commands) checks nothing
    producer: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir).expanduser())
        if self.dimension < 64:
            raise CacheError("cache.dimension must be at least 64")
        if not 0.0 <= self.threshold <= 1.0:
            raise CacheError("cache.threshold must be in [0, 1]")
        if self.mmap and self.backend != "usearch":
            raise CacheError("cache.mmap needs the usearch backend")
        if self.backend == "ruvector" and self.dtype != "f32":
            raise CacheError("the ruvector backend stores float32 only: set cache.dtype = 'f32'")

    @classmethod
    def from_config(cls, config: CacheConfig, producer: str | None = None) -> CacheOptions:
        if config.dir is None:
            raise CacheError("cache.dir is not set")
        dtype: Dtype
        if config.dtype != "auto":
            dtype = config.dtype
        elif config.backend == "ruvector":
            dtype = "f32"  # ruvector's HnswIndex has no quantised storage
        elif config.quantization.enabled and config.quantization.bits in (4, 8):
            if config.quantization.bits == 4:
                log.info("usearch has no 4-bit vectors; the cache index uses int8")
            dtype = "i8"
        else:
            dtype = "f32"
        h = config.hnsw
        return cls(
            dir=Path(config.dir),
            dimension=config.dimension,
            size_bytes=config.size_mb * 1024 * 1024,
            threshold=config.threshold,
            backend=config.backend,
            dtype=dtype,
            hnsw=HnswParams(h.m, h.ef_construction, h.ef_search, h.max_elements),
            mmap=config.mmap,
            min_confidence=config.min_confidence,
            encrypt=config.encrypt,
            encryption_key_env=config.encryption_key_env,
            producer=producer,
        )


__all__ = ["CacheOptions"]
