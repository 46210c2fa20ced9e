"""Convert one page: read its text layer (or OCR it when it has none) and recognise its math.

Math regions are rendered from the page at ``math_dpi`` and read by the formula engine (the
same :class:`~scipix.engines.base.Engine` the server and CLI use). PDFium calls hold
:data:`~scipix.pdf.document.PDFIUM_LOCK`; recognition runs outside it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray

from scipix.engines.base import Engine, RecognizeOptions
from scipix.errors import ScipixError
from scipix.io import load_image
from scipix.pdf.document import PDFIUM_LOCK
from scipix.pdf.glyphmath import Rule, try_glyph_latex
from scipix.pdf.layout import Glyph, LayoutLine, is_math_char, is_math_font, layout
from scipix.pdf.mathfonts import family
from scipix.pdf.model import Box, LineKind, PageLine, PageResult, Segment

MIN_TEXT_CHARS = 8  # fewer real characters than this: the page is treated as scanned
PAD_PT = 2.5  # points around a formula region (fraction bars and radicals are not glyphs)
GLYPH_CONFIDENCE = 0.99  # a formula rebuilt from its own glyphs: exact symbols, layout by rule


@dataclass(frozen=True, slots=True)
class PageOptions:
    math_dpi: int = 300
    scan_dpi: int = 300
    rm_spaces: bool = True
    glyph_math: bool = True  # rebuild born-digital math from its glyphs where they all read


# text OCR for scanned pages: (rgb image) -> lines; None when no text OCR is available
TextOcr = Callable[[NDArray[np.uint8]], list[tuple[tuple[float, float, float, float], str, float]]]


def read_glyphs(page: pdfium.PdfPage) -> list[Glyph]:
    """The page's characters with boxes (top-left origin, points), fonts and sizes."""
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        buf = ctypes.create_string_buffer(256)
        flags = ctypes.c_int()
        ox, oy = ctypes.c_double(), ctypes.c_double()
        loose = pdfium_c.FS_RECTF()
        glyphs: list[Glyph] = []
        for i in range(textpage.count_chars()):
            # control codes (the extension font's small delimiters sit at 0-15) come back from
            # get_text_range as "", so read the code point itself
            ch = textpage.get_text_range(i, 1) or chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i))
            if ch == "\ufffe":
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            if right - left <= 0.01 and top - bottom <= 0.01:
                continue  # generated characters (spaces, line breaks) have empty boxes
            pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, buf, 256, ctypes.byref(flags))
            font = buf.value.decode("utf-8", "replace")
            if (ch.isspace() or ord(ch) < 0x20) and family(font) != "ex":
                continue  # the extension font has glyphs at the codes of controls and spaces
            size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, i))
            math = is_math_font(font) or is_math_char(ch)
            pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, ctypes.byref(ox), ctypes.byref(oy))
            pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, i, ctypes.byref(loose))
            glyphs.append(
                Glyph(
                    ch,
                    font,
                    size,
                    left,
                    height - top,
                    right,
                    height - bottom,
                    math,
                    base=height - oy.value,
                    adv0=float(loose.left),
                    adv1=float(loose.right),
                )
            )
        return glyphs
    finally:
        textpage.close()


def read_rules(page: pdfium.PdfPage) -> list[Rule]:
    """Thin filled rectangles and lines of the page (fraction bars, radical overbars), as
    boxes in points with a top-left origin. Only drawn paths count, not images."""
    height = page.get_height()
    rules: list[Rule] = []
    fill, stroke, width = ctypes.c_int(), ctypes.c_int(), ctypes.c_float()
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        pdfium_c.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill), ctypes.byref(stroke))
        if stroke.value and pdfium_c.FPDFPageObj_GetStrokeWidth(obj.raw, ctypes.byref(width)):
            # a stroked line (pdfTeX draws rules so): PDFium's bounds reach a line width
            # beyond the segment on every side
            w = float(width.value)
            mid = 0.5 * (top + bottom)
            left, right, bottom, top = left + w, right - w, mid - 0.5 * w, mid + 0.5 * w
        if right - left > 0.8 and top - bottom < 2.0:
            rules.append(Rule(left, height - top, right, height - bottom))
    return rules


def render_region(page: pdfium.PdfPage, box: Box, dpi: int) -> NDArray[np.uint8]:
    """Grayscale pixels of ``box`` (points, top-left origin), padded with white."""
    width, height = page.get_size()
    x0 = max(0.0, box.x - PAD_PT)
    y0 = max(0.0, box.y - PAD_PT)
    x1 = min(width, box.x1 + PAD_PT)
    y1 = min(height, box.y1 + PAD_PT)
    crop = (x0, height - y1, width - x1, y0)  # left, bottom, right, top margins to cut
    bitmap = page.render(scale=dpi / 72.0, crop=crop, grayscale=True)
    try:
        gray = np.array(bitmap.to_numpy(), dtype=np.uint8)
    finally:
        bitmap.close()
    if gray.ndim == 3:
        gray = gray[..., 0]
    return np.pad(gray, 12, constant_values=255)


def render_page(page: pdfium.PdfPage, dpi: int) -> NDArray[np.uint8]:
    bitmap = page.render(scale=dpi / 72.0, rev_byteorder=True)
    try:
        rgb = np.array(bitmap.to_numpy(), dtype=np.uint8)
    finally:
        bitmap.close()
    return rgb[..., :3] if rgb.ndim == 3 else np.stack([rgb] * 3, axis=-1)


