"""Each recognizer stage on small real images and token sequences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from scipix.errors import LatexError
from scipix.evaluation import auroc, corpus_bleu, image_match, normalised_edit_distance
from scipix.formats import to_asciimath, to_markdown, to_mathml
from scipix.postprocess import (
    check_latex,
    compact_latex,
    repair_latex,
    separate_double_scripts,
    tokenize_latex,
    widen_array_columns,
)
from scipix.preprocess import Preprocessor
from scipix.recognizer.segment import CROP, N_FEATURES, segment

Render = Callable[..., NDArray[np.uint8]]


def test_preprocess_crops_to_ink(mathtext: Render) -> None:
    img = mathtext(r"x^2 + y^2", dpi=150)
    p = Preprocessor()(img)
    assert not p.is_blank
    assert p.ink[0].any() and p.ink[-1].any() and p.ink[:, 0].any() and p.ink[:, -1].any()
    assert p.offset_x >= 10 and p.offset_y >= 10


def test_preprocess_dark_mode_matches_light(mathtext: Render) -> None:
    img = mathtext(r"\frac{a}{b}", dpi=150)
    light = Preprocessor()(img)
    dark = Preprocessor()(255 - img)
    assert dark.inverted and not light.inverted
    assert light.ink.shape == dark.ink.shape
    assert np.mean(light.ink != dark.ink) < 0.02


def test_preprocess_blank_and_flat_images_are_blank() -> None:
    assert Preprocessor()(np.full((50, 80), 255, np.uint8)).is_blank
    assert Preprocessor()(np.full((50, 80), 17, np.uint8)).is_blank


def test_preprocess_flattens_uneven_lighting(mathtext: Render) -> None:
    img = mathtext(r"a+b=c", dpi=150).astype(np.float32)
    ramp = np.linspace(0.55, 1.0, img.shape[1])[None, :]
    shaded = np.clip(img * ramp, 0, 255).astype(np.uint8)
    clean = Preprocessor()(img.astype(np.uint8))
    dim = Preprocessor()(shaded)
    assert abs(int(clean.ink.sum()) - int(dim.ink.sum())) < 0.15 * clean.ink.sum()


def test_segment_counts_components(mathtext: Render) -> None:
    comps = segment(Preprocessor()(mathtext(r"a=b", dpi=200)).ink)
    # a, two bars of '=', b
    assert len(comps) == 4
    assert comps.crops.shape == (4, CROP, CROP)
    assert comps.features.shape == (4, N_FEATURES)
    assert list(comps.boxes[:, 0]) == sorted(comps.boxes[:, 0])


def test_segment_features_are_scale_free(mathtext: Render) -> None:
    small = segment(Preprocessor()(mathtext(r"x_1^2", dpi=150)).ink)
    large = segment(Preprocessor()(mathtext(r"x_1^2", dpi=300)).ink)
    assert len(small) == len(large) == 3
    assert np.allclose(small.features[:, :6], large.features[:, :6], atol=0.2)


def test_segment_empty_mask() -> None:
    assert len(segment(np.zeros((10, 10), bool))) == 0


def test_tokenize_and_compact_round_trip() -> None:
    src = r"\frac { \alpha } { 2 } + \sqrt [ 3 ] { x } \begin{array} { c c } a & b \end{array}"
    toks = tokenize_latex(src)
    assert toks[:4] == ["\\frac", "{", "\\alpha", "}"]
    assert "\\begin{array}" in toks
    compact = compact_latex(toks)
    assert compact.startswith(r"\frac{\alpha}{2}+\sqrt[3]{x}")
    assert tokenize_latex(compact) == toks
    assert compact_latex(["\\alpha", "x"]) == r"\alpha x"


def test_repair_knows_fused_left_right() -> None:
    # the model's vocabulary fuses \left and \right with their delimiters
    opened = ["\\left[", "A", ",", "[", "B", "]", "]", "_", "{", "x", "}"]
    assert not check_latex(opened).ok
    assert compact_latex(repair_latex(opened)) == r"\left[A,[B]]_{x}\right."
    crossed = ["\\sum", "_", "{", "\\left(", "x", "}", "y", "\\right)"]
    assert compact_latex(repair_latex(crossed)) == r"\sum_{\left(x\right.}y)"
    assert compact_latex(repair_latex(["a", "\\right\\}", "b"])) == r"a\}b"
    assert check_latex(["\\leftarrow", "x", "\\rightarrow"]).ok  # arrows are not groups


def test_compact_keeps_control_spaces_and_fused_words() -> None:
    # the model's vocabulary writes "\ " as a bare backslash and fuses \left\langle
    assert compact_latex(["\\mathrm", "{", "f", "}", "\\", "n"]) == r"\mathrm{f}\ n"
    assert compact_latex(["x", "\\", "\\left[", "y", "\\right]"]) == r"x\ \left[y\right]"
    assert compact_latex(["m", "\\rangle", "\\", "."]) == r"m\rangle\ ."
    assert (
        compact_latex(["\\left\\langle", "x", "\\right\\rangle"]) == r"\left\langle x\right\rangle"
    )
    assert compact_latex(["a", "\\\\", "b"]) == r"a\\b"  # a row break stays one


@pytest.mark.parametrize(
    ("src", "fixed"),
    [
        (r"F ^ { b } _ { \beta } ^ { \alpha }", r"F^{b}_{\beta}{}^{\alpha}"),
        (r"x _ a _ b", r"x_a{}_b"),
        (r"x ^ { 2 } ^ { 3 }", r"x^{2}{}^{3}"),
        (r"x ^ { a ^ { b } } _ { c }", r"x^{a^{b}}_{c}"),  # one of each: fine
        (r"{ x ^ { 2 } } ^ { 3 }", r"{x^{2}}^{3}"),  # a group is a new base
        (r"x ^ { 2 } + y ^ { 3 }", r"x^{2}+y^{3}"),
        (r"f ' ^ { 2 }", r"f'^{2}"),
    ],
)
def test_separate_double_scripts(src: str, fixed: str) -> None:
    assert compact_latex(separate_double_scripts(tokenize_latex(src))) == fixed


def test_widen_array_columns() -> None:
    toks = tokenize_latex(r"\begin{array} { c } a & b \\ c & d & e \end{array}")
    assert compact_latex(widen_array_columns(toks)) == (r"\begin{array}{ccc}a&b\\c&d&e\end{array}")
    nested = tokenize_latex(
        r"\begin{array} { l } { \begin{array} { r } a & b \end{array} } & c \end{array}"
    )
    assert compact_latex(widen_array_columns(nested)) == (
        r"\begin{array}{ll}{\begin{array}{rr}a&b\end{array}}&c\end{array}"
    )
    fine = tokenize_latex(r"\begin{array} { l r } a & b \end{array}")
    assert widen_array_columns(fine) == fine


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        (r"x ^ { 2", r"x^{2}"),
        (r"a } + b", r"a+b"),
        (r"\left( \frac { a } { b \right) } }", r"\left(\frac{a}{b}\right)"),
        (r"\begin{array} { c } a \\ b", r"\begin{array}{c}a\\b\end{array}"),
        (r"\frac { a } { b } ^", r"\frac{a}{b}"),
    ],
)
def test_repair_makes_valid_latex(broken: str, fixed: str) -> None:
    toks = tokenize_latex(broken)
    assert not check_latex(toks).ok
    repaired = repair_latex(toks)
    assert check_latex(repaired).ok
    assert compact_latex(repaired) == fixed


def test_formats() -> None:
    assert "<mfrac>" in to_mathml(r"\frac{a}{b}")
    assert to_asciimath(r"\frac{a}{b}") == "(a)/(b)"
    assert to_asciimath(r"\sqrt{x^{2}}+\alpha") == "sqrt(x ^2) + alpha"
    assert to_markdown("x^{2}") == r"\( x^{2} \)"
    assert to_markdown("") == ""
    with pytest.raises(LatexError):
        to_mathml(r"\frac{a}{")


def test_metrics() -> None:
    a = ["x", "^", "{", "2", "}"]
    assert corpus_bleu([a], [a]) == pytest.approx(1.0)
    assert normalised_edit_distance(a, ["x", "^", "{", "3", "}"]) == pytest.approx(0.2)
    assert auroc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.9], [True, False]) == 0.0


def test_image_match(mathtext: Render) -> None:
    a = mathtext("x^2", dpi=150)
    shifted = np.pad(a, ((3, 0), (0, 5)), constant_values=255)
    assert image_match(a, shifted)
    assert not image_match(a, mathtext("x^3", dpi=150))


def test_strip_outer_braces() -> None:
    from scipix.postprocess import strip_outer_braces

    assert strip_outer_braces(tokenize_latex(r"{ { x + y } }")) == ["x", "+", "y"]
    kept = tokenize_latex(r"{ a } + { b }")
    assert strip_outer_braces(kept) == kept
    assert strip_outer_braces(tokenize_latex(r"^ { \emptyset }")) == ["\\emptyset"]
    prescript = tokenize_latex(r"^ { 1 4 } C")
    assert strip_outer_braces(prescript) == prescript
    assert strip_outer_braces(["{", "}"]) == []


def test_normalize_functions() -> None:
    from scipix.postprocess import normalize_functions

    toks = tokenize_latex(r"\mathrm { s i n } ^ { 2 } x + \mathrm { a d j } A")
    assert compact_latex(normalize_functions(toks)) == r"\sin^{2}x+\mathrm{adj}A"


def test_preprocess_bilevel_strokes_have_ink() -> None:
    img = np.full((100, 100), 255, np.uint8)
    img[50, 20:80] = 0
    img[20:80, 50] = 0
    p = Preprocessor()(img)
    assert not p.is_blank
    assert int(p.ink.sum()) == 119


def test_preprocess_rebinarizes_a_scan_at_other_thresholds(
    mathtext: Render, scanned: Render
) -> None:
    """A scan keeps the threshold its ink was cut at; cut again lower there is less ink,
    higher more, with the same crop and offset."""
    pre = Preprocessor()(scanned(mathtext(r"\frac{a+b}{c}=x^{2}", dpi=150)))
    assert pre.noisy and 0 < pre.threshold < 255
    lower = Preprocessor().rebinarized(pre, 0.9)
    higher = Preprocessor().rebinarized(pre, 1.1)
    assert lower.ink.shape == pre.ink.shape == higher.ink.shape
    assert (lower.offset_x, lower.offset_y) == (pre.offset_x, pre.offset_y)
    assert lower.ink.sum() < pre.ink.sum() < higher.ink.sum()
    assert lower.threshold == pytest.approx(0.9 * pre.threshold)
