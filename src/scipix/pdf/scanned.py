"""Pages without a text layer: text lines from RapidOCR (bundled PP-OCR weights, offline),
formulas from the math engine.

OCR boxes whose vertical extents overlap are grouped into rows. A row that is one confident box
of words (two or more words of letters), or that starts at the text's left margin and is wide,
is a text line; every other row (centred fragments, symbols, low confidence) is math, and
neighbouring math rows merge into one display formula that the engine reads from the page
pixels. Inside text lines, runs of words that read as math (operators with operands, letters
run into digits as in ``x2`` for x squared, Greek and other math symbols) are cut out by their
word boxes and read by the engine as inline math; a reading the engine is unsure of keeps the
OCR text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import cv2
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


_OPERATORS = set("=+−-±×÷·<>≤≥≈≠→←⇒⇔∈∉⊂⊆∪∩∼")
_STRONG = set("∑∏∫∮√∞∂∇^_αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ")
_SCRIPTED = re.compile(r"^[A-Za-z]{1,3}\d{1,2}$")  # x2, mc2: a superscript read flat
_CALL = re.compile(r"^[A-Za-z]{1,3}\([A-Za-z0-9,+−-]{1,8}\)$")  # f(x), g(a,b)
_ARTICLES = {"a", "A", "I"}
_PUNCT = ".,;:"
INLINE_MIN_CONFIDENCE = 0.35


def _word_kind(word: str) -> str:
    """'op', 'strong', 'operand', 'weak' (an article that may be a variable), 'text'."""
    core = word.rstrip(_PUNCT)
    if not core:
        return "text"
    if all(ch in _OPERATORS for ch in core):
        return "op"
    if any(ch in _STRONG for ch in core) or _SCRIPTED.match(core) or _CALL.match(core):
        return "strong"
    if core in _ARTICLES:
        return "weak"
    if (len(core) == 1 and core.isalpha()) or core.replace(".", "").isdigit():
        return "operand"
    if any(ch in _OPERATORS for ch in core[1:-1]) and not core.replace("-", "").isalpha():
        return "strong"  # x+y=1 read as one word, not a hyphenated word
    return "text"


def inline_math_spans(words: list[str]) -> list[tuple[int, int]]:
    """Half-open index ranges of the words that read as one inline formula each."""
    kinds = [_word_kind(w) for w in words]
    for i, k in enumerate(kinds):  # "a" is a variable only next to an operator
        if k == "weak":
            near = {kinds[j] for j in (i - 1, i + 1) if 0 <= j < len(kinds)}
            kinds[i] = "operand" if "op" in near else "text"
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if kinds[i] == "text":
            i += 1
            continue
        j = i
        while j < len(words) and kinds[j] != "text":
            j += 1
            if words[j - 1][-1:] in _PUNCT and words[j - 1].rstrip(_PUNCT):
                break  # sentence punctuation ends the formula
        run = kinds[i:j]
        while run and run[-1] == "op":  # a dangling operator belongs to the prose
            run.pop()
            j -= 1
        has_op = "op" in run and any(k != "op" for k in run)
        if run and ("strong" in run or (has_op and len(run) >= 3)):
            spans.append((i, j))
        i = max(j, i + 1)
    return spans


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


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True, slots=True)
class _OcrLine:
    """One box the text OCR read: its pixel box, text, score and words."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    text: str
    score: float
    words: tuple[_Word, ...]


@dataclass(slots=True)
class _Row:
    lines: list[_OcrLine]  # left to right

    @property
    def x0(self) -> float:
        return min(ln.box[0] for ln in self.lines)

    @property
    def y0(self) -> float:
        return min(ln.box[1] for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.box[2] for ln in self.lines)

    @property
    def y1(self) -> float:
        return max(ln.box[3] for ln in self.lines)

    @property
    def text(self) -> str:
        return " ".join(ln.text.strip() for ln in self.lines)

    @property
    def score(self) -> float:
        return min(ln.score for ln in self.lines)


