"""The ``ruvector`` backend: ruvector's ``HnswIndex`` (the design's own vector engine, from PyPI).

What we found with ruvector 0.1.4 and work around here:

* ``HnswIndex.search`` returns cosine *distance* (0 = same direction) with string ids.
* After ``delete`` the HNSW graph keeps the node (no live delete in the vendored ``hnsw_rs``), so
  a search may return fewer than ``k`` live results. We over-fetch by the number of deletes since
  the last rebuild, retry with every stored vector when still short, and rebuild the graph from
  ``export_items`` once deletes exceed a quarter of the live entries.
* There is no save/load and no memory-mapped view: :meth:`save` writes the live items to an
  ``.npz`` file and :meth:`load` rebuilds the graph from it; :meth:`view` is refused.
* Only float32 storage: the int8/f16 element types are refused for this backend. (Its
  ``RabitqIndex`` quantises, but has no delete and poor recall on uniform data, so it is not
  used.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scipix.cache.index.base import Dtype, HnswParams, Neighbor
from scipix.errors import CacheError

_REBUILD_FRACTION = 0.25


def _module() -> Any:
    try:
        import ruvector
    except ImportError as exc:
        raise CacheError(
            f"the ruvector backend is not available ({exc}); install it with 'pip install ruvector'"
        ) from None
    return ruvector


def available() -> bool:
    """True when the ``ruvector`` package can be imported."""
    try:
        _module()
    except CacheError:
        return False
    return True


class RuvectorIndex:
    """ruvector ``HnswIndex`` (cosine) behind :class:`VectorIndex`."""

    backend = "ruvector"

    def __init__(self, dim: int, dtype: Dtype = "f32", params: HnswParams | None = None) -> None:
        if dtype != "f32":
            raise CacheError(f"the ruvector backend stores float32 only, not {dtype}")
        self._rv = _module()
        self._params = params or HnswParams()
        self._dim = dim
        self._deleted = 0
        self._live: set[int] = set()  # the binding has no point lookup
        self._index = self._create()

    def _create(self) -> Any:
        p = self._params
        return self._rv.HnswIndex.create(
            self._dim,
            metric="cosine",
            m=p.m,
            ef_construction=p.ef_construction,
            ef_search=p.ef_search,
        )

    @classmethod
    def load(cls, path: Path, params: HnswParams | None = None) -> RuvectorIndex:
        """Rebuild an index from a file written by :meth:`save`."""
        try:
            with np.load(os.fspath(path), allow_pickle=False) as data:
                keys = np.asarray(data["keys"], dtype=np.uint64)
                vectors = np.asarray(data["vectors"], dtype=np.float32)
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise CacheError(f"cannot load vector index {path}: {exc}") from None
        if vectors.ndim != 2:
            raise CacheError(f"cannot load vector index {path}: bad vector array")
        out = cls(int(vectors.shape[1]), "f32", params)
        out.add(keys, vectors)
        return out

    @classmethod
    def view(cls, path: Path, params: HnswParams | None = None) -> RuvectorIndex:
        raise CacheError("the ruvector backend has no memory-mapped view; set cache.mmap = false")

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def dtype(self) -> Dtype:
        return "f32"

    @property
    def read_only(self) -> bool:
        return False

    def add(self, keys: NDArray[np.uint64], vectors: NDArray[np.float32]) -> None:
        if len(keys) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(keys), self._dim)
        self._index.insert_batch([str(int(k)) for k in keys], vecs)
        self._live.update(int(k) for k in keys)

    def remove(self, keys: NDArray[np.uint64]) -> int:
        removed = 0
        for k in keys:
            if self._index.delete(str(int(k))):
                removed += 1
                self._live.discard(int(k))
        self._deleted += removed
        if self._deleted > _REBUILD_FRACTION * max(1, len(self._index)):
            self._rebuild()
        return removed

    def _rebuild(self) -> None:
        items = self._index.export_items()
        self._index = self._create()
        self._deleted = 0
        if items:
            ids = [item[0] for item in items]
            vecs = np.stack([np.asarray(item[1], dtype=np.float32) for item in items])
            self._index.insert_batch(ids, vecs)

    def search(self, vector: NDArray[np.float32], k: int) -> list[Neighbor]:
        live = len(self._index)
        if k <= 0 or live == 0:
            return []
        want = min(k, live)
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self._dim)
        fetch = min(k + self._deleted, live + self._deleted)
        ef = max(self._params.ef_search, fetch)
        found = self._index.search(query, fetch, ef_search=ef)
        if len(found) < want:  # deleted nodes crowded the candidate list: search everything
            fetch = live + self._deleted
            found = self._index.search(query, fetch, ef_search=max(ef, fetch))
        return [Neighbor(int(key), 1.0 - float(dist)) for key, dist, _ in found[:k]]

    def contains(self, key: int) -> bool:
        return int(key) in self._live

    def __len__(self) -> int:
        return len(self._index)

    def clear(self) -> None:
        self._index = self._create()
        self._deleted = 0
        self._live.clear()

    def save(self, path: Path) -> None:
        items = self._index.export_items()
        keys = np.array([int(item[0]) for item in items], dtype=np.uint64)
        vectors = (
            np.stack([np.asarray(item[1], dtype=np.float32) for item in items])
            if items
            else np.zeros((0, self._dim), np.float32)
        )
        with open(path, "wb") as fh:
            np.savez(fh, keys=keys, vectors=vectors)

    def memory_bytes(self) -> int:
        """An estimate: float32 vectors, 2*m neighbour links on layer 0, and string ids."""
        n = len(self._index) + self._deleted
        return n * (self._dim * 4 + 2 * self._params.m * 8 + 48)


__all__ = ["RuvectorIndex", "available"]
