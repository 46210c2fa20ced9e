"""The robustness benchmark's input kinds: seeded, and readable by the preprocessing."""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from scipix.preprocess import PreprocessConfig, Preprocessor
from scipix.recognizer.segment import segment
from scipix.render.kinds import (
    KINDS,
    dark,
    render_kind,
    render_mathtext,
    scan,
    tilt,
    white_scan,
)
from scipix.render.web import web_available

Render = Callable[..., NDArray[np.uint8]]


def test_scan_is_seeded_and_degraded(mathtext: Render) -> None:
    img = mathtext(r"\frac{a+b}{c}", dpi=150)
    a = scan(img, np.random.default_rng((7, 0)))
    b = scan(img, np.random.default_rng((7, 0)))
    c = scan(img, np.random.default_rng((7, 1)))
    assert a.ndim == 3 and a.shape[2] == 3
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    gray = a.mean(axis=2)
    assert np.median(gray) < 250  # grey or tinted paper, not white
    assert not Preprocessor()(gray.astype(np.uint8)).is_blank


def test_white_scan_and_tilt_are_seeded_variants(mathtext: Render) -> None:
    """The white-paper scan is the scan's own draws without tint, shading or grain; the
    tilt only turns the render."""
    img = mathtext(r"\frac{a+b}{c} = x + y + z", dpi=150)
    a = scan(img, np.random.default_rng((7, 0)))
    w = white_scan(img, np.random.default_rng((7, 0)))
    assert a.shape == w.shape and not np.array_equal(a, w)
    gray = w.mean(axis=2)
    assert np.median(gray) >= 250 > np.median(a.mean(axis=2))  # white paper, grey paper
    assert (gray < 100).sum() > 0  # ink and specks remain
    t = tilt(img, np.random.default_rng((7, 0)))
    assert np.array_equal(t, tilt(img, np.random.default_rng((7, 0))))
    assert t.ndim == 2 and np.median(t) == 255
    assert set(np.unique(t[:3])) == {255}  # the padding stays white
    assert (
        Preprocessor(PreprocessConfig(deskew=False))(t).ink.shape[0]
        > Preprocessor()(np.pad(img, 12, constant_values=255)).ink.shape[0]
    )


def test_dark_is_light_ink_on_dark(mathtext: Render) -> None:
    img = mathtext(r"x^2", dpi=150)
    d = dark(img, np.random.default_rng(0))
    assert np.median(d) < 60 and d.max() > 190
    assert Preprocessor()(d).inverted


def test_mathtext_kind_skips_what_it_cannot_parse() -> None:
    out = render_kind("mathtext_stix", [r"x ^ { 2 } + y _ { i }", r"\frac{1}{"], 150)
    assert out[0] is not None and out[1] is None
    assert render_mathtext(r"a", 150, "stix") is not None


def test_unknown_kind_is_rejected() -> None:
    assert {"katex_x2", "scan150", "scan150_white", "tilt150"} <= set(KINDS)
    with pytest.raises(ValueError, match="unknown input kind"):
        render_kind("png", ["x"], 150)


@pytest.mark.slow
@pytest.mark.skipif(
    not web_available(), reason="needs Playwright, chromium, npm ci in benchmarks/web"
)
def test_katex_and_mathjax_screenshots() -> None:
    formulas = [r"\frac{a}{b}", r"\undefinedmacro x", r"x^{2}"]
    k1 = render_kind("katex_x1", formulas, 150)
    k2 = render_kind("katex_x2", formulas, 150)
    mj = render_kind("mathjax_x1", formulas, 150)
    for out in (k1, k2, mj):
        assert out[0] is not None and out[2] is not None
        assert out[1] is None  # unknown macros are skipped, not drawn in red
    assert k1[0] is not None and k2[0] is not None
    assert k2[0].shape[0] == pytest.approx(2 * k1[0].shape[0], abs=2)


