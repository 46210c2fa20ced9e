"""PDF conversion speed: seconds per page, born-digital and scanned, on a generated paper.

python benchmarks/pdf.py [--pages 10] [--scanned-pages 2] [--workers 0] [--accuracy]
                         [--im2latex N] [--seed 2024] [--pixels-only]

Builds a ``--pages``-page LaTeX paper (paragraphs with inline math, four display formulas per
page) with pdflatex, converts it with the local engine, then converts an image-only (150 dpi)
version of its first ``--scanned-pages`` pages (text OCR by RapidOCR), and prints a Markdown
table. Needs pdflatex; the scanned row needs rapidocr (``pip install 'scipix[pdf]'``).
``--accuracy`` also sets the 208 textbook formulas (scipix/data/textbook.txt) as display
formulas of one paper, converts it, and counts how many come back image-equal to their source
(both rendered with TeX at 150 dpi, ``scipix.evaluation.image_match``), and how many were
rebuilt from the PDF's glyphs; ``--im2latex N`` does the same for N formulas sampled (seed
2024) from ../shared/data/im2latex_val.txt, real formulas from papers.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium

from scipix.config import load_settings
from scipix.engines.registry import build_engine
from scipix.pdf import convert_pdf
from scipix.pdf.convert import default_workers
from scipix.pdf.model import PageResult
from scipix.pdf.page import GLYPH_CONFIDENCE, PageOptions

FORMULAS = [
    r"x = \frac{-b \pm \sqrt{b^2-4ac}}{2a}",
    r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}",
    r"\int_{0}^{1} x^2 dx = \frac{1}{3}",
    r"\binom{n}{k} = \frac{n!}{k!(n-k)!}",
    r"e^{i\pi} + 1 = 0",
    r"\lim_{x \to 0} \frac{\sin x}{x} = 1",
]
SENTENCE = (
    "We consider the function $f(x)=x^2+1$ on the interval $0<x<1$ and note that the "
    "quantity $a^2+b^2=c^2$ appears throughout this section of the text. "
)


PARAGRAPHS = 4  # per page, each followed by a display formula
SENTENCE_REPEATS = 2


def paper(pages: int) -> str:
    body: list[str] = []
    for p in range(pages):
        body.append(f"\\section{{Part {p + 1}}}")
        for k in range(PARAGRAPHS):
            body.append(SENTENCE * SENTENCE_REPEATS)
            body.append(f"\\[ {FORMULAS[(p + k) % len(FORMULAS)]} \\]")
        body.append("\\clearpage")
    return (
        "\\documentclass[12pt]{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
        + "\n\n".join(body)
        + "\n\\end{document}\n"
    )


def build(pages: int, folder: Path) -> bytes:
    (folder / "bench.tex").write_text(paper(pages))
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "bench.tex"],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return (folder / "bench.pdf").read_bytes()


def image_only(pdf: bytes, pages: int, dpi: int = 150) -> bytes:
    doc = pdfium.PdfDocument(pdf)
    images = [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(pages)]
    doc.close()
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buf.getvalue()


INLINE = ["f(x)=x^2+1", "0<x<1", "a^2+b^2=c^2"]  # the inline math of SENTENCE


def inline_accuracy(results: list[PageResult]) -> str:
    """Inline formulas of the generated paper: how many were read as math, how many came back
    image-equal to one of the sentence's three formulas."""
    from scipix.evaluation import image_match
    from scipix.render import TexRenderer

    found = [
        seg.value
        for r in results
        for ln in r.lines
        if ln.kind == "text"
        for seg in ln.segments
        if seg.kind == "math"
    ]
    expected = 3 * SENTENCE_REPEATS * PARAGRAPHS * len(results)
    renderer = TexRenderer()
    truths = [t for t in renderer.render(INLINE, 150) if t is not None]
    equal = 0
    for img in renderer.render(found, 150):
        equal += img is not None and any(image_match(img, t) for t in truths)
    return f"inline math: {len(found)} of {expected} read as math, {equal} image-equal"