def recognize_math(engine: Engine, gray: NDArray[np.uint8], rm_spaces: bool) -> Segment:
    """One formula image -> a math segment (empty LaTeX when nothing could be read)."""
    try:
        result = engine.recognize(load_image(gray), RecognizeOptions(rm_spaces=rm_spaces))
    except ScipixError:
        return Segment("math", "", 0.0)
    return Segment("math", result.latex_styled or result.latex, float(result.confidence))


def _read_region(prep: PreparedPage, k: int, engine: Engine, opts: PageOptions) -> Segment:
    """Region ``k``'s formula: rebuilt from its glyphs when they could all be read, else
    recognised from its pixels."""
    latex = prep.glyph_latex[k]
    if latex is not None:
        return Segment("math", latex, GLYPH_CONFIDENCE)
    crop = prep.crops[k]
    assert crop is not None  # rendered for every region its glyphs did not explain
    return recognize_math(engine, crop, opts.rm_spaces)


def _finish(
    line: LayoutLine,
    prep: PreparedPage,
    engine: Engine,
    opts: PageOptions,
    first: int,
) -> tuple[PageLine, int]:
    """A layout line with its math read; returns the next region index."""
    k = first
    if line.kind == "display":
        seg = _read_region(prep, k, engine, opts)
        page_line = PageLine("math", (seg,), line.box, line.block, 0, seg.confidence, line.tag)
        return page_line, k + 1
    segments: list[Segment] = []
    for n, run in enumerate(line.runs):
        if run.kind == "math":
            seg = _read_region(prep, k, engine, opts)
            nxt = line.runs[n + 1] if n + 1 < len(line.runs) else None
            if nxt is not None and nxt.kind == "text" and nxt.text[:1] in ".,;:":
                # the crop can catch the sentence's punctuation, which the text keeps anyway
                seg = replace(seg, value=seg.value.rstrip(".,;:"))
            segments.append(seg)
            k += 1
        else:
            segments.append(Segment("text", run.text))
    kind: LineKind = "heading" if line.kind == "heading" else "text"
    conf = min((s.confidence for s in segments), default=1.0)
    return PageLine(kind, tuple(segments), line.box, line.block, line.heading_level, conf), k


@dataclass(frozen=True, slots=True)
class PreparedPage:
    """What is read from PDFium under the lock: a layout with its formula crops, or, for a page
    without a text layer, the page's pixels at ``scan_dpi``."""

    number: int
    width: float
    height: float
    lines: tuple[LayoutLine, ...] = ()
    crops: tuple[NDArray[np.uint8] | None, ...] = ()  # per math region, when not read from glyphs
    glyph_latex: tuple[str | None, ...] = ()  # per math region, when read from its glyphs
    scan: NDArray[np.uint8] | None = None


def prepare_page(doc: pdfium.PdfDocument, index: int, opts: PageOptions) -> PreparedPage:
    """Read page ``index`` (0-based). Takes PDFIUM_LOCK."""
    with PDFIUM_LOCK:
        page = doc[index]
        try:
            width, height = page.get_size()
            glyphs = read_glyphs(page)
            if len(glyphs) < MIN_TEXT_CHARS:
                scan = render_page(page, opts.scan_dpi)
                return PreparedPage(index + 1, width, height, scan=scan)
            lines = layout(glyphs, width)
            regions: list[tuple[Box, bool]] = []  # (box, display)
            for line in lines:
                if line.kind == "display":
                    regions.append((line.box, True))
                else:
                    regions += [(run.box, False) for run in line.runs if run.kind == "math"]
            rules = read_rules(page) if opts.glyph_math else []
            latex = tuple(
                region_latex(glyphs, rules, box, display) if opts.glyph_math else None
                for box, display in regions
            )
            crops = tuple(
                render_region(page, box, opts.math_dpi) if tex is None else None
                for (box, _), tex in zip(regions, latex, strict=True)
            )
            return PreparedPage(index + 1, width, height, tuple(lines), crops, latex)
        finally:
            page.close()


def region_latex(
    glyphs: list[Glyph], rules: list[Rule], box: Box, display: bool = True
) -> str | None:
    """The formula in ``box`` rebuilt from the glyphs and rules inside it, or None."""
    x0, y0, x1, y1 = box.x - 0.5, box.y - 0.5, box.x1 + 0.5, box.y1 + 0.5
    inside = [
        g
        for g in glyphs
        if x0 <= 0.5 * (g.x0 + g.x1) <= x1 and y0 <= 0.5 * (g.top + g.bottom) <= y1
    ]
    near = [
        r
        for r in rules
        if box.x - PAD_PT <= r.x0
        and r.x1 <= box.x1 + PAD_PT
        and box.y - PAD_PT <= r.mid <= box.y1 + PAD_PT
    ]
    return try_glyph_latex(inside, near, display)


def finish_born_digital(prep: PreparedPage, engine: Engine, opts: PageOptions) -> PageResult:
    """Read the formulas of a prepared born-digital page (no PDFium calls)."""
    out: list[PageLine] = []
    k = 0
    for line in prep.lines:
        converted, k = _finish(line, prep, engine, opts, k)
        out.append(converted)
    return PageResult(prep.number, prep.width, prep.height, tuple(out))


__all__ = [
    "GLYPH_CONFIDENCE",
    "MIN_TEXT_CHARS",
    "PageOptions",
    "PreparedPage",
    "TextOcr",
    "finish_born_digital",
    "prepare_page",
    "read_glyphs",
    "read_rules",
    "recognize_math",
    "region_latex",
    "render_page",
    "render_region",
]
