"""Verification: is a cached ink image the same formula as the query's?

Embeddings say two images look alike; they cannot tell ``x^2`` from ``x^3``. Before any cached
candidate (vector or exact-key) is served, the two ink-coverage images are compared:

1. geometry: the same aspect ratio (from the ink boxes and from the second moments) and about
   the same number of connected components;
2. ink mass: coverage is conserved by rescaling, so the total ink, corrected for scale, must
   agree; a thinner glyph stretched into the same box (``i`` vs a squashed ``j``) fails;
3. local difference: the larger image is area-resampled into the smaller one's frame and
   aligned on the ink centroid with sub-pixel accuracy; both are lightly blurred, and the
   absolute difference is averaged over windows of about a third of a symbol (the median
   size of the connected components). Each window may move by up to a pixel to absorb resampling
   drift; one window over the limit rejects, so a one-symbol change anywhere in a long
   formula is still caught.

Two copies at the same scale (re-encoded, re-padded, brightness changed) share a pixel grid and
are held to a tight limit. A copy at another scale carries resampling noise of its own, so it is
compared more tolerantly, and only when its symbols are large enough (``MIN_SYMBOL_PX``) for the
noise to stay well below the difference a changed symbol makes; smaller rescaled images miss.
The limits were set on rendered formulas (mathtext, DejaVu and Computer Modern fonts) and 62
one-symbol near-miss pairs at 100-300 dpi, each in plain, JPEG and rescaled copies
(``tests/cache``): same-scale copies stay below 0.045 (limit 0.06; one JPEG copy of a thin
Computer Modern formula at 200 dpi reaches 0.075 and misses); rescaled copies with symbols of
12-15 px stay below 0.06 (limit 0.075) and larger ones below 0.08 (limit 0.095; near-misses
start at 0.115). The closest near-miss seen at 150 dpi and up was 1.26 times its limit, at
200 dpi and up 1.87 times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scipix.cache.normalize import NormalizedInk

# Geometry: widths at a common height may differ by this many pixels plus this fraction.
ASPECT_SLACK_PX = 2.0
ASPECT_SLACK_FRAC = 0.05
# Moment-based scales in x and y may differ by this factor (log).
MOMENT_ASPECT_LOG = 0.05
# Component counts may differ by one or this fraction (glyphs touch or hairlines break).
COMPONENT_SLACK_FRAC = 0.15
# Scales within this factor (log) of each other count as the same scale.
SAME_SCALE_LOG = 0.02
# A rescaled candidate is only considered when the median symbol is at least this large.
MIN_SYMBOL_PX = 12.0
# Ink mass corrected for scale may differ by this factor (log): same scale / rescaled.
MASS_LOG_SAME = 0.03
MASS_LOG_SCALED = 0.05
# Local difference limits (mean absolute coverage difference in a window).
WINDOW_DIFF_SAME = 0.06
WINDOW_DIFF_SCALED = 0.075
# ... and from this symbol size on, where a changed symbol makes a larger difference:
SYMBOL_PX_LARGE = 15.0
WINDOW_DIFF_SCALED_LARGE = 0.095
# Blur (Gaussian sigma, px) before differencing; extra blur tried on the crisper image.
BLUR_SIGMA = 0.8
EXTRA_BLUR: tuple[float, ...] = (0.5, 0.8)
# A window is a square of side WINDOW_SYMBOL_FRAC * median symbol height, at least WINDOW_MIN.
WINDOW_SYMBOL_FRAC = 0.3
WINDOW_MIN = 4
MARGIN = 3
_INT_STEPS = (-1.0, 0.0, 1.0)
_HALF_STEPS = (-1.0, -0.5, 0.0, 0.5, 1.0)
SHIFTS_SAME: tuple[tuple[float, float], ...] = tuple(
    (dy, dx) for dy in _INT_STEPS for dx in _INT_STEPS
)
SHIFTS_SCALED: tuple[tuple[float, float], ...] = tuple(
    (dy, dx) for dy in _HALF_STEPS for dx in _HALF_STEPS
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one verification; ``reason`` names the failed check ("" when accepted)."""

    accepted: bool
    reason: str = ""
    window_diff: float = 0.0
    mass_log: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True, slots=True)
class _Moments:
    mass: float
    cx: float
    cy: float
    sx: float
    sy: float


def _moments(cov: NDArray[np.float32]) -> _Moments:
    m = cv2.moments(cov)
    mass = float(m["m00"])
    if mass <= 0:
        return _Moments(0.0, 0.0, 0.0, 1.0, 1.0)
    return _Moments(
        mass,
        float(m["m10"]) / mass,
        float(m["m01"]) / mass,
        math.sqrt(max(float(m["mu20"]) / mass, 1e-6)),
        math.sqrt(max(float(m["mu02"]) / mass, 1e-6)),
    )