def display_accuracy(
    engine: object, workers: int, name: str, formulas: list[str], opts: PageOptions
) -> str:
    """Formulas set as display math in one pdflatex paper, each after a "Formula i reads as
    follows." sentence that pairs it with its source: how many come back image-equal (both
    rendered with TeX at 150 dpi), and how many of them were rebuilt from the PDF's glyphs.
    Formulas TeX cannot render on their own are left out of the paper."""
    from scipix.evaluation import image_match
    from scipix.render import TexRenderer

    renderer = TexRenderer()
    rendered = renderer.render(formulas, 150)
    kept = [(f, img) for f, img in zip(formulas, rendered, strict=True) if img is not None]
    body = [f"Formula {i + 1} reads as follows.\n\\[ {f} \\]" for i, (f, _) in enumerate(kept)]
    source = (
        "\\documentclass[12pt]{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + "\n\n".join(body)
        + "\n\\end{document}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench.tex").write_text(source)
        subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "bench.tex"],
            cwd=tmp,
            check=False,
            capture_output=True,
            timeout=600,
        )
        pdf = (Path(tmp) / "bench.pdf").read_bytes()
    results = convert_pdf(pdf, engine, opts=opts, workers=workers)  # type: ignore[arg-type]
    got: dict[int, tuple[str, bool]] = {}  # formula index -> (LaTeX, read from glyphs)
    current = -1
    for r in results:
        for ln in r.lines:
            text = " ".join(seg.value for seg in ln.segments)
            m = re.match(r"Formula (\d+) reads", text)
            if m:
                current = int(m.group(1)) - 1
            elif ln.kind == "math" and current >= 0 and current not in got and ln.segments:
                seg = ln.segments[0]
                got[current] = (seg.value, seg.confidence == GLYPH_CONFIDENCE)
    keys = sorted(got)
    pred = renderer.render([got[k][0] for k in keys], 150)
    equal = [
        k
        for k, img in zip(keys, pred, strict=True)
        if img is not None and image_match(img, kept[k][1])
    ]
    glyphs = [k for k in keys if got[k][1]]
    glyphs_equal = len(set(glyphs) & set(equal))
    n = len(kept)
    return (
        f"| {name} | {n} | {len(got)} | {len(glyphs)} | {glyphs_equal} | "
        f"{len(equal)} ({100 * len(equal) / max(n, 1):.1f}%) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--scanned-pages", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--accuracy", action="store_true", help="display-formula accuracy too")
    parser.add_argument(
        "--im2latex", type=int, default=0, help="with --accuracy: also N im2latex formulas"
    )
    parser.add_argument("--seed", type=int, default=2024, help="the im2latex sample's seed")
    parser.add_argument(
        "--pixels-only", action="store_true", help="accuracy without glyph math (recognizer only)"
    )
    args = parser.parse_args()
    engine = build_engine(load_settings(None, {"cache.enabled": False}))
    workers = default_workers(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        born = build(args.pages, Path(tmp))
    rows: list[tuple[str, int, float, str]] = []
    t0 = time.perf_counter()
    results = convert_pdf(born, engine, workers=workers)
    elapsed = time.perf_counter() - t0
    formulas = sum(1 for r in results for line in r.lines if line.kind == "math")
    note = f"{formulas} display formulas; {inline_accuracy(results)}"
    rows.append(("born-digital", len(results), elapsed, note))
    if args.scanned_pages > 0:
        try:
            from scipix.pdf.scanned import text_ocr

            t_load = time.perf_counter()
            text_ocr()  # model load, once per process: reported apart
            load = time.perf_counter() - t_load
            scanned = image_only(born, min(args.scanned_pages, len(results)))
            t0 = time.perf_counter()
            results = convert_pdf(scanned, engine, workers=workers)
            elapsed = time.perf_counter() - t0
            note = f"OCR load {load:.1f} s; {inline_accuracy(results)}"
            rows.append(("scanned (150 dpi)", len(results), elapsed, note))
        except Exception as exc:  # rapidocr missing: report the born-digital row only
            rows.append(("scanned", 0, 0.0, f"skipped: {exc}"))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nPDF conversion, {cpus} CPU core(s), {workers} page worker(s)\n")
    print("| pages | kind | total s | s/page | notes |")
    print("|---:|---|---:|---:|---|")
    for kind, n, secs, note in rows:
        per = secs / n if n else 0.0
        print(f"| {n} | {kind} | {secs:.2f} | {per:.2f} | {note} |")
    if args.accuracy:
        from scipix.bench import load_set

        print(
            "\n| set | formulas in the paper | display regions paired | rebuilt from glyphs "
            "| of those image-equal | image-equal |\n|---|---:|---:|---:|---:|---:|"
        )
        opts = PageOptions(glyph_math=not args.pixels_only)
        textbook = load_set("textbook", 0, 0)
        print(display_accuracy(engine, workers, "textbook", textbook, opts))
        if args.im2latex:
            sample = load_set("im2latex", args.im2latex, args.seed)
            name = f"im2latex ({args.im2latex}, seed {args.seed})"
            print(display_accuracy(engine, workers, name, sample, opts))


if __name__ == "__main__":
    main()
