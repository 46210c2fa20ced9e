"""Sample documents for the PDF tests: LaTeX sources and helpers that build PDFs."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest

DISPLAY = [
    r"x = \frac{-b \pm \sqrt{b^2-4ac}}{2a}",
    r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}",
    r"\int_{-\infty}^{\infty} e^{-x^2} dx = \sqrt{\pi}",
    r"\binom{n}{k} = \frac{n!}{k!(n-k)!}",
]

PAPER = r"""\documentclass[12pt]{article}
\usepackage{amsmath}
\begin{document}
\title{On Simple Formulas}
\author{A. Tester}
\date{}
\maketitle
\section{Introduction}
We study the circle $x^2+y^2=1$ and the energy $E=mc^2$ in this short note.
The quadratic formula gives the roots of a polynomial:
\[ <D0> \]
This is a classic result taught in school.
\section{Results}
Euler proved the following identity about series:
\[ <D1> \]
The Gaussian integral is also well known:
\[ <D2> \]
Finally, the binomial coefficient satisfies
\[ <D3> \]
which ends our note.
\end{document}
"""
for _k, _formula in enumerate(DISPLAY):
    PAPER = PAPER.replace(f"<D{_k}>", _formula)

TWO_COLUMN = r"""\documentclass[twocolumn]{article}
\begin{document}
<BODY>
\end{document}
""".replace(
    "<BODY>",
    "\n\n".join(
        f"Paragraph {i} says alpha beta gamma delta epsilon zeta eta theta iota kappa lambda "
        f"mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega number {i}."
        for i in range(1, 19)
    ),
)


def compile_latex(source: str, folder: Path, name: str = "paper") -> bytes:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.tex").write_text(source)
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (folder / f"{name}.pdf").read_bytes()


def image_only(pdf: bytes, dpi: int = 150) -> bytes:
    """Rasterise every page and wrap the images as a PDF without a text layer."""
    doc = pdfium.PdfDocument(pdf)
    try:
        images = [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in doc]
    finally:
        doc.close()
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buf.getvalue()


def minimal_pdf(objects: list[str]) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out
