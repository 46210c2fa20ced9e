"""Render digital-ink strokes (``/v3/strokes``) to a grayscale image for the recognizer.

Coordinates are screen pixels of any origin and scale: the drawing is moved to the origin,
scaled so that its longer side is between ``MIN_SIDE`` and ``MAX_SIDE`` pixels, padded, and drawn
as black antialiased polylines (OpenCV ``LINE_AA`` with sub-pixel precision) on white.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.server.errors import ApiError
from scipix.server.models import StrokeData

MIN_SIDE = 96
MAX_SIDE = 1600
MAX_POINTS = 200_000
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_SCALE = 1 << _SHIFT


def validate_strokes(data: StrokeData) -> list[NDArray[np.float64]]:
    """Each stroke as an (n, 2) array; raises the Mathpix strokes errors."""
    if len(data.x) != len(data.y):
        raise ApiError(
            "strokes_syntax_error",
            f"x has {len(data.x)} strokes and y has {len(data.y)}",
        )
    strokes: list[NDArray[np.float64]] = []
    total = 0
    for i, (xs, ys) in enumerate(zip(data.x, data.y, strict=True)):
        if len(xs) != len(ys):
            raise ApiError(
                "strokes_syntax_error",
                f"stroke {i}: x has {len(xs)} points and y has {len(ys)}",
            )
        if not xs:
            continue
        if not all(math.isfinite(v) for v in (*xs, *ys)):
            raise ApiError("strokes_syntax_error", f"stroke {i}: coordinates must be finite")
        total += len(xs)
        if total > MAX_POINTS:
            raise ApiError("strokes_syntax_error", f"more than {MAX_POINTS} points")
        strokes.append(np.column_stack([np.asarray(xs, float), np.asarray(ys, float)]))
    if not strokes:
        raise ApiError("strokes_no_content", "the strokes hold no points")
    return strokes


def render_strokes(strokes: list[NDArray[np.float64]]) -> NDArray[np.uint8]:
    """Draw validated strokes; returns an 8-bit grayscale image (black ink on white)."""
    points = np.concatenate(strokes)
    lo = points.min(axis=0)
    extent = float(max(np.ptp(points[:, 0]), np.ptp(points[:, 1]), 1e-9))
    scale = 1.0
    if extent > MAX_SIDE:
        scale = MAX_SIDE / extent
    elif extent < MIN_SIDE:
        scale = MIN_SIDE / extent if extent > 1e-6 else 1.0
    span = max(extent * scale, 1.0)
    thickness = int(min(12, max(2, round(span / 90))))
    pad = thickness * 2 + int(span * 0.08) + 4
    size = (points - lo) * scale
    width = math.ceil(float(size[:, 0].max())) + 2 * pad + 1
    height = math.ceil(float(size[:, 1].max())) + 2 * pad + 1
    canvas = np.full((height, width), 255, dtype=np.uint8)
    for stroke in strokes:
        xy = np.rint(((stroke - lo) * scale + pad) * _SCALE).astype(np.int32)
        if len(xy) == 1 or not np.any(xy != xy[0]):
            centre = (int(xy[0, 0]), int(xy[0, 1]))
            cv2.circle(canvas, centre, (thickness // 2 + 1) * _SCALE, 0, -1, cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(canvas, [xy.reshape(-1, 1, 2)], False, 0, thickness, cv2.LINE_AA, _SHIFT)
    return canvas


__all__ = ["MAX_POINTS", "render_strokes", "validate_strokes"]