def _rows(lines: list[_OcrLine]) -> list[_Row]:
    """OCR boxes whose vertical extents overlap, grouped into rows (top to bottom)."""
    rows: list[_Row] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])):
        for row in rows:
            if min(row.y1, ln.box[3]) - max(row.y0, ln.box[1]) > 0:
                row.lines.append(ln)
                break
        else:
            rows.append(_Row([ln]))
    for row in rows:
        row.lines.sort(key=lambda ln: ln.box[0])
    return rows


def _ocr_lines(result: Any) -> list[_OcrLine]:
    """RapidOCR's output as lines with axis-aligned boxes and their words' boxes."""
    quads = [] if result.boxes is None else [np.asarray(b) for b in result.boxes]
    texts = [str(t) for t in (result.txts or ())]
    scores = [float(s) for s in (result.scores or ())]
    raw_words = getattr(result, "word_results", None) or ()
    lines = []
    for k, (q, text, score) in enumerate(zip(quads, texts, scores, strict=False)):
        words = []
        for w_text, _w_score, w_quad in (raw_words[k] if k < len(raw_words) else ()) or ():
            wq = np.asarray(w_quad, dtype=np.float64).reshape(-1, 2)
            if not str(w_text).strip() or len(wq) == 0:
                continue
            (wx0, wy0), (wx1, wy1) = wq.min(axis=0), wq.max(axis=0)
            words.append(_Word(str(w_text), float(wx0), float(wy0), float(wx1), float(wy1)))
        box = (
            float(q[:, 0].min()),
            float(q[:, 1].min()),
            float(q[:, 0].max()),
            float(q[:, 1].max()),
        )
        lines.append(_OcrLine(box, text, score, tuple(words)))
    return lines