def _into_frame(
    cov: NDArray[np.float32],
    mom: _Moments,
    scale: tuple[float, float],
    target: _Moments,
    shape: tuple[int, int],
) -> NDArray[np.float32]:
    """Resample ``cov`` by ``scale`` (x, y) and put its centroid on ``target``'s centroid."""
    h, w = cov.shape
    nh, nw = max(1, round(h * scale[1])), max(1, round(w * scale[0]))
    interp = cv2.INTER_AREA if nh <= h and nw <= w else cv2.INTER_LINEAR
    resized = np.asarray(cv2.resize(cov, (nw, nh), interpolation=interp), np.float32)
    fx, fy = nw / w, nh / h
    # What is left of the scale after the whole-pixel resize, applied with the shift.
    rx, ry = scale[0] / fx, scale[1] / fy
    cx = (mom.cx + 0.5) * fx - 0.5
    cy = (mom.cy + 0.5) * fy - 0.5
    matrix = np.array(
        [[rx, 0.0, target.cx + MARGIN - rx * cx], [0.0, ry, target.cy + MARGIN - ry * cy]]
    )
    out = cv2.warpAffine(
        resized.reshape(nh, nw), matrix, (shape[1], shape[0]), flags=cv2.INTER_LINEAR
    )
    return np.asarray(out, np.float32)


def _shift(img: NDArray[np.float32], dy: float, dx: float) -> NDArray[np.float32]:
    if dy == 0 and dx == 0:
        return img
    matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    out = cv2.warpAffine(img, matrix, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR)
    return np.asarray(out, np.float32)


def _blur(img: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.float32)


def _match_blur(
    a: NDArray[np.float32], b: NDArray[np.float32], match: bool
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Blur both; when ``match``, blur the crisper one more if that makes them agree better.

    Resampling kernels differ (bicubic, area, a renderer's own anti-aliasing), so a rescaled
    copy of a formula can be crisper or softer than the original; that is not content.
    """
    base_a, base_b = _blur(a, BLUR_SIGMA), _blur(b, BLUR_SIGMA)
    if not match:
        return base_a, base_b
    best = (base_a, base_b)
    best_err = float(np.abs(base_a - base_b).sum())
    for extra in EXTRA_BLUR:
        sigma = math.sqrt(BLUR_SIGMA**2 + extra**2)
        for pair in ((_blur(a, sigma), base_b), (base_a, _blur(b, sigma))):
            err = float(np.abs(pair[0] - pair[1]).sum())
            if err < best_err:
                best, best_err = pair, err
    return best


def _window_diff(
    a: NDArray[np.float32],
    b: NDArray[np.float32],
    side: int,
    shifts: tuple[tuple[float, float], ...],
) -> float:
    """Max over windows of the mean |a - b|, each window taking its best shift of ``b``."""
    best: NDArray[np.float32] | None = None
    for dy, dx in shifts:
        diff = np.abs(a - _shift(b, dy, dx))
        window = cv2.boxFilter(
            diff, -1, (side, side), normalize=True, borderType=cv2.BORDER_CONSTANT
        )
        best = window if best is None else np.minimum(best, window)
    return float(best.max()) if best is not None else math.inf


def compare(a: NormalizedInk, b: NormalizedInk) -> Verdict:
    """Compare two ink images; accept only when they show the same formula."""
    small, large = (a, b) if a.height * a.width <= b.height * b.width else (b, a)
    h = small.height
    w_small = small.width
    w_large = large.width * h / large.height
    if abs(w_small - w_large) > ASPECT_SLACK_PX + ASPECT_SLACK_FRAC * max(w_small, w_large):
        return Verdict(False, "aspect")
    cs, cl = small.components, large.components
    if abs(cs - cl) > max(1.0, COMPONENT_SLACK_FRAC * max(cs, cl)):
        return Verdict(False, "components")
    cov_s, cov_l = small.coverage(), large.coverage()
    ms, ml = _moments(cov_s), _moments(cov_l)
    if ms.mass <= 0 or ml.mass <= 0:
        return Verdict(False, "empty")
    sx, sy = ms.sx / ml.sx, ms.sy / ml.sy
    if abs(math.log(sx / sy)) > MOMENT_ASPECT_LOG:
        return Verdict(False, "aspect")
    scale = math.sqrt(sx * sy)
    same = (
        small.scale == 1.0
        and large.scale == 1.0
        and abs(math.log(sx)) <= SAME_SCALE_LOG
        and abs(math.log(sy)) <= SAME_SCALE_LOG
    )
    if not same and small.symbol_px < MIN_SYMBOL_PX:
        return Verdict(False, "resolution", scale=scale)
    mass_log = abs(math.log(ms.mass / (ml.mass * sx * sy)))
    if mass_log > (MASS_LOG_SAME if same else MASS_LOG_SCALED):
        return Verdict(False, "mass", mass_log=mass_log, scale=scale)
    shape = (small.height + 2 * MARGIN, small.width + 2 * MARGIN)
    img_s = np.zeros(shape, np.float32)
    img_s[MARGIN : MARGIN + small.height, MARGIN : MARGIN + small.width] = cov_s
    img_l = _into_frame(cov_l, ml, (sx, sy), ms, shape)
    blur_s, blur_l = _match_blur(img_s, img_l, match=not same)
    side = max(WINDOW_MIN, round(WINDOW_SYMBOL_FRAC * small.symbol_px))
    worst = _window_diff(blur_s, blur_l, side, SHIFTS_SAME if same else SHIFTS_SCALED)
    if same:
        limit = WINDOW_DIFF_SAME
    elif small.symbol_px >= SYMBOL_PX_LARGE:
        limit = WINDOW_DIFF_SCALED_LARGE
    else:
        limit = WINDOW_DIFF_SCALED
    if worst > limit:
        return Verdict(False, "window", worst, mass_log, scale)
    return Verdict(True, "", worst, mass_log, scale)


__all__ = ["Verdict", "compare"]
