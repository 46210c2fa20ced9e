"""Image preprocessing: polarity, background flattening, binarisation, crop to ink.

Input is the 8-bit grayscale image from :mod:`scipix.io`; output is a boolean ink mask
cropped to the ink with the offset of the crop in the original image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

# an ink mask's component labels and, per component (label - 1), its stats row
_Components = tuple[NDArray[np.int32], NDArray[np.int32]]


@dataclass(frozen=True, slots=True)
class PreprocessConfig:
    """Settings of the preprocessing stage."""

    flatten_background: bool = True
    min_ink_pixels: int = 4
    pad: int = 0
    # scans and photos only (paper that is not flat, see _is_noisy; clean renders are left
    # alone): straighten by up to +-max_skew degrees and drop specks far smaller than a dot
    deskew: bool = True
    max_skew: float = 4.0
    despeckle: bool = True


@dataclass(frozen=True, slots=True)
class Preprocessed:
    """A binarised, ink-cropped image. ``ink`` is True where there is ink."""

    ink: NDArray[np.bool_]
    gray: NDArray[np.uint8]
    offset_x: int
    offset_y: int
    inverted: bool
    noisy: bool = False  # paper that is not flat: a scan or photo (speck removal and deskew ran)
    threshold: float = 0.0  # grey level under which ``gray`` counted as ink

    @property
    def is_blank(self) -> bool:
        return self.ink.size == 0 or not bool(self.ink.any())


class Preprocessor:
    """Turns a grayscale image into a cropped ink mask."""

    def __init__(self, config: PreprocessConfig | None = None) -> None:
        self.config = config or PreprocessConfig()

    def __call__(self, gray: NDArray[np.uint8], *, noisy: bool | None = None) -> Preprocessed:
        """Binarise, clean and crop ``gray``; ``noisy`` says whether it is a scan or photo
        (speck removal and deskew) instead of the image itself: a resized copy of an image
        is what the original was (enlarging blurs, and a blurred image may look scanned)."""
        g = np.asarray(gray, dtype=np.uint8)
        inverted = _is_dark_background(g)
        if inverted:
            g = 255 - g
        if self.config.flatten_background and min(g.shape) >= 16:
            g = _flatten(g)
        cfg = self.config
        ink, threshold = _binarize(g)
        # the ink's components, shared by the noise test, speck removal and a clean image's
        # rule; None when neither deskew nor speck removal is on, or there is no ink
        comps = _components(ink) if (cfg.deskew or cfg.despeckle) and ink.any() else None
        if noisy is None:
            noisy = comps is not None and _is_noisy(g, ink, comps, lossy=not inverted)
        if noisy:
            clean = _despeckle(ink, comps)  # the skew is measured without specks, whatever is kept
            angle = _skew_angle(clean, cfg.max_skew) if cfg.deskew else 0.0
            if angle != 0.0:
                g = _rotate(g, angle)
                ink, threshold = _binarize(g)
                clean = _despeckle(ink) if cfg.despeckle else ink
            if cfg.despeckle:
                ink = clean
        elif cfg.deskew and comps is not None:
            # a clean image is straightened only by a long rule (a fraction bar), which
            # renders draw level: the row profile and short rules are too unsure there
            angle = _ruled_angle(comps, cfg.max_skew)
            if angle != 0.0:
                g = _rotate(g, angle)
                ink, threshold = _binarize(g)
        if int(ink.sum()) < self.config.min_ink_pixels:
            empty = np.zeros((0, 0), dtype=bool)
            return Preprocessed(empty, np.zeros((0, 0), np.uint8), 0, 0, inverted, bool(noisy))
        ys, xs = np.nonzero(ink)
        y0, y1 = int(ys.min()), int(ys.max()) + 1
        x0, x1 = int(xs.min()), int(xs.max()) + 1
        return Preprocessed(
            ink=ink[y0:y1, x0:x1],
            gray=g[y0:y1, x0:x1],
            offset_x=x0,
            offset_y=y0,
            inverted=inverted,
            noisy=bool(noisy),
            threshold=threshold,
        )

    def rebinarized(self, pre: Preprocessed, factor: float) -> Preprocessed:
        """``pre`` binarised again at ``factor`` times its threshold (same crop and offset;
        specks removed as before): a lower threshold separates glyphs that blur or heavy
        toner merged, a higher one joins strokes that faint toner broke."""
        ink = pre.gray < pre.threshold * factor
        if pre.noisy and self.config.despeckle:
            ink = _despeckle(ink)
        return replace(pre, ink=ink, threshold=pre.threshold * factor)


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


def _binarize(g: NDArray[np.uint8]) -> tuple[NDArray[np.bool_], float]:
    """The ink mask and the threshold it was cut at (Otsu's, capped)."""
    if int(g.max()) - int(g.min()) < 24:
        return np.zeros(g.shape, dtype=bool), 0.0
    t, _ = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # anti-aliased renders: Otsu on mostly-white images sits high; cap it near mid-grey
    # bilevel images: Otsu puts the threshold on the ink level itself; keep that level as ink
    t = min(max(float(t), float(g.min()) + 1.0), 200.0)
    return np.asarray(g < t, dtype=bool), t


def _is_noisy(
    g: NDArray[np.uint8], ink: NDArray[np.bool_], comps: _Components, *, lossy: bool = True
) -> bool:
    """Scans and photos: the paper away from the ink is not flat (noise, JPEG, grain), or
    specks are scattered over it (a scan on white paper, whose grain the scanner cut off),
    or, with ``lossy`` (not for dark mode), the white paper rings near blurred ink that
    never reaches black (:func:`_printed_lossy`).

    Renders (TeX, web screenshots, dark mode) have perfectly flat paper and are left alone.
    """
    near = cv2.dilate(ink.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    paper = g[~near]
    level = float(np.median(paper)) if paper.size >= 50 else None
    if level is not None and np.median(np.abs(paper.astype(np.float32) - level)) >= 1.0:
        return True
    if _scattered_specks(comps) >= SCATTERED_SPECKS:
        return True
    return lossy and level is not None and _printed_lossy(g, ink, near, level)


def _printed_lossy(
    g: NDArray[np.uint8], ink: NDArray[np.bool_], near: NDArray[np.bool_], level: float
) -> bool:
    """A print scanned onto white paper and saved lossily: the paper 4-6 px from the ink
    rings (at least ``LOSSY_RINGING`` of it off the paper's level by 2 or more: JPEG), the
    ink never reaches black (its darkest 2% at least ``TONER_DARKEST``: toner) and its edges
    are blurred (``SCANNED_BLUR``). Each alone is common in renders: a JPEG of black text
    rings, a screenshot's text may be grey, a resized image is blurred.

    Of the benchmark's im2latex / textbook scans on white paper 195 of 199 and 198 of 208
    are told (the specks told 105 and 31); no render is, at any size the recognizer reads
    (TeX at 100-300 dpi, KaTeX, MathJax, mathtext, tilted, dark mode), nor a JPEG of a
    black TeX render (quality 50-90); of JPEGs of grey TeX renders (darkest 77, quality 70)
    1 of 199 im2latex and 17 of 208 (short) textbook formulas are. The ringing alone: clean
    renders 0-3.6% (MathJax at 1x), their JPEGs up to 48%, the scans 14-43%."""
    # the cheapest test first: most images are black ink
    darkest = float(np.percentile(g[ink], 2))
    if darkest < TONER_DARKEST:
        return False
    ink8 = ink.astype(np.uint8)
    band = (cv2.dilate(ink8, np.ones((13, 13), np.uint8)) > 0) & ~near
    ring = g[band]
    if ring.size < 50:
        return False
    if float(np.mean(np.abs(ring.astype(np.float32) - level) >= 2.0)) < LOSSY_RINGING:
        return False
    # blur: the grey between paper and ink, per pixel of the ink's edge
    lo, hi = darkest + 0.25 * (level - darkest), darkest + 0.75 * (level - darkest)
    grey = int(np.count_nonzero((g > lo) & (g < hi)))
    edge = int(np.count_nonzero(ink & (cv2.erode(ink8, np.ones((3, 3), np.uint8)) == 0)))
    return grey >= SCANNED_BLUR * max(edge, 1)


# see _printed_lossy: the share of the paper near the ink that rings, and the grey level
# (0-255) the darkest ink must not reach: a black render's JPEG reaches 0-7
LOSSY_RINGING = 0.06
TONER_DARKEST = 12.0
# and the pixels between paper and ink per pixel of the ink's edge (1 px of anti-aliasing
# gives about 0.5-0.8; the scans' blur 0.7-1.7)
SCANNED_BLUR = 0.8


# this many specks far from any other ink make white paper a scan: on the benchmark's
# renders (TeX at 100-300 dpi, KaTeX, MathJax, mathtext) none has more than 3, while 53% of
# the im2latex scans on white paper (salt, blur, JPEG) have 4 or more
SCATTERED_SPECKS = 4


def _scattered_specks(comps: _Components) -> int:
    """How many tiny components (at most a fifth of a symbol's height squared, at least 4
    px) have no other ink within a symbol's height of their box, counted up to
    ``SCATTERED_SPECKS``."""
    labels, st = comps
    if st.shape[0] < 2:
        return 0
    height = _symbol_height(st)
    limit = max(4.0, (height / 5.0) ** 2)
    r = max(2, round(height))
    count = 0
    # enough to decide: the first SCATTERED_SPECKS found, among at most the first 256 tiny
    # components (a halftone or dithered image has thousands, none of them far from ink)
    for i in np.flatnonzero(st[:, cv2.CC_STAT_AREA] <= limit)[:256]:
        x, y, bw, bh = (int(v) for v in st[i, :4])
        window = labels[max(0, y - r) : y + bh + r, max(0, x - r) : x + bw + r]
        if not np.any((window != 0) & (window != i + 1)):
            count += 1
            if count >= SCATTERED_SPECKS:
                break
    return count


def _components(ink: NDArray[np.bool_]) -> _Components:
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    return np.asarray(labels, np.int32), np.asarray(stats[1:], np.int32)


def _symbol_height(st: NDArray[np.int32]) -> float:
    """The median height of the components shaped like symbols (not rules or specks)."""
    h = st[:, cv2.CC_STAT_HEIGHT].astype(np.float32)
    w = st[:, cv2.CC_STAT_WIDTH].astype(np.float32)
    tall = h[(h >= 0.5 * w) & (h >= 3)]
    return float(np.median(tall)) if tall.size else float(h.max())


def _within(angle: float, max_skew: float) -> float:
    """``angle``, or 0 when under 0.2 degrees (level enough) or over ``max_skew``."""
    return 0.0 if abs(angle) > max_skew or abs(angle) < 0.2 else angle


def _skew_angle(ink: NDArray[np.bool_], max_skew: float) -> float:
    """The rotation (degrees) that levels the formula; 0 when under 0.2 degrees.

    In order of trust: the longest straight rule (fraction bar, overline: at least 40 px and
    six times longer than thick); for a formula at least four times wider than tall, the
    angle whose row profile is sharpest (half-degree steps, then tenths around the best);
    otherwise the median tilt of the shorter rules (minus signs, equals bars), weighted by
    length squared; the row profile when there are none. On 400 seeded scans (+-3 degrees,
    150 dpi) this leaves a median error of 0.1 degree on im2latex formulas and 0.4 on the
    shorter textbook ones (p90 0.8 and 1.4 degrees). ``ink`` has had its specks removed.
    """
    ys, xs = np.nonzero(ink)
    if ys.size < 50:
        return 0.0
    rules = _rule_angles(_components(ink))
    wide = int(xs.max() - xs.min()) >= 4 * int(ys.max() - ys.min())
    trusted = [tilt for _, tilt, alone in rules if alone]
    if trusted:
        angle = trusted[0]
    elif rules and not wide:
        lengths = np.array([r[0] for r in rules], np.float64) ** 2
        tilts = np.array([r[1] for r in rules], np.float64)
        order = np.argsort(tilts)
        cum = np.cumsum(lengths[order])
        angle = float(tilts[order][np.searchsorted(cum, cum[-1] / 2)])
    else:
        x, y = xs - xs.mean(), ys - ys.mean()
        coarse = _sharpest(x, y, np.arange(-max_skew, max_skew + 1e-6, 0.5))
        angle = _sharpest(x, y, np.arange(coarse - 0.4, coarse + 0.41, 0.1))
    return _within(angle, max_skew)


def _ruled_angle(comps: _Components, max_skew: float) -> float:
    """The tilt (degrees) of the longest straight rule long enough to trust alone (see
    :func:`_skew_angle`); 0 without one, or when under 0.2 degrees or over ``max_skew``."""
    trusted = _rule_angles(comps, robust=True, trusted_only=True)
    return _within(trusted[0][1], max_skew) if trusted else 0.0


def _sharpest(x: NDArray[np.float64], y: NDArray[np.float64], angles: NDArray[np.float64]) -> float:
    """The angle (degrees) whose row profile of the points has the largest sum of squares."""
    best, best_score = 0.0, -1.0
    for a in angles:
        t = np.deg2rad(a)
        rows = np.round(y * np.cos(t) + x * np.sin(t)).astype(np.int64)
        score = float(np.square(np.bincount(rows - rows.min()).astype(np.float64)).sum())
        if score > best_score:
            best, best_score = float(a), score
    return best


def _rule_angles(
    comps: _Components, robust: bool = False, trusted_only: bool = False
) -> list[tuple[int, float, bool]]:
    """(length, tilt in degrees counter-clockwise, long enough to trust alone) of each
    straight horizontal rule in the ink (at least 10 px, three times longer than thick;
    ``trusted_only``: 40 px and six times), longest first. ``robust``: tilts that ignore a
    hook at a rule's end (a radical's; on scans, whose short rules the least-squares line
    measures better, it is not used)."""
    labels, st = comps
    w, h = st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]
    out: list[tuple[int, float, bool]] = []
    for i in np.argsort(-w):
        if w[i] < (40 if trusted_only else 10):
            break
        if w[i] < (6 if trusted_only else 3) * h[i]:
            continue
        x0, y0 = st[i, cv2.CC_STAT_LEFT], st[i, cv2.CC_STAT_TOP]
        ys, xs = np.nonzero(labels[y0 : y0 + h[i], x0 : x0 + w[i]] == i + 1)
        xc, yc = xs - xs.mean(), ys - ys.mean()
        if robust:
            # the rule's top and bottom edges, each by the trimmed mean slope between
            # columns half the rule apart (a radical's hook at the bar's end moves a
            # least-squares line, not this); a rule whose two edges disagree is not one (a
            # resampled bar one pixel thicker along part of its length, a wide hat)
            top, bottom = (
                _edge_slope(xs, ys, int(w[i]), np.minimum),
                _edge_slope(xs, ys, int(w[i]), np.maximum),
            )
            if abs(np.degrees(np.arctan(top) - np.arctan(bottom))) > 0.3:
                continue
            slope = (top + bottom) / 2.0
        else:
            slope = float((xc * yc).sum() / max(float((xc * xc).sum()), 1e-9))
        if float((yc - slope * xc).std()) <= 1.2:  # a rule, not a brace or a long arrow
            trusted = bool(w[i] >= 40 and w[i] >= 6 * h[i])
            out.append((int(w[i]), -float(np.degrees(np.arctan(slope))), trusted))
    return out


def _edge_slope(xs: NDArray[np.intp], ys: NDArray[np.intp], width: int, pick: np.ufunc) -> float:
    """The slope of a rule's top (``pick`` np.minimum) or bottom (np.maximum) edge: the
    mean, its fifths at either end left out, of the slopes between columns half the rule
    apart."""
    start = np.iinfo(np.int64).max if pick is np.minimum else -1
    edge = np.full(width, start, np.int64)
    pick.at(edge, xs, ys)
    cols = np.flatnonzero(edge != start)
    half = cols.size // 2
    if half == 0:
        return 0.0
    slopes = np.sort(
        (edge[cols[half:]] - edge[cols[: cols.size - half]])
        / (cols[half:] - cols[: cols.size - half])
    )
    cut = slopes.size // 5
    return float(slopes[cut : slopes.size - cut].mean())


def _rotate(g: NDArray[np.uint8], angle: float) -> NDArray[np.uint8]:
    h, w = g.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    bg = int(np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])))
    out = cv2.warpAffine(
        g, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=bg
    )
    return np.asarray(out, np.uint8)


def _despeckle(ink: NDArray[np.bool_], comps: _Components | None = None) -> NDArray[np.bool_]:
    """Remove components far smaller than a dot ((scale/8)^2 px, at least 2 px) of the text
    (``comps``: ``ink``'s components, when already found)."""
    labels, st = _components(ink) if comps is None else comps
    if st.shape[0] == 0:
        return ink
    limit = max(2.0, (_symbol_height(st) / 8.0) ** 2)
    small = np.flatnonzero(st[:, cv2.CC_STAT_AREA] <= limit) + 1
    if small.size == 0:
        return ink
    return np.asarray(ink & ~np.isin(labels, small), dtype=bool)


__all__ = ["PreprocessConfig", "Preprocessed", "Preprocessor"]
