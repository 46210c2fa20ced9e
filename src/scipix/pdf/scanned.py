"""Pages without a text layer: text lines from RapidOCR (bundled PP-OCR weights, offline),
formulas from the math engine.

OCR boxes whose vertical extents overlap are grouped into rows. A row that is one confident box
of words (two or more words of letters), or that starts at the text's left margin and is wide,
is a text line; every other row (centred fragments, symbols, low confidence) is math, and
neighbouring math rows merge into one display formula that the engine reads from the page
pixels. Inline math inside scanned text lines stays as the text OCR read it (v1).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scipix.engines.base import Engine
from scipix.errors import ScipixError
from scipix.pdf.model import Box, LineKind, PageLine, PageResult, Segment
from scipix.pdf.page import PageOptions, PreparedPage, recognize_math

_OCR_LOCK = threading.Lock()
_OCR: Any = None
_WORD = re.compile(r"[A-Za-z]{2,}")
_MATHY = set("=±√∑∫∞^_+<>≤≥×÷∂∇")


class TextOcrUnavailable(ScipixError):
    error_id = "pdf_text_ocr_unavailable"
    http_status = 500


def text_ocr() -> Any:
    """The shared RapidOCR instance (loaded once; raises when rapidocr is not installed)."""
    global _OCR
    with _OCR_LOCK:
        if _OCR is None:
            try:
                import logging

                from rapidocr import RapidOCR

                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
                _OCR = RapidOCR()
                logging.getLogger("RapidOCR").setLevel(logging.WARNING)
            except Exception as exc:  # ImportError, or model files that fail to load
                raise TextOcrUnavailable(
                    f"scanned pages need the text OCR (pip install 'scipix[pdf]'): {exc}"
                ) from None
        return _OCR


@dataclass(slots=True)
class _Row:
    boxes: list[tuple[float, float, float, float]]  # x0, y0, x1, y1 in pixels
    texts: list[str]
    scores: list[float]

    @property
    def x0(self) -> float:
        return min(b[0] for b in self.boxes)

    @property
    def y0(self) -> float:
        return min(b[1] for b in self.boxes)

    @property
    def x1(self) -> float:
        return max(b[2] for b in self.boxes)

    @property
    def y1(self) -> float:
        return max(b[3] for b in self.boxes)


def _rows(
    boxes: list[tuple[float, float, float, float]], texts: list[str], scores: list[float]
) -> list[_Row]:
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1], boxes[i][0]))
    rows: list[_Row] = []
    for i in order:
        b = boxes[i]
        for row in rows:
            if min(row.y1, b[3]) - max(row.y0, b[1]) > 0:
                row.boxes.append(b)
                row.texts.append(texts[i])
                row.scores.append(scores[i])
                break
        else:
            rows.append(_Row([b], [texts[i]], [scores[i]]))
    for row in rows:  # left to right inside a row
        idx = sorted(range(len(row.boxes)), key=lambda k: row.boxes[k][0])
        row.boxes = [row.boxes[k] for k in idx]
        row.texts = [row.texts[k] for k in idx]
        row.scores = [row.scores[k] for k in idx]
    return rows


def _is_text(row: _Row, margin: float, page_width: float) -> bool:
    text = " ".join(row.texts)
    words = len(_WORD.findall(text))
    mathy = sum(ch in _MATHY for ch in text)
    letters = sum(ch.isalpha() for ch in text) / max(1, len(text.replace(" ", "")))
    if text.strip().isdigit() and len(text.strip()) <= 4:
        return True  # a page number
    wordy = words >= 2 or (words == 1 and max(map(len, _WORD.findall(text))) >= 3)
    if len(row.boxes) == 1 and wordy and letters >= 0.6 and min(row.scores) >= 0.9 and mathy <= 1:
        return True
    at_margin = abs(row.x0 - margin) < 0.03 * page_width
    return at_margin and (row.x1 - row.x0) > 0.4 * page_width and words >= 3


def convert_scanned(prep: PreparedPage, engine: Engine, opts: PageOptions) -> PageResult:
    """OCR a scanned page (``prep.scan`` holds its RGB pixels at ``opts.scan_dpi``)."""
    assert prep.scan is not None
    rgb: NDArray[np.uint8] = prep.scan
    ocr = text_ocr()
    result = ocr(rgb)
    raw_boxes = [] if result.boxes is None else list(result.boxes)
    boxes = [
        (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 0].max()), float(b[:, 1].max()))
        for b in (np.asarray(rb) for rb in raw_boxes)
    ]
    texts = [str(t) for t in (result.txts or ())]
    scores = [float(s) for s in (result.scores or ())]
    rows = _rows(boxes, texts, scores)
    width_px = float(rgb.shape[1])
    margin = float(np.percentile([r.x0 for r in rows], 10)) if rows else 0.0
    scale = 72.0 / opts.scan_dpi
    gray = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.uint8)
    heights = [r.y1 - r.y0 for r in rows if _is_text(r, margin, width_px)]
    median = float(np.median(heights)) if heights else 1.0
    lines: list[PageLine] = []
    block = -1
    prev_bottom = -1e9
    prev_kind = ""
    i = 0
    while i < len(rows):
        row = rows[i]
        if _is_text(row, margin, width_px):
            height = row.y1 - row.y0
            level = 1 if height > 1.5 * median else 2 if height > 1.25 * median else 0
            if level or prev_kind != "text" or row.y0 - prev_bottom > 0.9 * height:
                block += 1
            box = Box(
                row.x0 * scale, row.y0 * scale, (row.x1 - row.x0) * scale, (row.y1 - row.y0) * scale
            )
            text = " ".join(t.strip() for t in row.texts)
            conf = min(row.scores)
            kind: LineKind = "heading" if level else "text"
            lines.append(PageLine(kind, (Segment("text", text, conf),), box, block, level, conf))
            prev_bottom, prev_kind = row.y1, kind
            i += 1
            continue
        x0, y0, x1, y1 = row.x0, row.y0, row.x1, row.y1
        while i + 1 < len(rows) and not _is_text(rows[i + 1], margin, width_px):
            nxt = rows[i + 1]
            if nxt.y0 - y1 > 0.6 * (y1 - y0) + 10:
                break
            x0, y0, x1, y1 = min(x0, nxt.x0), min(y0, nxt.y0), max(x1, nxt.x1), max(y1, nxt.y1)
            i += 1
        pad = 8
        crop = gray[max(0, int(y0) - pad) : int(y1) + pad, max(0, int(x0) - pad) : int(x1) + pad]
        seg = recognize_math(engine, np.pad(crop, 12, constant_values=255), opts.rm_spaces)
        block += 1
        box = Box(x0 * scale, y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
        lines.append(PageLine("math", (seg,), box, block, 0, seg.confidence))
        prev_bottom, prev_kind = y1, "math"
        i += 1
    return PageResult(prep.number, prep.width, prep.height, tuple(lines), scanned=True)


__all__ = ["TextOcrUnavailable", "convert_scanned", "text_ocr"]
