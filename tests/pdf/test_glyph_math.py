"""Math rebuilt from a born-digital PDF's glyphs (scipix.pdf.glyphmath): a pdflatex paper of
display formulas over every construct the glyph reader handles, each read back from the PDF's
glyphs and compared with its source by rendering both with TeX; constructs it cannot account
for (arrays) fall back to the image recognizer; unit checks on hand-made glyphs."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest
from pdf_samples import compile_latex

from scipix.engines.base import Engine
from scipix.evaluation import image_match
from scipix.pdf import convert_pdf
from scipix.pdf.glyphmath import GlyphMathError, Rule, glyph_latex, join_latex
from scipix.pdf.layout import Glyph, layout
from scipix.pdf.page import GLYPH_CONFIDENCE, read_glyphs, read_rules, region_latex
from scipix.render import TexRenderer
from scipix.render.tex import tex_available

# formulas written for this test (not the benchmark's textbook set)
FORMULAS = [
    r"y = m x + b",
    r"\frac{a+b}{c-d} \neq \frac{a}{c}",
    r"\sqrt{x^2 + y^2} \leq |x| + |y|",
    r"\sqrt[3]{27} = 3",
    r"\sum_{k=0}^{n} \binom{n}{k}",
    r"\prod_{p \in P} \left( 1 - \frac{1}{p^{s}} \right)^{-1}",
    r"\int_{a}^{b} f'(t) \, dt = f(b) - f(a)",
    r"\lim_{h \to 0} \frac{\sin h}{h} = 1",
    r"\max_{1 \leq i \leq n} |x_i|",
    r"\hat{\theta} = \arg \min_{\theta} L(\theta)",
    r"\vec{F} = m \vec{a}",
    r"\bar{z} \cdot z = |z|^{2}",
    r"\mathbb{E}[X] = \sum_{x} x \, p(x)",
    r"\mathcal{L} \{ f \} (s)",
    r"\alpha \beta \gamma \Gamma \Omega \varphi",
    r"A \subseteq B \cup C",
    r"f \colon X \to Y",
    r"e^{-\frac{x^{2}}{2}}",
    r"x_{i}^{2} + y_{j}^{3}",
    r"a_{n+1} = a_{n} + d",
    r"\log_{2} 8 = 3",
    r"\nabla \times \mathbf{B} = \mu_0 \mathbf{J}",
    r"\left\langle u , v \right\rangle \geq 0",
    r"x \in \mathbb{R} \setminus \mathbb{Q}",
    r"1 + 2 + \cdots + n",
    r"\overline{A \cap B}",
    r"\forall x \, \exists y : y > x",
    r"p \Rightarrow q \iff \neg q \Rightarrow \neg p",
]
GRIDS = [
    r"A = \begin{pmatrix} a & b \\ c & d \end{pmatrix}",
    r"\det \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} = -2",
    r"|t| = \begin{cases} t & t \geq 0 \\ -t & t < 0 \end{cases}",
    r"\binom{n}{2} = \frac{n(n-1)}{2}",
    r"\underbrace{a + \cdots + a}_{k}",
]
# what only spacing or position tells apart
SPACING = [
    r"\left. \frac{x^{2}}{2} \right|_{0}^{1} = \frac{1}{2}",
    r"\bigl( a + b \bigr)^{2} \leq 2 \left( a^{2} + b^{2} \right)",
    r"R^{\mu}{}_{\nu} = g_{\nu \lambda} R^{\mu \lambda}",
    r"\tfrac{1}{2} \lim_{n \to \infty} a_{n} \, \mathrm{d}x",
    # lines spread by \jot
    r"\begin{aligned} f(x) &= (x + 1)^{2} \\ &= x^{2} + 2x + 1 \end{aligned}",
    r"\begin{gathered} a = b \\ c + d = e \end{gathered}",
]
UNKNOWN = r"a \between b"  # an AMS symbol the glyph tables do not know


def _paper(formulas: list[str]) -> str:
    body = "\n\n".join(
        f"Item {i + 1} is shown below; the running text around it fills the line so that "
        f"the page reads as one column.\n\\[ {f} \\]"
        for i, f in enumerate(formulas)
    )
    return (
        "\\documentclass[12pt]{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )


@pytest.fixture(scope="module")
def glyph_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return compile_latex(
        _paper([*FORMULAS, *GRIDS, *SPACING, UNKNOWN]), tmp_path_factory.mktemp("glyphs"), "g"
    )


def _displays(pdf: bytes, engine: Engine) -> dict[int, tuple[str, float]]:
    got: dict[int, tuple[str, float]] = {}
    current = -1
    for page in convert_pdf(pdf, engine, workers=1):
        for line in page.lines:
            text = " ".join(s.value for s in line.segments)
            m = re.match(r"Item (\d+) is shown", text)
            if m:
                current = int(m.group(1)) - 1
            elif line.kind == "math" and current >= 0 and current not in got:
                seg = line.segments[0]
                got[current] = (seg.value, seg.confidence)
    return got


@pytest.mark.slow
def test_display_formulas_rebuilt_from_glyphs_match_their_source(
    glyph_pdf: bytes, engine: Engine
) -> None:
    if not tex_available():
        pytest.skip("latex and dvipng are needed to compare renders")
    got = _displays(glyph_pdf, engine)
    source = [*FORMULAS, *GRIDS, *SPACING]
    assert sorted(got) == list(range(len(source) + 1))
    not_from_glyphs = [source[k] for k in range(len(source)) if got[k][1] != GLYPH_CONFIDENCE]
    assert not not_from_glyphs
    renderer = TexRenderer()
    truth = renderer.render(source, 150)
    pred = renderer.render([got[k][0] for k in range(len(source))], 150)
    wrong = [
        (f, got[k][0])
        for k, (f, a, b) in enumerate(zip(source, truth, pred, strict=True))
        if a is None or b is None or not image_match(a, b)
    ]
    assert not wrong
    # a glyph the tables do not know: the glyph reader declines the formula and the
    # recognizer reads the region
    assert got[len(source)][1] != GLYPH_CONFIDENCE


def test_exact_latex_of_common_constructs(glyph_pdf: bytes) -> None:
    doc = pdfium.PdfDocument(glyph_pdf)
    try:
        page = doc[0]
        glyphs, rules = read_glyphs(page), read_rules(page)
        lines = layout(glyphs, page.get_width())
    finally:
        doc.close()
    displays = [ln.box for ln in lines if ln.kind == "display"]
    out = [region_latex(glyphs, rules, box) for box in displays[:4]]
    assert out == [
        "y=mx+b",
        "\\frac{a+b}{c-d}\\neq\\frac{a}{c}",
        "\\sqrt{x^{2}+y^{2}}\\leq|x|+|y|",
        "\\sqrt[3]{27}=3",
    ]


def _g(ch: str, font: str, x: float, size: float = 10.0, base: float = 100.0) -> Glyph:
    w = 0.5 * size
    return Glyph(ch, font, size, x, base - 0.7 * size, x + w, base, True, base, x, x + w)


def test_scripts_from_size_and_baseline() -> None:
    glyphs = [
        _g("x", "CMMI10", 0),
        _g("2", "CMR7", 5.2, 7.0, 96.0),
        _g("+", "CMR10", 12),
        _g("a", "CMMI10", 20),
        _g("i", "CMMI7", 25.2, 7.0, 101.5),
    ]
    assert glyph_latex(glyphs, []) == "x^{2}+a_{i}"


def test_fraction_from_a_rule() -> None:
    glyphs = [_g("1", "CMR10", 2, base=95.0), _g("n", "CMMI10", 2, base=110.0)]
    bar = Rule(1.0, 99.0, 8.0, 99.4)
    assert glyph_latex(glyphs, [bar]) == "\\frac{1}{n}"


def test_what_cannot_be_accounted_for_is_refused() -> None:
    with pytest.raises(GlyphMathError, match="unknown glyph"):
        glyph_latex([_g("x", "Helvetica", 0)], [])
    with pytest.raises(GlyphMathError, match="no common relation or centre"):
        glyph_latex([_g("a", "CMMI10", 0), _g("b", "CMMI10", 30, base=120.0)], [])
    with pytest.raises(GlyphMathError, match="nothing above or below"):
        glyph_latex([_g("a", "CMMI10", 0)], [Rule(50.0, 50.0, 60.0, 50.4)])
    with pytest.raises(GlyphMathError, match="radical"):
        glyph_latex([_g("√", "CMSY10", 0), _g("x", "CMMI10", 6)], [])


def test_join_latex_keeps_control_words_apart() -> None:
    assert join_latex(["\\alpha", "b", "\\,", "c"]) == "\\alpha b\\,c"


def test_glyph_reading_can_be_switched_off(glyph_pdf: bytes, engine: Engine) -> None:
    from scipix.pdf.page import PageOptions

    pages = convert_pdf(glyph_pdf, engine, pages="1", opts=PageOptions(glyph_math=False))
    confidences = [ln.confidence for p in pages for ln in p.lines if ln.kind == "math"]
    assert confidences and GLYPH_CONFIDENCE not in confidences
