"""Deterministic embeddings: formula images (from their normalised ink) and LaTeX strings.

Neither needs a model. The image embedding is a coarse picture of the ink plus its projection
profiles and aspect ratio; it finds candidates, and :mod:`scipix.cache.verify` decides. The
LaTeX embedding hashes character n-grams and LaTeX command tokens.
"""

from __future__ import annotations

import math
import re
import zlib
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.cache.normalize import NormalizedInk, resize_coverage

EMBED_VERSION = 1
BASE_DIM = 512
_GRID = (12, 32)  # rows, columns: 384 values
_COL_BINS = 64
_ROW_BINS = 32
_ASPECT_BINS = 32  # 384 + 64 + 32 + 32 = 512
_ASPECT_RANGE = (-1.0, 4.5)  # log aspect ratio covered by the bumps
_WEIGHTS = (1.0, 0.5, 0.4, 0.6)
_NGRAMS = (2, 3, 4)
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z0-9]|[^\sA-Za-z0-9]")
_SINGLE_GROUP = re.compile(r"([_^])\{\s*(\\[A-Za-z]+|[A-Za-z0-9])\s*\}")


def _unit(v: NDArray[np.float32]) -> NDArray[np.float32]:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _block(v: NDArray[np.float32], weight: float) -> NDArray[np.float32]:
    centred = v - float(v.mean())
    return _unit(centred.astype(np.float32)) * np.float32(weight)


def _profile(values: NDArray[np.float32], bins: int) -> NDArray[np.float32]:
    src = values.reshape(1, -1).astype(np.float32)
    return resize_coverage(src, 1, bins).reshape(-1)


@lru_cache(maxsize=8)
def _projection(dim: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(20240611 + dim)
    m = rng.standard_normal((BASE_DIM, dim)).astype(np.float32)
    return m / np.float32(math.sqrt(dim))


def image_embedding(ink: NormalizedInk, dim: int = BASE_DIM) -> NDArray[np.float32]:
    """A unit vector describing the ink image; ``dim`` other than 512 uses a fixed projection."""
    cov = ink.coverage()
    # Blur by about half a grid cell so a one-pixel change of the crop barely moves the grid.
    sigma = max(0.5, 0.5 * cov.shape[0] / _GRID[0])
    smooth = np.asarray(cv2.GaussianBlur(cov, (0, 0), sigma), np.float32)
    grid = resize_coverage(smooth, _GRID[0], _GRID[1]).reshape(-1)
    cols = _profile(cov.sum(axis=0) / max(1, cov.shape[0]), _COL_BINS)
    rows = _profile(cov.sum(axis=1) / max(1, cov.shape[1]), _ROW_BINS)
    lo, hi = _ASPECT_RANGE
    centres = np.linspace(lo, hi, _ASPECT_BINS, dtype=np.float32)
    width = (hi - lo) / (_ASPECT_BINS - 1)
    aspect = np.exp(-0.5 * ((math.log(ink.aspect) - centres) / width) ** 2).astype(np.float32)
    parts = (grid, cols, rows, aspect)
    vec = np.concatenate([_block(p, w) for p, w in zip(parts, _WEIGHTS, strict=True)])
    if dim != BASE_DIM:
        vec = vec @ _projection(dim)
    return _unit(vec.astype(np.float32))


def normalize_latex(latex: str) -> str:
    """Whitespace-insensitive form of a LaTeX string used for the LaTeX embedding."""
    return " ".join(_TOKEN.findall(_SINGLE_GROUP.sub(r"\1\2", latex)))


def latex_embedding(latex: str, dim: int = BASE_DIM) -> NDArray[np.float32]:
    """A unit vector of hashed character n-grams and command tokens (signed hashing)."""
    vec = np.zeros(dim, np.float32)
    tokens = _TOKEN.findall(_SINGLE_GROUP.sub(r"\1\2", latex))
    text = "".join(tokens)
    features: list[str] = [f"t:{t}" for t in tokens]
    padded = f"^{text}$"
    for n in _NGRAMS:
        features.extend(f"{n}:{padded[i : i + n]}" for i in range(max(0, len(padded) - n + 1)))
    for feature in features:
        h = zlib.crc32(feature.encode("utf-8"))
        vec[h % dim] += 1.0 if (h >> 31) & 1 else -1.0
    return _unit(vec)


__all__ = [
    "BASE_DIM",
    "EMBED_VERSION",
    "image_embedding",
    "latex_embedding",
    "normalize_latex",
]