def _clear_border_ink(crop: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Whiten ink that touches the crop's edge: pieces of the neighbouring words and lines."""
    if crop.size == 0:
        return crop
    _, mask = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    touching = np.setdiff1d(np.unique(edge), [0])
    out = crop.copy()
    if touching.size:
        gone = np.isin(labels, touching).astype(np.uint8)
        out[cv2.dilate(gone, np.ones((3, 3), np.uint8)) > 0] = 255  # with their grey fringe
    return out


def _text_segments(
    row: _Row, gray: NDArray[np.uint8], engine: Engine, opts: PageOptions
) -> tuple[Segment, ...]:
    """A text row as text and inline-math segments (math read from the page pixels)."""
    conf = row.score
    words = [w for ln in row.lines for w in ln.words]
    plain = row.text
    if not words or " ".join(w.text for w in words).replace(" ", "") != plain.replace(" ", ""):
        return (Segment("text", plain, conf),)  # word boxes missing or not matching the line
    spans = inline_math_spans([w.text for w in words])
    if not spans:
        return (Segment("text", plain, conf),)
    out: list[Segment] = []
    text: list[str] = []
    pos = 0
    for a, b in spans:
        text += [w.text for w in words[pos:a]]
        span = words[a:b]
        last = span[-1]
        tail = last.text[len(last.text.rstrip(_PUNCT)) :]
        h = max(w.y1 for w in span) - min(w.y0 for w in span)
        cut = len(tail) * (last.x1 - last.x0) / max(1, len(last.text))  # the punctuation
        # pad sideways up to half the gap to the neighbouring words
        left = min(0.15 * h, (span[0].x0 - words[a - 1].x1) / 2 if a > 0 else 0.15 * h)
        right = min(0.15 * h, (words[b].x0 - last.x1) / 2 if b < len(words) else 0.15 * h)
        x0 = min(w.x0 for w in span) - max(left, 0.0)
        x1 = max(w.x1 for w in span) - cut + (0.0 if tail else max(right, 0.0))
        y0, y1 = min(w.y0 for w in span), max(w.y1 for w in span)
        crop = _clear_border_ink(gray[max(0, int(y0)) : int(y1) + 1, max(0, int(x0)) : int(x1) + 1])
        seg = recognize_math(engine, np.pad(crop, 8, constant_values=255), opts.rm_spaces)
        value = seg.value.rstrip(".,;:") if tail else seg.value
        if not value or seg.confidence < INLINE_MIN_CONFIDENCE:
            text += [w.text for w in span]
        else:
            if text:
                out.append(Segment("text", " ".join(text), conf))
            out.append(Segment("math", value, seg.confidence))
            text = [tail] if tail else []
        pos = b
    text += [w.text for w in words[pos:]]
    if text:
        out.append(Segment("text", " ".join(text), conf))
    return tuple(out)


_NUMBERED = re.compile(r"^(\d+(?:\.\d+){0,2})\.?\s+[A-Z]")


def _numbered_heading(text: str) -> int:
    """Markdown level of a short numbered line such as "2 Results" or "3.1 Proofs" (else 0)."""
    m = _NUMBERED.match(text.strip())
    if m is None or len(text.split()) > 8 or text.rstrip()[-1:] in ".,;:":
        return 0
    return min(2 + m.group(1).count("."), 3)


def _is_text(row: _Row, margin: float, page_width: float) -> bool:
    text = " ".join(ln.text for ln in row.lines)
    words = len(_WORD.findall(text))
    mathy = sum(ch in _MATHY for ch in text)
    letters = sum(ch.isalpha() for ch in text) / max(1, len(text.replace(" ", "")))
    if text.strip().isdigit() and len(text.strip()) <= 4:
        return True  # a page number
    wordy = words >= 2 or (words == 1 and max(map(len, _WORD.findall(text))) >= 3)
    if len(row.lines) == 1 and wordy and letters >= 0.6 and row.score >= 0.9 and mathy <= 1:
        return True
    at_margin = abs(row.x0 - margin) < 0.03 * page_width
    return at_margin and (row.x1 - row.x0) > 0.4 * page_width and words >= 3


def convert_scanned(prep: PreparedPage, engine: Engine, opts: PageOptions) -> PageResult:
    """OCR a scanned page (``prep.scan`` holds its RGB pixels at ``opts.scan_dpi``)."""
    assert prep.scan is not None
    rgb: NDArray[np.uint8] = prep.scan
    ocr = text_ocr()
    rows = _rows(_ocr_lines(ocr(rgb, return_word_box=True)))
    width_px = float(rgb.shape[1])
    margin = float(np.percentile([r.x0 for r in rows], 10)) if rows else 0.0
    is_text = [_is_text(r, margin, width_px) for r in rows]
    scale = 72.0 / opts.scan_dpi
    gray = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.uint8)
    heights = [r.y1 - r.y0 for r, t in zip(rows, is_text, strict=True) if t]
    median = float(np.median(heights)) if heights else 1.0
    lines: list[PageLine] = []
    block = -1
    prev_bottom = -1e9
    prev_kind = ""
    i = 0
    while i < len(rows):
        row = rows[i]
        if is_text[i]:
            height = row.y1 - row.y0
            level = 1 if height > 1.5 * median else 2 if height > 1.25 * median else 0
            if not level and (row.x1 - row.x0) < 0.6 * width_px:
                level = _numbered_heading(row.text)
            if level or prev_kind != "text" or row.y0 - prev_bottom > 0.9 * height:
                block += 1
            box = Box(
                row.x0 * scale, row.y0 * scale, (row.x1 - row.x0) * scale, (row.y1 - row.y0) * scale
            )
            conf = row.score
            kind: LineKind = "heading" if level else "text"
            segments = (
                (Segment("text", row.text, conf),)
                if level
                else _text_segments(row, gray, engine, opts)
            )
            lines.append(PageLine(kind, segments, box, block, level, conf))
            prev_bottom, prev_kind = row.y1, kind
            i += 1
            continue
        x0, y0, x1, y1 = row.x0, row.y0, row.x1, row.y1
        while i + 1 < len(rows) and not is_text[i + 1]:
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


__all__ = ["TextOcrUnavailable", "convert_scanned", "inline_math_spans", "text_ocr"]
