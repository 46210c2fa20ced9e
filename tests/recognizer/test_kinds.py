"""The robustness benchmark's input kinds: seeded, and readable by the preprocessing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from scipix.preprocess import Preprocessor
from scipix.render.kinds import KINDS, dark, render_kind, render_mathtext, scan
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
    assert "katex_x2" in KINDS and "scan150" in KINDS
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
