"""The small protocol every vector index backend implements, and what they return."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

Dtype = Literal["f32", "f16", "i8"]


@dataclass(frozen=True, slots=True)
class HnswParams:
    """HNSW build and search parameters (``cache.hnsw`` in the config)."""

    m: int = 32
    ef_construction: int = 200
    ef_search: int = 64
    capacity: int = 100_000


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One search result: the entry key and its cosine similarity to the query."""

    key: int
    similarity: float


@runtime_checkable
class VectorIndex(Protocol):
    """A cosine-similarity index of unit vectors keyed by non-negative integers.

    ``add`` replaces nothing: adding a key that is present is an error of the caller (keys are
    SQLite row ids and never reused). ``search`` returns at most ``k`` live neighbours, best
    first. ``save`` writes the whole index to one file atomically enough for a rename.
    """

    @property
    def dim(self) -> int: ...

    @property
    def dtype(self) -> Dtype: ...

    @property
    def read_only(self) -> bool: ...

    def add(self, keys: NDArray[np.uint64], vectors: NDArray[np.float32]) -> None: ...

    def remove(self, keys: NDArray[np.uint64]) -> int: ...

    def search(self, vector: NDArray[np.float32], k: int) -> list[Neighbor]: ...

    def contains(self, key: int) -> bool: ...

    def __len__(self) -> int: ...

    def clear(self) -> None: ...

    def save(self, path: Path) -> None: ...

    def memory_bytes(self) -> int: ...


__all__ = ["Dtype", "HnswParams", "Neighbor", "VectorIndex"]
