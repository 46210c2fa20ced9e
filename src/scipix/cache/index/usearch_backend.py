"""The default backend: usearch HNSW (f32/f16/i8 storage, removal, save/load, memory-mapped view)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from usearch.index import Index

from scipix.cache.index.base import Dtype, HnswParams, Neighbor
from scipix.errors import CacheError

_DTYPES: dict[str, Dtype] = {"f32": "f32", "f16": "f16", "i8": "i8"}


class UsearchIndex:
    """A usearch ``Index`` with the cosine metric behind :class:`VectorIndex`.

    A view (:meth:`view`) maps the saved file read-only; usearch would crash on a write to it,
    so :meth:`add` and :meth:`remove` refuse.
    """

    backend = "usearch"

    def __init__(
        self,
        dim: int,
        dtype: Dtype = "f32",
        params: HnswParams | None = None,
        *,
        _index: Index | None = None,
    ) -> None:
        p = params or HnswParams()
        self._params = p
        self._view = False
        if _index is not None:
            self._index = _index
        else:
            self._index = Index(
                ndim=dim,
                metric="cos",
                dtype=dtype,
                connectivity=p.m,
                expansion_add=p.ef_construction,
                expansion_search=p.ef_search,
            )
        self._dim = dim
        self._dtype = dtype

    @classmethod
    def load(
        cls, path: Path, params: HnswParams | None = None, *, view: bool = False
    ) -> UsearchIndex:
        """Load (or, with ``view``, memory-map) an index saved by :meth:`save`."""
        try:
            index = Index.restore(os.fspath(path), view=view)
        except (ValueError, RuntimeError, OSError) as exc:
            raise CacheError(f"cannot load vector index {path}: {exc}") from None
        if index is None:
            raise CacheError(f"cannot load vector index {path}: not a usearch index")
        dtype = _DTYPES.get(str(index.dtype).rsplit(".", 1)[-1].lower())
        if dtype is None:
            raise CacheError(f"vector index {path} has unsupported element type {index.dtype}")
        if params is not None:
            index.expansion_search = params.ef_search  # type: ignore[misc]  # setter exists
        out = cls(int(index.ndim), dtype, params, _index=index)
        out._view = view
        return out

    @classmethod
    def view(cls, path: Path, params: HnswParams | None = None) -> UsearchIndex:
        return cls.load(path, params, view=True)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def dtype(self) -> Dtype:
        return self._dtype

    @property
    def read_only(self) -> bool:
        return self._view

    def _writable(self) -> None:
        if self._view:
            raise CacheError("the vector index is a read-only memory-mapped view")

    def add(self, keys: NDArray[np.uint64], vectors: NDArray[np.float32]) -> None:
        self._writable()
        if len(keys) == 0:
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(keys), self._dim)
        # one thread: usearch's multi-threaded batch insert now and then leaves a node that
        # search cannot reach (in a fresh process, 4 of 80 batches of 500 lost a vector's
        # own match; none with one thread), and it makes the graph reproducible; batch
        # inserts (rebuilds) run x0.55-0.8 as fast on 2 cores, single ones are unchanged
        self._index.add(np.asarray(keys, dtype=np.uint64), vecs, threads=1)

    def remove(self, keys: NDArray[np.uint64]) -> int:
        self._writable()
        if len(keys) == 0:
            return 0
        removed = self._index.remove(np.asarray(keys, dtype=np.uint64))
        return int(np.sum(removed))

    def search(self, vector: NDArray[np.float32], k: int) -> list[Neighbor]:
        if k <= 0 or len(self._index) == 0:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(self._dim)
        matches = self._index.search(query, count=k)
        return [
            Neighbor(int(key), 1.0 - float(dist))
            for key, dist in zip(matches.keys, matches.distances, strict=True)
        ]

    def contains(self, key: int) -> bool:
        return bool(self._index.contains(int(key)))

    def __len__(self) -> int:
        return len(self._index)

    def clear(self) -> None:
        self._writable()
        self._index.clear()  # type: ignore[no-untyped-call]

    def save(self, path: Path) -> None:
        self._index.save(os.fspath(path))

    def memory_bytes(self) -> int:
        """Bytes of the index structure (vectors and graph), as usearch would serialise it."""
        return int(self._index.serialized_length)

    def allocated_bytes(self) -> int:
        """Bytes usearch has allocated, reserved capacity included."""
        return int(self._index.memory_usage)


__all__ = ["UsearchIndex"]
