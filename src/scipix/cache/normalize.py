"""The cache's own canonical form of a formula image: binarised ink, cropped, at a fixed scale.

Kept apart from the recogniser's preprocessing on purpose: a change there must not silently
change cache keys. Two renderings of the same formula (PNG or JPEG, other padding, a modest
rescale, other brightness) give the same ink image up to edge pixels; the exact key hashes a
coarse canonical form of it, and :mod:`scipix.cache.verify` compares the finer ink images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.io import DecodedImage

# The ink image kept for verification is at most this tall / wide (area-downscaled beyond).
INK_MAX_HEIGHT = 128
INK_MAX_WIDTH = 2048
# The exact key hashes the ink at this height, coarsely quantised.
KEY_HEIGHT = 16
KEY_WIDTH_STEP = 4
# Below this contrast (max - min grey) an image is blank.
MIN_CONTRAST = 24
# Coverage below this is treated as paper (JPEG haze, scanner noise).
COVERAGE_FLOOR = 0.1
# Components are counted on coverage at least this (of 255): low enough that hairlines of
# thin fonts (Computer Modern) stay connected after JPEG or a rescale.
COMPONENT_LEVEL = 64
KEY_VERSION = b"scipix-ink-v1"


@dataclass(frozen=True, slots=True)
class NormalizedInk:
    """One formula image reduced to its ink.

    ``ink`` is the ink coverage (0 = paper, 255 = full ink) cropped to the ink with a one-pixel
    margin, at native resolution but area-downscaled to at most ``INK_MAX_HEIGHT`` x
    ``INK_MAX_WIDTH``. Coverage, unlike a binary mask, keeps the amount of ink when an image
    is rescaled, which lets verification tell thick strokes from thin ones. ``bbox`` is the
    ink's box in the source image (x, y, width, height) and ``scale`` the factor from source
    pixels to ``ink`` pixels; ``components`` counts 8-connected ink components and
    ``symbol_px`` is their median size, a measure of the resolution; ``key`` is the exact-tier
    key.
    """

    ink: NDArray[np.uint8]
    bbox: tuple[int, int, int, int]
    scale: float
    components: int
    symbol_px: float
    key: str

    @property
    def height(self) -> int:
        return int(self.ink.shape[0])

    @property
    def width(self) -> int:
        return int(self.ink.shape[1])

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def coverage(self) -> NDArray[np.float32]:
        """The ink as float32 coverage in [0, 1]."""
        return self.ink.astype(np.float32) / 255.0

    def mask(self) -> NDArray[np.uint8]:
        """The ink as a 0/1 mask (coverage at least one half)."""
        return (self.ink >= 128).astype(np.uint8)


def binarize(gray: NDArray[np.uint8]) -> tuple[NDArray[np.bool_], NDArray[np.float32]] | None:
    """Otsu-binarise ``gray``: the ink mask (True = ink) and the ink coverage in [0, 1].

    None for a blank image. The background is the class that holds most of the image border,
    so light ink on a dark background works as well as dark on light. Coverage is the grey level
    rescaled between the paper level and the ink level, so brightness and contrast changes
    give the same coverage.
    """
    g = np.ascontiguousarray(gray, dtype=np.uint8)
    if g.size == 0 or int(g.max()) - int(g.min()) < MIN_CONTRAST:
        return None
    t, _ = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    dark = g <= t
    border = np.concatenate([dark[0, :], dark[-1, :], dark[:, 0], dark[:, -1]])
    dark_border = float(border.mean())
    light_ink = dark_border > 0.5 or (dark_border == 0.5 and float(dark.mean()) > 0.5)
    ink: NDArray[np.bool_] = ~dark if light_ink else dark
    if not ink.any() or ink.all():
        return None
    paper_level = float(np.median(g[~ink]))
    ink_px = g[ink]
    ink_level = float(np.percentile(ink_px, 90 if light_ink else 10))
    if abs(paper_level - ink_level) < MIN_CONTRAST:
        return None
    cov = (g.astype(np.float32) - paper_level) / (ink_level - paper_level)
    cov = np.clip(cov, 0.0, 1.0)
    cov[cov < COVERAGE_FLOOR] = 0.0
    return ink, cov


def _crop_box(ink: NDArray[np.bool_]) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    return x0, y0, x1 - x0, y1 - y0


def resize_coverage(ink: NDArray[np.float32], height: int, width: int) -> NDArray[np.float32]:
    """Area-resample a coverage image to ``height`` x ``width`` (linear when enlarging)."""
    if ink.shape == (height, width):
        return ink
    interp = (
        cv2.INTER_AREA if height <= ink.shape[0] and width <= ink.shape[1] else cv2.INTER_LINEAR
    )
    out = cv2.resize(ink, (width, height), interpolation=interp)
    return np.asarray(out, dtype=np.float32).reshape(height, width)


def _limit(cov: NDArray[np.float32]) -> tuple[NDArray[np.float32], float]:
    h, w = cov.shape
    scale = min(1.0, INK_MAX_HEIGHT / h, INK_MAX_WIDTH / w)
    if scale >= 1.0:
        return cov, 1.0
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    return resize_coverage(cov, nh, nw), nh / h


def exact_key(ink: NDArray[np.uint8]) -> str:
    """SHA-256 of a coarse canonical form: height ``KEY_HEIGHT``, width rounded, 2 levels."""
    h, w = ink.shape
    kw = max(KEY_WIDTH_STEP, round(KEY_HEIGHT * w / h / KEY_WIDTH_STEP) * KEY_WIDTH_STEP)
    small = resize_coverage(ink.astype(np.float32) / 255.0, KEY_HEIGHT, kw)
    bits = np.packbits(small >= 0.5)
    digest = hashlib.sha256(KEY_VERSION)
    digest.update(np.array([KEY_HEIGHT, kw], dtype="<u4").tobytes())
    digest.update(bits.tobytes())
    return digest.hexdigest()


def component_stats(mask: NDArray[np.uint8]) -> tuple[int, float]:
    """The number of 8-connected components of a 0/1 mask and their median size.

    A component's size is the longer side of its box, so dots and rules (``i``, ``=``) do not
    make a formula look smaller than its letters.
    """
    n, _, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask, dtype=np.uint8), connectivity=8
    )
    if n <= 1:
        return 0, 0.0
    sizes = np.maximum(stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH])
    return int(n) - 1, float(np.median(sizes))


def _from_coverage(
    cov: NDArray[np.float32], bbox: tuple[int, int, int, int], scale: float
) -> NormalizedInk:
    ink = np.ascontiguousarray(np.clip(cov * 255.0 + 0.5, 0, 255).astype(np.uint8))
    count, symbol_px = component_stats((ink >= COMPONENT_LEVEL).astype(np.uint8))
    return NormalizedInk(
        ink=ink, bbox=bbox, scale=scale, components=count, symbol_px=symbol_px, key=exact_key(ink)
    )


def normalize_gray(gray: NDArray[np.uint8]) -> NormalizedInk | None:
    """The canonical ink of a grayscale image, or None when the image holds no ink."""
    found = binarize(gray)
    if found is None:
        return None
    mask, cov = found
    x, y, w, h = _crop_box(mask)
    # One pixel of margin keeps the anti-aliased edge of the outermost strokes.
    y0, x0 = max(0, y - 1), max(0, x - 1)
    y1, x1 = min(cov.shape[0], y + h + 1), min(cov.shape[1], x + w + 1)
    limited, scale = _limit(np.ascontiguousarray(cov[y0:y1, x0:x1]))
    return _from_coverage(limited, (x, y, w, h), scale)


def normalize(image: DecodedImage) -> NormalizedInk | None:
    """The canonical ink of a decoded image, or None when it is blank."""
    return normalize_gray(image.gray)


def ink_from_array(
    ink: NDArray[np.uint8], bbox: tuple[int, int, int, int] = (0, 0, 0, 0), scale: float = 1.0
) -> NormalizedInk:
    """Rebuild a :class:`NormalizedInk` from a stored coverage image."""
    return _from_coverage(ink.astype(np.float32) / 255.0, bbox, scale)


__all__ = [
    "INK_MAX_HEIGHT",
    "KEY_HEIGHT",
    "NormalizedInk",
    "binarize",
    "component_stats",
    "exact_key",
    "ink_from_array",
    "normalize",
    "normalize_gray",
    "resize_coverage",
]
