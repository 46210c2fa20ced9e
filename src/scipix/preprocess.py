"""Image preprocessing: polarity, background flattening, binarisation, crop to ink.

Input is the 8-bit grayscale image from :mod:`scipix.io`; output is a boolean ink mask
cropped to the ink with the offset of the crop in the original image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class PreprocessConfig:
    """Settings of the preprocessing stage."""

    flatten_background: bool = True
    min_ink_pixels: int = 4
    pad: int = 0


@dataclass(frozen=True, slots=True)
class Preprocessed:
    """A binarised, ink-cropped image. ``ink`` is True where there is ink."""

    ink: NDArray[np.bool_]
    gray: NDArray[np.uint8]
    offset_x: int
    offset_y: int
    inverted: bool

    @property
    def is_blank(self) -> bool:
        return self.ink.size == 0 or not bool(self.ink.any())


class Preprocessor:
    """Turns a grayscale image into a cropped ink mask."""

    def __init__(self, config: PreprocessConfig | None = None) -> None:
        self.config = config or PreprocessConfig()

    def __call__(self, gray: NDArray[np.uint8]) -> Preprocessed:
        g = np.asarray(gray, dtype=np.uint8)
        inverted = _is_dark_background(g)
        if inverted:
            g = 255 - g
        if self.config.flatten_background and min(g.shape) >= 16:
            g = _flatten(g)
        ink = _binarize(g)
        if int(ink.sum()) < self.config.min_ink_pixels:
            empty = np.zeros((0, 0), dtype=bool)
            return Preprocessed(empty, np.zeros((0, 0), np.uint8), 0, 0, inverted)
        ys, xs = np.nonzero(ink)
        y0, y1 = int(ys.min()), int(ys.max()) + 1
        x0, x1 = int(xs.min()), int(xs.max()) + 1
        return Preprocessed(
            ink=ink[y0:y1, x0:x1],
            gray=g[y0:y1, x0:x1],
            offset_x=x0,
            offset_y=y0,
            inverted=inverted,
        )


def _is_dark_background(g: NDArray[np.uint8]) -> bool:
    """Dark mode: the border (mostly background) is darker than mid-grey."""
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    return float(np.median(border)) < 110.0 and float(np.median(g)) < 128.0


def _flatten(g: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Divide out a smooth background (uneven lighting, tinted paper) when there is one."""
    lo, hi = np.percentile(g, [5, 95])
    if hi - lo < 8:
        return g
    h, w = g.shape
    k = max(15, (min(h, w) // 4) | 1)
    background = cv2.morphologyEx(
        g,
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_RECT, (min(k, w | 1), min(k, h | 1))),
    )
    if float(background.min()) > 230:  # white paper: nothing to flatten
        return g
    flat = cv2.divide(g, np.maximum(background, 1), scale=255)
    return np.asarray(flat, dtype=np.uint8)


def _binarize(g: NDArray[np.uint8]) -> NDArray[np.bool_]:
    if int(g.max()) - int(g.min()) < 24:
        return np.zeros(g.shape, dtype=bool)
    t, _ = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # anti-aliased renders: Otsu on mostly-white images sits high; cap it near mid-grey
    # bilevel images: Otsu puts the threshold on the ink level itself; keep that level as ink
    t = min(max(float(t), float(g.min()) + 1.0), 200.0)
    return np.asarray(g < t, dtype=bool)


__all__ = ["PreprocessConfig", "Preprocessed", "Preprocessor"]
