"""Segmentation: an ink mask -> connected components as fixed-size crops plus box features.

This is the symbol stage of the recognizer: the same function prepares training data and
inference input, so the model sees identical features in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

CROP = 24
MAX_COMPONENTS = 256
N_FEATURES = 10


@dataclass(frozen=True, slots=True)
class Components:
    """Connected components of a formula, sorted left to right."""

    crops: NDArray[np.uint8]  # (n, CROP, CROP) in {0, 1}
    boxes: NDArray[np.int32]  # (n, 4) x0, y0, x1, y1 in pixels of the ink crop
    features: NDArray[np.float32]  # (n, N_FEATURES)
    areas: NDArray[np.float32]  # (n,) ink pixels of each component
    scale: float  # reference symbol height in pixels

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


def segment(ink: NDArray[np.bool_]) -> Components:
    """Split an ink mask into components (8-connected) and describe each one."""
    mask = np.ascontiguousarray(ink, dtype=np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return _empty()
    st = stats[1:]
    order = np.lexsort((st[:, cv2.CC_STAT_TOP], st[:, cv2.CC_STAT_LEFT]))
    if order.size > MAX_COMPONENTS:
        keep = np.argsort(-st[:, cv2.CC_STAT_AREA], kind="stable")[:MAX_COMPONENTS]
        order = order[np.isin(order, keep)]
    crops = np.zeros((order.size, CROP, CROP), dtype=np.uint8)
    boxes = np.zeros((order.size, 4), dtype=np.int32)
    areas = np.zeros(order.size, dtype=np.float32)
    for k, idx in enumerate(order):
        x, y, w, h, area = (int(v) for v in st[idx])
        sub = (labels[y : y + h, x : x + w] == idx + 1).astype(np.float32)
        crops[k] = _fit(sub)
        boxes[k] = (x, y, x + w, y + h)
        areas[k] = area
    scale = reference_scale(boxes)
    return Components(crops, boxes, box_features(boxes, areas, scale), areas, scale)


def reference_scale(boxes: NDArray[np.int32]) -> float:
    """A robust symbol height: the median height of components that are not flat rules."""
    h = (boxes[:, 3] - boxes[:, 1]).astype(np.float32)
    w = (boxes[:, 2] - boxes[:, 0]).astype(np.float32)
    tall = h[(h >= 0.5 * w) & (h >= 2)]
    base = tall if tall.size else h
    return max(float(np.median(base)), 2.0)


def box_features(
    boxes: NDArray[np.int32], areas: NDArray[np.float32], scale: float
) -> NDArray[np.float32]:
    """Scale-free geometry of each component relative to the formula."""
    b = boxes.astype(np.float32)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    cy = 0.5 * (b[:, 1] + b[:, 3])
    mid = float(np.median(cy))
    x_left = float(b[:, 0].min())
    f = np.stack(
        [
            (b[:, 0] - x_left) / scale,
            (b[:, 2] - x_left) / scale,
            (b[:, 1] - mid) / scale,
            (b[:, 3] - mid) / scale,
            w / scale,
            h / scale,
            np.log((w + 1.0) / (h + 1.0)),
            areas / np.maximum(w * h, 1.0),
            np.log(w + 1.0) / 4.0,
            np.log(h + 1.0) / 4.0,
        ],
        axis=1,
    )
    return np.asarray(f, dtype=np.float32)


def _fit(sub: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Scale a component mask to fit CROP x CROP keeping its aspect ratio, centred."""
    h, w = sub.shape
    s = (CROP - 2) / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    small = cv2.resize(sub, (nw, nh), interpolation=interp)
    out = np.zeros((CROP, CROP), dtype=np.uint8)
    y0, x0 = (CROP - nh) // 2, (CROP - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small >= 0.35
    return out


def _empty() -> Components:
    return Components(
        np.zeros((0, CROP, CROP), np.uint8),
        np.zeros((0, 4), np.int32),
        np.zeros((0, N_FEATURES), np.float32),
        np.zeros(0, np.float32),
        1.0,
    )
