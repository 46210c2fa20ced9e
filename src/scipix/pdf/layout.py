"""Reading order for a born-digital page: glyphs -> line pieces -> columns, paragraphs, math.

Glyphs whose font is a math font (CMMI, CMSY, CMEX, MSBM, STIX Math, Latin Modern Math, ...)
or whose character is a math symbol are math glyphs. A line piece that is mostly math and not
left-aligned is a display formula (neighbouring centred pieces such as a numerator of plain
digits join it); inside text lines, words holding math glyphs form inline math runs. Headings
are lines whose font is clearly larger than the body text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from scipix.pdf.model import Box

MATH_FONT_PREFIXES = (
    "CMMI",
    "CMSY",
    "CMEX",
    "CMBSY",
    "CMMIB",
    "MSAM",
    "MSBM",
    "EUFM",
    "EUFB",
    "EUSM",
    "EUSB",
    "RSFS",
    "STIXMATH",
    "STIXTWOMATH",
    "STIX2MATH",
    "STIXSIZE",
    "LMMATH",
    "LATINMODERNMATH",
    "LMMONOMATH",
    "XITSMATH",
    "CAMBRIAMATH",
    "ASANAMATH",
    "TEXGYRE",  # TeX Gyre *Math fonts; plain Gyre text fonts are filtered below
    "DEJAVUMATH",
    "SYMBOL",
    "MTMI",
    "MTSY",
    "MTEX",
    "TXMI",
    "TXSY",
    "TXEX",
    "PXMI",
    "PXSY",
    "PXEX",
)
_OPERATORS = set("=+−-<>≤≥≠≈±∓×÷·∗/|^_")
_TRAILING_PUNCT = set(".,;:")


def base_font(name: str) -> str:
    """The font name without its subset tag (``ABCDEF+CMMI10`` -> ``CMMI10``), upper case."""
    if len(name) > 7 and name[6] == "+":
        name = name[7:]
    return name.upper().replace("-", "").replace(" ", "")


def is_math_font(name: str) -> bool:
    base = base_font(name)
    if base.startswith("TEXGYRE") and "MATH" not in base:
        return False
    return base.startswith(MATH_FONT_PREFIXES) or "MATH" in base


def is_math_char(ch: str) -> bool:
    if not ch:
        return False
    cp = ord(ch[0])
    if 0x0391 <= cp <= 0x03C9 or 0x1D400 <= cp <= 0x1D7FF or 0x2200 <= cp <= 0x22FF:
        return True
    return unicodedata.category(ch[0]) == "Sm" and ch not in "|~"


@dataclass(frozen=True, slots=True)
class Glyph:
    ch: str
    font: str
    size: float
    x0: float
    top: float
    x1: float
    bottom: float
    math: bool
    base: float = 0.0  # baseline (the glyph's origin), top-left origin
    adv0: float = 0.0  # the advance box: origin to origin + advance width
    adv1: float = 0.0

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(slots=True)
class Piece:
    """Glyphs on one baseline band, in one column, left to right."""

    glyphs: list[Glyph] = field(default_factory=list)
    x0: float = 1e9
    top: float = 1e9
    x1: float = -1e9
    bottom: float = -1e9

    def add(self, g: Glyph) -> None:
        self.glyphs.append(g)
        self.x0, self.top = min(self.x0, g.x0), min(self.top, g.top)
        self.x1, self.bottom = max(self.x1, g.x1), max(self.bottom, g.bottom)

    def extend(self, other: Piece) -> None:
        for g in other.glyphs:
            self.add(g)

    @property
    def box(self) -> Box:
        return Box(self.x0, self.top, self.x1 - self.x0, self.bottom - self.top)

    @property
    def math_ratio(self) -> float:
        return sum(g.math for g in self.glyphs) / max(1, len(self.glyphs))

    @property
    def size(self) -> float:
        sizes = Counter(round(g.size, 1) for g in self.glyphs if g.ch.isalnum())
        if not sizes:
            sizes = Counter(round(g.size, 1) for g in self.glyphs)
        return sizes.most_common(1)[0][0]


@dataclass(frozen=True, slots=True)
class Run:
    """Part of a text line: plain text, or an inline formula to recognise in ``box``."""

    kind: str  # "text" | "math"
    text: str
    box: Box


@dataclass(frozen=True, slots=True)
class LayoutLine:
    kind: str  # "text" | "heading" | "display"
    box: Box
    block: int
    runs: tuple[Run, ...]
    heading_level: int = 0
    tag: str = ""  # a display formula's equation number, e.g. "1" for "(1)" at the margin


def _vertical_overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


@dataclass(slots=True)
class _Band:
    top: float
    bottom: float
    glyphs: list[Glyph]


def _bands(glyphs: list[Glyph], body: float) -> list[list[Glyph]]:
    """Group glyphs into bands (one per text line): full-size glyphs whose vertical extents
    overlap first, then small glyphs (scripts, limits) join the band they overlap most."""
    bands: list[_Band] = []
    big = [g for g in glyphs if g.size >= 0.9 * body or not g.ch.isalnum()]
    small = [g for g in glyphs if g.size < 0.9 * body and g.ch.isalnum()]
    for g in sorted(big, key=lambda g: (g.top, g.x0)):
        for band in bands:
            if _vertical_overlap(band.top, band.bottom, g.top, g.bottom) >= 0.5 * max(
                g.height, 0.1
            ):
                band.top, band.bottom = min(band.top, g.top), max(band.bottom, g.bottom)
                band.glyphs.append(g)
                break
        else:
            bands.append(_Band(g.top, g.bottom, [g]))
    for g in small:
        best: _Band | None = None
        best_score = -0.5 * body
        for band in bands:
            overlap = _vertical_overlap(band.top, band.bottom, g.top, g.bottom)
            score = overlap or -max(band.top - g.bottom, g.top - band.bottom)
            if score > best_score:
                best, best_score = band, score
        if best is None:
            bands.append(_Band(g.top, g.bottom, [g]))
        else:
            best.glyphs.append(g)
    return [band.glyphs for band in bands]


def _split_gaps(band: list[Glyph], em: float, gutter: float | None) -> list[Piece]:
    """Split a band into pieces at the column gutter and at gaps wider than two ems."""
    pieces: list[Piece] = []
    current = Piece()
    for g in sorted(band, key=lambda g: g.x0):
        if current.glyphs and (
            g.x0 - current.x1 > 2.0 * em or (gutter is not None and current.x1 <= gutter <= g.x0)
        ):
            pieces.append(current)
            current = Piece()
        current.add(g)
    if current.glyphs:
        pieces.append(current)
    return pieces


def _gutter(bands: list[list[Glyph]], width: float) -> float | None:
    """The x of a two-column gutter: a vertical strip near the middle that few bands cross,
    with text on both sides of it."""
    if len(bands) < 6 or width <= 0:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    cover = np.zeros(hi - lo, dtype=np.int32)
    for band in bands:
        covered = np.zeros(hi - lo, dtype=bool)
        for g in band:
            a, b = max(lo, int(g.x0)), min(hi, int(np.ceil(g.x1)))
            if b > a:
                covered[a - lo : b - lo] = True
        cover += covered
    # a gutter is a strip at least 6 pt wide (wider than any word space) that few bands cross
    window = 6
    if len(cover) <= window:
        return None
    strip = np.array([cover[i : i + window].max() for i in range(len(cover) - window)])
    start = int(np.argmin(strip))
    if strip[start] > 0.15 * len(bands):
        return None
    span = cover[start : start + 2 * window]
    lowest = [i for i in range(len(span)) if span[i] == span.min()]
    x = lo + start + lowest[len(lowest) // 2]
    left = sum(1 for band in bands if min(g.x0 for g in band) < x - 20)
    right = sum(1 for band in bands if max(g.x1 for g in band) > x + 20)
    if min(left, right) < max(3, 0.1 * len(bands)):
        return None
    # columns of text end just left of a gutter and start just right of it (a page of short
    # lines beside wide centred formulas has an empty strip too, but nothing lines up on it)
    ends = sum(1 for band in bands if any(x - 25 <= g.x1 <= x for g in band))
    starts = sum(  # and the right column's lines are lines, not short formulas
        1
        for band in bands
        if any(x <= g.x0 <= x + 25 for g in band) and max(g.x1 for g in band) > x + 0.2 * width
    )
    if min(ends, starts) < max(3, 0.25 * len(bands)):
        return None
    return float(x)


def _reading_order(pieces: list[Piece], gutter: float | None) -> list[Piece]:
    """Top to bottom; with two columns, each stretch between full-width pieces column by
    column."""
    pieces = sorted(pieces, key=lambda p: (p.top, p.x0))
    if gutter is None:
        return pieces
    ordered: list[Piece] = []
    left: list[Piece] = []
    right: list[Piece] = []
    for p in pieces:
        if p.x0 < gutter < p.x1:
            ordered += left + right + [p]
            left, right = [], []
        elif p.x1 <= gutter:
            left.append(p)
        else:
            right.append(p)
    return ordered + left + right


def _text_of(glyphs: list[Glyph], em: float) -> str:
    out: list[str] = []
    prev: Glyph | None = None
    for g in glyphs:
        if prev is not None and g.x0 - prev.x1 > 0.2 * em:
            out.append(" ")
        out.append(unicodedata.normalize("NFKC", g.ch))
        prev = g
    return "".join(out)


def _words(piece: Piece, em: float) -> list[list[Glyph]]:
    words: list[list[Glyph]] = []
    for g in piece.glyphs:
        if words and g.x0 - words[-1][-1].x1 <= 0.2 * em:
            words[-1].append(g)
        else:
            words.append([g])
    return words


def _is_math_word(word: list[Glyph], body: float) -> bool:
    return any(g.math or (g.ch.isalnum() and g.size < body * 0.85) for g in word)


def _runs(piece: Piece, body: float, em: float) -> tuple[Run, ...]:
    """Text and inline-math runs of a text line piece."""
    words = _words(piece, em)
    flags = [_is_math_word(w, body) for w in words]
    # operators and numbers next to a formula belong to it ("= 1" after "x^2+y^2")
    for _ in range(2):
        for i, w in enumerate(words):
            if flags[i]:
                continue
            text = "".join(g.ch for g in w)
            core = text.rstrip("".join(_TRAILING_PUNCT))  # "0." ends a sentence after "= 0"
            mathlike = bool(core) and all(
                ch.isdigit() or ch in _OPERATORS or ch in "()[]" for ch in core
            )
            near = (i > 0 and flags[i - 1]) or (i + 1 < len(words) and flags[i + 1])
            if mathlike and near and text not in _TRAILING_PUNCT:
                flags[i] = True
    runs: list[Run] = []
    i = 0
    while i < len(words):
        j = i
        while j + 1 < len(words) and flags[j + 1] == flags[i]:
            j += 1
        glyphs = [g for w in words[i : j + 1] for g in w]
        trailing: list[Glyph] = []
        if flags[i]:
            while glyphs and glyphs[-1].ch in _TRAILING_PUNCT and not glyphs[-1].math:
                trailing.insert(0, glyphs.pop())
        if glyphs:
            box = Box(
                min(g.x0 for g in glyphs),
                piece.top,
                max(g.x1 for g in glyphs) - min(g.x0 for g in glyphs),
                piece.bottom - piece.top,
            )
            kind = "math" if flags[i] else "text"
            runs.append(Run(kind, _text_of(glyphs, em), box))
        if trailing:
            runs.append(Run("text", _text_of(trailing, em), piece.box))
        i = j + 1
    return tuple(runs)


def _left_margin(pieces: list[Piece], gutter_free: list[Piece]) -> float:
    xs = Counter(round(p.x0) for p in gutter_free if len(p.glyphs) > 20)
    if not xs:
        return min((p.x0 for p in pieces), default=0.0)
    return float(xs.most_common(1)[0][0])


def _right_margin(pieces: list[Piece], fallback: float | None) -> float | None:
    """Where full lines end: the usual right end of long lines, or, on a page with few of
    them, ``fallback`` (the page's mirror of the left margin, or the gutter)."""
    xs = Counter(round(p.x1) for p in pieces if len(p.glyphs) > 40)
    if sum(xs.values()) >= 3:
        return float(xs.most_common(1)[0][0])
    return fallback


def _displays(
    pieces: list[Piece], body: float, margins: dict[int, float], rights: dict[int, float | None]
) -> set[int]:
    """Indexes of pieces that are (parts of) display formulas: mostly math and indented, or
    centred in the column with some math in them (``\\sin 2x = 2 \\sin x \\cos x`` is mostly
    upright letters and digits)."""
    em = body
    display: set[int] = set()
    for i, p in enumerate(pieces):
        indented = p.x0 > margins[i] + 2.0 * em
        right = rights[i]
        centred = (
            right is not None
            and indented
            and p.x1 < right - 2.0 * em
            and abs(0.5 * (p.x0 + p.x1) - 0.5 * (margins[i] + right)) < 1.5 * em
            and p.size < body * 1.25
            and any(g.math for g in p.glyphs)
        )
        if (
            (p.math_ratio >= 0.4 and indented)
            or (p.math_ratio >= 0.75 and len(p.glyphs) >= 2)
            or centred
        ):
            display.add(i)
    changed = True
    while changed:  # neighbours join: a numerator of plain digits, "x =", the main row of a
        changed = False  # formula as wide as the text beside its display-looking numerators
        for i, p in enumerate(pieces):
            if i in display:
                continue
            indented = p.x0 > margins[i] + 2.0 * em
            for j in display:
                q = pieces[j]
                gap = max(q.top - p.bottom, p.top - q.bottom)
                near = gap < 0.8 * em if indented else gap < 0.2 * em and p.math_ratio >= 0.25
                if near and p.x0 < q.x1 + em and p.x1 > q.x0 - em:
                    display.add(i)
                    changed = True
                    break
    return display


_EQUATION_NUMBER = re.compile(r"\(\s*([0-9A-Za-z]{1,4}(?:[.\-][0-9A-Za-z]{1,4})?)\s*\)")


def _equation_numbers(
    pieces: list[Piece], display: set[int], em: float
) -> tuple[dict[int, str], set[int]]:
    """Pieces like "(3)" or "(2.1)" beside a display formula, to the right on its band:
    the display piece index -> the number, and the indexes of the number pieces."""
    tags: dict[int, str] = {}
    used: set[int] = set()
    for i, p in enumerate(pieces):
        if len(p.glyphs) > 12:
            continue
        m = _EQUATION_NUMBER.fullmatch(_text_of(p.glyphs, em).strip())
        if m is None:
            continue
        mid = 0.5 * (p.top + p.bottom)
        for j in display - {i}:
            q = pieces[j]
            if q.x1 < p.x0 and q.top - 0.5 * em <= mid <= q.bottom + 0.5 * em and j not in tags:
                tags[j] = m.group(1)
                used.add(i)
                break
    return tags, used


def _page_numbers(pieces: list[Piece]) -> set[int]:
    """A lone number below everything else on the page (a page number in the footer)."""
    if len(pieces) < 2:
        return set()
    lowest = max(range(len(pieces)), key=lambda i: pieces[i].top)
    p = pieces[lowest]
    text = "".join(g.ch for g in p.glyphs).strip()
    others_bottom = max(q.bottom for k, q in enumerate(pieces) if k != lowest)
    if text.isdigit() and len(text) <= 4 and p.top > others_bottom:
        return {lowest}
    return set()


def layout(glyphs: list[Glyph], page_width: float) -> list[LayoutLine]:
    """The page's lines in reading order, with paragraphs, headings and math marked."""
    if not glyphs:
        return []
    sizes = Counter(round(g.size, 1) for g in glyphs if g.ch.isalpha() and not g.math)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    bands = _bands(glyphs, body)
    gutter = _gutter(bands, page_width)
    pieces: list[Piece] = []
    for band in bands:
        pieces += _split_gaps(band, body, gutter)
    pieces = _reading_order(pieces, gutter)

    def column(p: Piece) -> int:
        return 0 if gutter is None or p.x0 < gutter else 1

    col_margin = {c: _left_margin(pieces, [p for p in pieces if column(p) == c]) for c in (0, 1)}
    margins = {i: col_margin[column(p)] for i, p in enumerate(pieces)}
    col_right = {
        0: _right_margin(
            [p for p in pieces if column(p) == 0],
            page_width - col_margin[0] if gutter is None else gutter,
        ),
        1: _right_margin([p for p in pieces if column(p) == 1], page_width - col_margin[0]),
    }
    rights = {i: col_right[column(p)] for i, p in enumerate(pieces)}
    display = _displays(pieces, body, margins, rights)
    tags, numbers = _equation_numbers(pieces, display, body)
    skip = numbers | _page_numbers(pieces)
    display -= skip
    heading_sizes = sorted(
        {p.size for p in pieces if p.size > body * 1.25 and p.math_ratio < 0.3}, reverse=True
    )
    lines: list[LayoutLine] = []
    block = -1
    i = 0
    prev: Piece | None = None
    prev_kind = ""
    while i < len(pieces):
        p = pieces[i]
        if i in skip:
            i += 1
            continue
        if i in display:
            merged = Piece()
            merged.extend(p)
            tag = tags.get(i, "")
            while i + 1 < len(pieces) and column(pieces[i + 1]) == column(p):
                if i + 1 in skip:  # an equation number read between two display pieces
                    i += 1
                    continue
                nxt = pieces[i + 1]
                if i + 1 not in display or nxt.top - merged.bottom > 1.2 * body:
                    break
                merged.extend(nxt)
                tag = tag or tags.get(i + 1, "")
                i += 1
            block += 1
            lines.append(LayoutLine("display", merged.box, block, (), tag=tag))
            prev, prev_kind = merged, "display"
            i += 1
            continue
        level = heading_sizes.index(p.size) + 1 if p.size in heading_sizes else 0
        kind = "heading" if level else "text"
        new_block = (
            prev is None
            or kind == "heading"
            or prev_kind != "text"
            or p.top - prev.bottom > 0.9 * body
            or p.top < prev.top  # a new column
            or p.x0 > margins[i] + 0.8 * body  # paragraph indent
        )
        if new_block:
            block += 1
        lines.append(LayoutLine(kind, p.box, block, _runs(p, body, body), level))
        prev, prev_kind = p, kind
        i += 1
    return lines


__all__ = [
    "MATH_FONT_PREFIXES",
    "Glyph",
    "LayoutLine",
    "Piece",
    "Run",
    "base_font",
    "is_math_char",
    "is_math_font",
    "layout",
]
