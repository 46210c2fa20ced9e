"""Vector indexes behind one protocol: ``usearch`` (default) and ``ruvector``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from scipix.cache.index.base import Dtype, HnswParams, Neighbor, VectorIndex
from scipix.errors import CacheError

Backend = Literal["usearch", "ruvector"]
BACKENDS: tuple[Backend, ...] = ("usearch", "ruvector")


def create_index(backend: Backend, dim: int, dtype: Dtype, params: HnswParams) -> VectorIndex:
    """A new empty index of the named backend."""
    if backend == "usearch":
        from scipix.cache.index.usearch_backend import UsearchIndex

        return UsearchIndex(dim, dtype, params)
    if backend == "ruvector":
        from scipix.cache.index.ruvector_backend import RuvectorIndex

        return RuvectorIndex(dim, dtype, params)
    raise CacheError(f"unknown vector index backend '{backend}'")


def load_index(
    backend: Backend, path: Path, params: HnswParams, *, view: bool = False
) -> VectorIndex:
    """Load an index saved by the named backend (``view``: memory-map it read-only)."""
    if backend == "usearch":
        from scipix.cache.index.usearch_backend import UsearchIndex

        return UsearchIndex.load(path, params, view=view)
    if backend == "ruvector":
        from scipix.cache.index.ruvector_backend import RuvectorIndex

        return RuvectorIndex.view(path, params) if view else RuvectorIndex.load(path, params)
    raise CacheError(f"unknown vector index backend '{backend}'")


def index_suffix(backend: Backend) -> str:
    return ".usearch" if backend == "usearch" else ".npz"


__all__ = [
    "BACKENDS",
    "Backend",
    "Dtype",
    "HnswParams",
    "Neighbor",
    "VectorIndex",
    "create_index",
    "index_suffix",
    "load_index",
]