@pytest.mark.slow
@pytest.mark.skipif(
    not web_available(), reason="needs Playwright, chromium, npm ci in benchmarks/web"
)
def test_page_crops_match_element_screenshots() -> None:
    from scipix.render.web import WebRenderer

    formulas = [r"\frac{a}{b}", r"\undefinedmacro x", r"\sum_{i=1}^{n} x_{i}^{2}"]
    for scale in (1.0, 2.0):
        slow = WebRenderer("katex", scale).render(formulas)
        fast = WebRenderer("katex", scale, crop_from_page=True).render(formulas)
        assert fast[1] is None and slow[1] is None
        for a, b in ((fast[0], slow[0]), (fast[2], slow[2])):
            assert a is not None and b is not None
            assert abs(a.shape[0] - b.shape[0]) <= 2 and abs(a.shape[1] - b.shape[1]) <= 2
            ia, ib = Preprocessor()(a).ink, Preprocessor()(b).ink
            assert abs(len(segment(ia)) - len(segment(ib))) == 0
            assert abs(int(ia.sum()) - int(ib.sum())) <= 0.05 * ib.sum()


def _noisy(img: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    g = np.pad(img, 20, constant_values=255).astype(np.float32) * 0.85
    g += rng.normal(0.0, 4.0, g.shape)
    return np.asarray(np.clip(g, 0, 255), np.uint8)


def _rotated(img: NDArray[np.uint8], angle: float) -> NDArray[np.uint8]:
    import cv2

    g = np.pad(img, 20, constant_values=255)
    h, w = g.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return np.asarray(cv2.warpAffine(g, m, (w, h), borderValue=255), np.uint8)


@pytest.mark.parametrize(
    "latex",
    [
        r"i + j \cdot x_{i} = \frac{a}{b}",
        r"x_{1}, \ldots, x_{n} \cdot y',\; \dot{u} = \ddot{v}.",
        r"\sqrt{x^{2} + y^{2} + z^{2}} = \widehat{ABCDEF}",
    ],
)
@pytest.mark.parametrize("dpi", [100, 150])
def test_clean_renders_skip_scan_cleanup(mathtext: Render, latex: str, dpi: int) -> None:
    img = mathtext(latex, dpi=dpi)
    on = Preprocessor()(img)
    off = Preprocessor(PreprocessConfig(deskew=False, despeckle=False))(img)
    assert not on.noisy  # dots, primes and accents are not specks
    assert np.array_equal(on.ink, off.ink)  # nothing removed; a radical's bar rotates nothing


def test_a_scan_on_white_paper_is_told_by_its_specks(mathtext: Render) -> None:
    """A scan whose paper the scanner cut to white has no grain, but specks scattered over
    it: it is cleaned like a grey one."""
    img = mathtext(r"a + b = c + d", dpi=150)
    img = np.pad(img, 30, constant_values=255)
    clean = len(segment(Preprocessor()(img).ink))
    rng = np.random.default_rng(5)
    g = img.copy()
    ys = rng.integers(0, g.shape[0], 40)
    xs = rng.integers(0, g.shape[1], 40)
    g[ys, xs] = 10  # dark specks on white paper
    assert np.median(g) == 255
    pre = Preprocessor()(g)
    assert pre.noisy
    assert len(segment(pre.ink)) == clean


def _jpeg(img: NDArray[np.uint8], quality: int) -> NDArray[np.uint8]:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L"), dtype=np.uint8).copy()


def test_a_lossy_scan_on_white_paper_is_told_by_its_ringing_toner_and_blur(
    mathtext: Render,
) -> None:
    """A short formula printed, scanned onto white paper and saved as JPEG has too few
    specks to tell, but its paper rings near the ink, its toner never reaches black and the
    scanner blurred it; a JPEG of a sharp render (black, grey or dark mode) stays a render."""
    img = np.pad(mathtext(r"x^{2} + y^{2} = r^{2}", dpi=150), 20, constant_values=255)
    toner = (255 - (255 - img.astype(np.float32)) * 0.7).astype(np.uint8)  # darkest 77
    scanned = cv2.GaussianBlur(toner, (0, 0), 0.8)
    assert np.median(scanned) == 255
    assert not Preprocessor()(scanned).noisy  # lossless: a blurred grey render
    assert Preprocessor()(_jpeg(scanned, 70)).noisy
    assert not Preprocessor()(_jpeg(toner, 70)).noisy  # sharp grey text
    assert not Preprocessor()(_jpeg(img, 70)).noisy  # black ink
    assert not Preprocessor()(_jpeg(255 - scanned, 70)).noisy  # dark mode


def test_the_caller_may_say_whether_an_image_is_a_scan(mathtext: Render) -> None:
    """The recognizer preprocesses a resized copy as its original was: the caller's word
    overrides what the image looks like (a scan said to be clean keeps its specks)."""
    img = np.pad(mathtext(r"a + b = c + d", dpi=150), 30, constant_values=255)
    g = img.copy()
    rng = np.random.default_rng(5)
    g[rng.integers(0, g.shape[0], 40), rng.integers(0, g.shape[1], 40)] = 10
    assert Preprocessor()(g).noisy
    kept = Preprocessor()(g, noisy=False)
    assert not kept.noisy
    assert len(segment(kept.ink)) > len(segment(Preprocessor()(g).ink))  # specks kept
    assert Preprocessor()(img, noisy=True).noisy


def test_a_clean_render_is_levelled_by_its_fraction_bar(mathtext: Render) -> None:
    """A tilted image with flat paper (a rotated screenshot) is straightened only by a long
    rule, which renders draw level."""
    img = mathtext(r"\frac{a+b+c+d+e+f+g+h}{x+y+z+w} = u + v + w", dpi=150)
    level = Preprocessor()(img).ink
    tilted = _rotated(img, 2.5)
    off = Preprocessor(PreprocessConfig(deskew=False))(tilted)
    on = Preprocessor()(tilted)
    assert not on.noisy
    assert off.ink.shape[0] >= level.shape[0] + 4
    assert abs(on.ink.shape[0] - level.shape[0]) <= 1


def test_despeckle_removes_noise_specks(mathtext: Render) -> None:
    img = mathtext(r"a + b = c", dpi=150)
    clean = len(segment(Preprocessor()(img).ink))
    rng = np.random.default_rng(3)
    g = _noisy(img, rng)
    ys = rng.integers(0, g.shape[0], 25)
    xs = rng.integers(0, g.shape[1], 25)
    g[ys, xs] = 0  # salt specks, mostly off the glyphs
    off = Preprocessor(PreprocessConfig(deskew=False, despeckle=False))(g)
    on = Preprocessor()(g)
    assert len(segment(off.ink)) > clean + 10
    assert len(segment(on.ink)) == clean


def test_deskew_straightens_rotated_scan(mathtext: Render) -> None:
    img = mathtext(r"a + b + c + d + e = \frac{x + y + z + w + v + u}{2}", dpi=200)
    level = Preprocessor()(_noisy(img, np.random.default_rng(0))).ink.shape[0]
    tilted = _noisy(_rotated(img, 3.0), np.random.default_rng(1))
    off = Preprocessor(PreprocessConfig(deskew=False))(tilted).ink.shape[0]
    on = Preprocessor()(tilted).ink.shape[0]
    assert off > level + 6  # the tilt makes the formula taller
    assert abs(on - level) <= 2


@pytest.mark.parametrize("angle", [-2.0, 1.5])
def test_deskew_levels_a_short_formula_by_its_fraction_bar(mathtext: Render, angle: float) -> None:
    # too short for the row profile; the fraction bar gives the tilt
    img = mathtext(r"\frac{a+b}{c+d} = x", dpi=150)
    level = Preprocessor()(_noisy(img, np.random.default_rng(0))).ink
    tilted = _noisy(_rotated(img, angle), np.random.default_rng(2))
    on = Preprocessor()(tilted).ink
    assert abs(on.shape[0] - level.shape[0]) <= 1
    assert abs(len(segment(on)) - len(segment(level))) <= 1
