"""A memory-mapped, read-only base index plus an in-memory delta and a set of removed keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from scipix.cache.index.base import Dtype, Neighbor, VectorIndex
from scipix.errors import CacheError


class LayeredIndex:
    """Serve a saved index from a memory-mapped view and take changes beside it.

    New vectors go to ``delta``; removals of vectors in the view are remembered and filtered
    out of its results. The view is never written (usearch cannot write to one).
    """

    def __init__(self, base: VectorIndex, delta: VectorIndex) -> None:
        self._base = base
        self._delta = delta
        self._removed: set[int] = set()
        self._base_cleared = False

    @property
    def dim(self) -> int:
        return self._base.dim

    @property
    def dtype(self) -> Dtype:
        return self._base.dtype

    @property
    def read_only(self) -> bool:
        return False

    def _in_base(self, key: int) -> bool:
        return not self._base_cleared and key not in self._removed and self._base.contains(key)

    def add(self, keys: NDArray[np.uint64], vectors: NDArray[np.float32]) -> None:
        self._delta.add(keys, vectors)

    def remove(self, keys: NDArray[np.uint64]) -> int:
        removed = 0
        for key in (int(k) for k in keys):
            if self._in_base(key):
                self._removed.add(key)
                removed += 1
        return removed + self._delta.remove(keys)

    def search(self, vector: NDArray[np.float32], k: int) -> list[Neighbor]:
        found = list(self._delta.search(vector, k))
        if not self._base_cleared:
            extra = len(self._removed)
            found.extend(
                n for n in self._base.search(vector, k + extra) if n.key not in self._removed
            )
        found.sort(key=lambda n: -n.similarity)
        return found[:k]

    def contains(self, key: int) -> bool:
        return self._in_base(int(key)) or self._delta.contains(int(key))

    def __len__(self) -> int:
        base = 0 if self._base_cleared else len(self._base) - len(self._removed)
        return base + len(self._delta)

    def clear(self) -> None:
        self._base_cleared = True
        self._removed.clear()
        self._delta.clear()

    def save(self, path: Path) -> None:
        raise CacheError("a memory-mapped index is not saved; the cache rebuilds the file instead")

    def memory_bytes(self) -> int:
        """Bytes held in process memory: the delta (the view is mapped from the file)."""
        return self._delta.memory_bytes()

    def mapped_bytes(self) -> int:
        return 0 if self._base_cleared else self._base.memory_bytes()


__all__ = ["LayeredIndex"]
