"""Seeded input kinds for the robustness benchmark: how formulas reach users.

``render_kind(kind, formulas, dpi, seed)`` returns one uint8 image (grayscale, or RGB for
tinted paper) per formula, ``None`` where the kind's renderer cannot render it. Kinds:

- ``tex``: latex + dvipng at ``dpi`` (the clean reference).
- ``katex_x1``, ``katex_x2``, ``mathjax_x1``, ``mathjax_x2``: web screenshots in headless
  Chromium at device scale 1 or 2 (:mod:`scipix.render.web`); ``dpi`` is ignored.
- ``mathtext_stix``, ``mathtext_cm``, ``mathtext_dejavusans``: matplotlib mathtext at 12pt.
- ``scan150``: TeX at 150 dpi on grey or tinted paper, uneven lighting, +-3 degree rotation,
  blur, salt noise and JPEG quality 50-90.
- ``scan150_white``: the same scans on paper a scanner cut to white (no tint, shading or
  grain: only the ink's blur, rotation, specks and JPEG remain).
- ``tilt150``: TeX at 150 dpi turned by up to +-3 degrees on white paper (a tilted
  screenshot or photo of a screen), nothing else.
- ``dark``: TeX at ``dpi``, light ink on a dark background (editor / dark-mode colours).

Every random choice comes from ``numpy.random.default_rng((seed, index))``, so each
formula's degradation is fixed by the seed and its position, whatever else is rendered.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

Img = NDArray[np.uint8]

WEB_KINDS = {
    "katex_x1": ("katex", 1.0),
    "katex_x2": ("katex", 2.0),
    "mathjax_x1": ("mathjax", 1.0),
    "mathjax_x2": ("mathjax", 2.0),
}
MATHTEXT_KINDS = {
    "mathtext_stix": "stix",
    "mathtext_cm": "cm",
    "mathtext_dejavusans": "dejavusans",
}
# mathtext reads "x ^ { 2 }" as "x" then a stray superscript: close up the spaces
_SCRIPT_SPACE = re.compile(r"\s*([_^])\s*")
KINDS = ("tex", *WEB_KINDS, *MATHTEXT_KINDS, "scan150", "scan150_white", "tilt150", "dark")


def render_kind(kind: str, formulas: Sequence[str], dpi: int, seed: int = 0) -> list[Img | None]:
    """Render ``formulas`` as input kind ``kind``; None where it cannot."""
    if kind not in KINDS:
        raise ValueError(f"unknown input kind {kind!r}; known: {', '.join(KINDS)}")
    if kind in WEB_KINDS:
        from scipix.render.web import WebRenderer

        engine, scale = WEB_KINDS[kind]
        return WebRenderer(engine, scale).render(formulas)  # type: ignore[arg-type]
    if kind in MATHTEXT_KINDS:
        return [render_mathtext(f, dpi, MATHTEXT_KINDS[kind]) for f in formulas]
    from scipix.render.tex import TexRenderer

    at_150 = {"scan150": scan, "scan150_white": white_scan, "tilt150": tilt}  # dpi ignored
    clean = TexRenderer().render(formulas, 150 if kind in at_150 else dpi)
    if kind == "tex":
        return clean
    degrade = at_150.get(kind, dark)
    return [
        None if im is None else degrade(im, np.random.default_rng((seed, k)))
        for k, im in enumerate(clean)
    ]


def render_mathtext(latex: str, dpi: int, fontset: str = "stix") -> Img | None:
    """matplotlib mathtext at 12pt; None when mathtext cannot parse the formula."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    try:
        with matplotlib.rc_context({"mathtext.fontset": fontset}):
            mathtext.math_to_image(
                "$" + _SCRIPT_SPACE.sub(r"\1", " ".join(latex.split())) + "$",
                buf,
                prop=FontProperties(size=12),
                dpi=dpi,
                format="png",
            )
    except Exception:  # mathtext raises ValueError, KeyError, RuntimeError, ...
        return None
    buf.seek(0)
    with Image.open(buf) as im:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
    # transparent background: composite onto white
    a = rgba[..., 3:4] / 255.0
    gray = (rgba[..., :3] * a + 255.0 * (1 - a)).mean(axis=2)
    return np.pad(np.asarray(gray, np.uint8), 8, constant_values=255)


def _turned(g: NDArray[np.float32], angle: float) -> NDArray[np.float32]:
    h, w = g.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(
        g, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=1.0
    )
    return np.asarray(out, np.float32)


def tilt(img: Img, rng: np.random.Generator) -> Img:
    """The render turned by up to +-3 degrees on white paper, nothing else."""
    g = np.pad(img, 12, constant_values=255).astype(np.float32) / 255.0
    turned = _turned(g, float(rng.uniform(-3.0, 3.0)))
    return np.asarray(np.clip(turned * 255.0 + 0.5, 0, 255), dtype=np.uint8)


def white_scan(img: Img, rng: np.random.Generator) -> Img:
    """:func:`scan` (the same random draws) on paper cut to white: no tint, shading or
    grain."""
    return scan(img, rng, paper=False)


def scan(img: Img, rng: np.random.Generator, *, paper: bool = True) -> Img:
    """A printed-and-scanned look: tinted paper, shading, rotation, blur, specks, JPEG
    (``paper=False``: white paper without grain, the rest the same)."""
    g = np.pad(img, 12, constant_values=255).astype(np.float32) / 255.0
    h, w = g.shape
    rotated = _turned(g, float(rng.uniform(-3.0, 3.0)))
    blurred = cv2.GaussianBlur(rotated, (0, 0), float(rng.uniform(0.3, 0.9)))
    ink = 1.0 - np.asarray(blurred, dtype=np.float32)  # 0 paper .. 1 ink
    ink *= float(rng.uniform(0.75, 1.0))  # faint toner
    shade = float(rng.uniform(0.72, 0.95))
    tint = np.array([1.0, rng.uniform(0.94, 1.0), rng.uniform(0.85, 1.0)], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.15, 0.15, 2)
    light = 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)  # uneven lighting
    grain = rng.normal(0.0, 0.015, (h, w))[..., None].astype(np.float32)
    if not paper:
        shade, light, tint, grain = 1.0, np.float32(1.0), np.ones(3, np.float32), grain * 0
    level = shade * light * (1.0 - 0.92 * ink)
    rgb = level[..., None] * tint[None, None, :] + grain
    salt = rng.random((h, w)) < float(rng.uniform(0.0005, 0.003))
    rgb[salt] = rng.choice([0.05, 1.0], size=int(salt.sum()))[:, None]
    out = np.clip(rgb * 255.0, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out, "RGB").save(buf, "JPEG", quality=int(rng.integers(50, 91)))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def dark(img: Img, rng: np.random.Generator) -> Img:
    """Light ink on a dark background, keeping the anti-aliasing."""
    bg = float(rng.uniform(10, 50))
    fg = float(rng.uniform(200, 245))
    ink = 1.0 - np.pad(img, 8, constant_values=255).astype(np.float32) / 255.0
    return np.asarray(np.clip(bg + (fg - bg) * ink, 0, 255), dtype=np.uint8)


__all__ = ["KINDS", "dark", "render_kind", "render_mathtext", "scan", "tilt", "white_scan"]
