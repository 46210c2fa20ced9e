"""Converting the test paper: reading order, display formulas (image-equal to the source),
inline math, the output formats, two columns, scanned pages and page errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pdf_samples import DISPLAY

from scipix.engines.base import Engine
from scipix.evaluation import image_match
from scipix.pdf import PageResult, convert_pdf, render
from scipix.pdf.output import Delimiters
from scipix.pdf.page import PageOptions
from scipix.render import TexRenderer
from scipix.render.tex import tex_available


@pytest.fixture(scope="module")
def paper_pages(paper_pdf: bytes, engine: Engine) -> list[PageResult]:
    return convert_pdf(paper_pdf, engine)


def _display(pages: list[PageResult]) -> list[str]:
    return [line.segments[0].value for p in pages for line in p.lines if line.kind == "math"]


def test_reading_order_and_structure(paper_pages: list[PageResult]) -> None:
    mmd = render(paper_pages, "mmd")
    order = [
        "# On Simple Formulas",
        "## 1 Introduction",
        "We study the circle",
        "in this short note. The quadratic formula gives the roots of a polynomial:",
        "\\[",
        "This is a classic result taught in school.",
        "## 2 Results",
        "Euler proved the following identity about series:",
        "The Gaussian integral is also well known:",
        "Finally, the binomial coefficient satisfies",
        "which ends our note.",
    ]
    positions = [mmd.find(s) for s in order]
    assert all(p >= 0 for p in positions), list(zip(order, positions, strict=True))
    assert positions == sorted(positions)
    assert mmd.count("\\[") == len(DISPLAY)


def test_inline_math(paper_pages: list[PageResult]) -> None:
    mmd = render(paper_pages, "mmd")
    assert "\\(x^{2}+y^{2}=1\\)" in mmd
    assert "\\(E=mc^{2}\\)" in mmd
    custom = render(paper_pages, "mmd", Delimiters(("$", "$"), ("$$", "$$")))
    assert "$x^{2}+y^{2}=1$" in custom


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
def test_display_formulas_image_equal(paper_pages: list[PageResult]) -> None:
    got = _display(paper_pages)
    assert len(got) == len(DISPLAY)
    images = TexRenderer().render(DISPLAY + got, dpi=150)
    truth, pred = images[: len(DISPLAY)], images[len(DISPLAY) :]
    equal = sum(
        1
        for t, p in zip(truth, pred, strict=True)
        if t is not None and p is not None and image_match(t, p)
    )
    print(f"\ndisplay formulas image-equal to the source: {equal}/{len(DISPLAY)}")
    assert equal >= len(DISPLAY) // 2 + 1


def test_outputs(paper_pages: list[PageResult], tmp_path: Path) -> None:
    md = render(paper_pages, "md")
    assert "$$\nx=" in md and "$x^{2}+y^{2}=1$" in md
    data = json.loads(render(paper_pages, "lines.json"))
    lines = data["pages"][0]["lines"]
    kinds = {line["type"] for line in lines}
    assert {"text", "math", "heading"} <= kinds
    for line in lines:
        assert set(line["region"]) == {"top_left_x", "top_left_y", "width", "height"}
        assert 0.0 <= line["confidence"] <= 1.0 and "text" in line
    tex = render(paper_pages, "tex")
    assert tex.startswith("\\documentclass") and "section*{1 Introduction}" in tex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "out.tex").write_text(tex)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "out.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_page_ranges_and_progress(paper_pdf: bytes, engine: Engine) -> None:
    seen: list[int] = []
    pages = convert_pdf(paper_pdf, engine, pages="1", progress=lambda p: seen.append(p.page))
    assert [p.page for p in pages] == [1] and seen == [1]


def test_two_columns_read_column_by_column(two_column_pdf: bytes, engine: Engine) -> None:
    pages = convert_pdf(two_column_pdf, engine, pages="1")
    text = render(pages, "mmd")
    numbers = [int(m) for m in re.findall(r"Paragraph (\d+) says", text)]
    assert len(numbers) >= 6
    assert numbers == sorted(numbers), numbers


def test_failing_page_does_not_stop_the_rest(paper_pdf: bytes) -> None:
    class Broken:
        name = "broken"

        def ready(self) -> bool:
            return True

        def recognize(self, image: object, options: object = None) -> object:
            raise RuntimeError("boom")

    # glyph math off: every formula of the paper then goes to the (broken) engine
    opts = PageOptions(glyph_math=False)
    pages = convert_pdf(paper_pdf, Broken(), opts=opts)  # type: ignore[arg-type]
    assert pages[0].error is not None and pages[0].error["id"] == "sys_exception"
    assert render(pages, "mmd").strip() == ""


def test_scanned_pages(scanned_pdf: bytes, engine: Engine) -> None:
    pytest.importorskip("rapidocr", reason="scanned pages need rapidocr (pip install scipix[pdf])")
    pages = convert_pdf(scanned_pdf, engine)
    assert pages[0].scanned and pages[0].error is None
    mmd = render(pages, "mmd")
    for phrase in ("On Simple Formulas", "Euler proved the following identity", "ends our note"):
        assert phrase in mmd
    assert mmd.find("Euler proved") < mmd.find("Gaussian integral") < mmd.find("binomial")
    got = _display(pages)
    print(f"\nscanned page: {len(got)} math regions: {got}")
    assert len(got) >= 3
    # inline math inside a scanned text line is read from the pixels, not left as OCR text
    intro = next(
        ln for ln in pages[0].lines if any("study the circle" in s.value for s in ln.segments)
    )
    inline = [s.value for s in intro.segments if s.kind == "math"]
    print(f"inline math in the scanned line: {inline}")
    assert "x^{2}+y^{2}=1" in inline
    assert r"\(x^{2}+y^{2}=1\)" in mmd
    assert "## 1 Introduction\n" in mmd and "## 2 Results\n" in mmd


def test_numbered_headings_on_scanned_pages() -> None:
    from scipix.pdf.scanned import _numbered_heading

    assert _numbered_heading("1 Introduction") == 2
    assert _numbered_heading("3.1 Proof of the lemma") == 3
    assert _numbered_heading("2 Results") == 2
    assert _numbered_heading("2 apples and 3 pears were bought by the man today.") == 0
    assert _numbered_heading("12 Monkeys were seen in the garden today, and more.") == 0
    assert _numbered_heading("x = 1") == 0


def test_inline_math_spans_in_ocr_words() -> None:
    from scipix.pdf.scanned import inline_math_spans

    def spans(line: str) -> list[str]:
        words = line.split()
        return [" ".join(words[a:b]) for a, b in inline_math_spans(words)]

    assert spans("We study the circle x2 + y2 = 1 and the energy E = mc2 in this note.") == [
        "x2 + y2 = 1",
        "E = mc2",
    ]
    assert spans("The quadratic formula gives the roots of a polynomial:") == []
    assert spans("2 Results") == []
    assert spans("Let f(x) = a + b where α is small and well-known.") == ["f(x) = a + b", "α"]
    assert spans("so a = b, as claimed") == ["a = b,"]
    assert spans("the sum x + y, then") == ["x + y,"]


NUMBERED = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
\section{Results}
The energy of a particle is given by the relation below, where $m$ is its mass.
\begin{equation}
E = m c^{2}
\end{equation}
We also recall the quadratic formula
\begin{equation}
x = \frac{-b \pm \sqrt{b^{2} - 4ac}}{2a}
\end{equation}
which solves $a x^{2} + b x + c = 0$.
\end{document}
"""


def test_equation_numbers_become_tags_and_page_numbers_go(tmp_path: Path, engine: Engine) -> None:
    from pdf_samples import compile_latex

    pages = convert_pdf(compile_latex(NUMBERED, tmp_path, "numbered"), engine)
    text = render(pages, "mmd")
    assert "E=mc^{2} \\tag{1}" in text
    assert text.count("\\tag{") == 2 and "\\tag{2}" in text
    assert "(1)" not in text and "(2)" not in text
    assert not re.search(r"^\s*1\s*$", text, re.M)  # the page number in the footer is dropped
    # "= 0" belongs to the formula; the sentence's full stop stays outside it, unspaced
    assert text.rstrip().endswith("+c=0\\).")
    lines = json.loads(render(pages, "lines.json"))
    tags = [ln.get("tag") for p in lines["pages"] for ln in p["lines"] if ln["type"] == "math"]
    assert tags == ["1", "2"]
