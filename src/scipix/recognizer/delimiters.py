"""Delimiter forms read from the ink: ``(``, ``\\left(`` or ``\\bigl(`` ... by size and spacing.

The model often cannot tell ``(x)`` from ``\\left(x\\right)`` or ``\\Bigl(x\\Bigr)``: the
glyphs can be the same, and what differs is the glyph's size (``\\big`` to ``\\Bigg`` are
fixed sizes, ``\\left`` grows with what it encloses) and the spacing around the pair:
``\\left...\\right`` makes an inner atom, which TeX sets a thin space from a letter, where a
plain or ``\\bigl`` delimiter is an opening or closing atom and ``\\big(`` an ordinary one.

For each matched pair at the formula's base level, :func:`choose_delimiters` reads the
size class of both glyphs from their heights in em (plain, or one of TeX's four fixed
sizes) and the four ink gaps around the pair, and compares the gaps with what each form
would give: the natural gaps of the pair written plain (the
:class:`~scipix.recognizer.spacing.SpacingTable`'s, plus what it learned a larger glyph
adds on each side) and TeX's spaces between the atoms of that form. The model's form is
kept unless it does not fit the size (then the best fitting form of that size is written),
or another form fits the gaps better by ``MARGIN`` em (``MARGIN_FROM_LEFT`` to give up a
larger ``\\left``: MathJax sets those tighter than TeX). Gaps are evidence only where the
rest of the formula is spaced as TeX spaces it (``TEX_LIKE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scipix.recognizer.atoms import SPACE_WIDTHS, Slot, slots
from scipix.recognizer.segment import Components
from scipix.recognizer.spacing import Ink, SpacingTable

# plain opening / closing glyphs, and the fused \left / \right tokens of each
_PLAIN = {"(": ")", "[": "]", "\\{": "\\}", "\\langle": "\\rangle"}
_LEFT = {"(": "\\left(", "[": "\\left[", "\\{": "\\left\\{", "\\langle": "\\left\\langle"}
_RIGHT = {")": "\\right)", "]": "\\right]", "\\}": "\\right\\}", "\\rangle": "\\right\\rangle"}
_UNLEFT = {v: k for k, v in _LEFT.items()} | {"\\left<": "\\langle"}
_UNRIGHT = {v: k for k, v in _RIGHT.items()} | {"\\right>": "\\rangle"}
# the fixed sizes and their glyphs' heights in em (TeX's delimiter chain, Computer Modern:
# the same at 10 and 12 pt; the plain glyph's own height, 0.92-1 em, is the table's)
SIZES: tuple[tuple[str, float], ...] = (
    ("", 0.0),
    ("big", 1.2),
    ("Big", 1.8),
    ("bigg", 2.4),
    ("Bigg", 3.0),
)
_SIZE_OF = {name: k for k, (name, _) in enumerate(SIZES) if name}
# how far (relative) a glyph's height may be from its class's
SIZE_TOLERANCE = 0.12
# how closely a formula's other gaps must follow TeX's (median, em), over at least
# MIN_SLOTS gaps (measured: TeX renders 0.02-0.035 em at 100-300 dpi, mathtext 0.06)
TEX_LIKE = 0.04
MIN_SLOTS = 3
# another form is written when it fits the telling gaps this much better (em, summed);
# a \left drawn larger than plain only for MARGIN_FROM_LEFT
MARGIN = 0.1
MARGIN_FROM_LEFT = 0.2


@dataclass(frozen=True, slots=True)
class Form:
    """How a delimiter pair is written: plain, ``\\left``/``\\right``, or a fixed size
    (``bigl``/``bigr``: opening and closing atoms; ``big``: ordinary ones)."""

    kind: str  # "plain", "left", "lr" (\bigl ... \bigr) or "ord" (\big ... \big)
    size: int  # index into SIZES; 0 for plain, any for left (TeX chooses)

    def tokens(self, glyph: str) -> tuple[list[str], list[str]]:
        """The opening and closing tokens for the plain opening ``glyph``."""
        close = _PLAIN[glyph]
        if self.kind == "plain":
            return [glyph], [close]
        if self.kind == "left":
            return [_LEFT[glyph]], [_RIGHT[close]]
        name = SIZES[self.size][0]
        if self.kind == "lr":
            return [f"\\{name}l", glyph], [f"\\{name}r", close]
        return [f"\\{name}", glyph], [f"\\{name}", close]


@dataclass(frozen=True, slots=True)
class _Pair:
    glyph: str  # the plain opening glyph
    form: Form  # as read
    open: tuple[int, int]  # token span of the opening delimiter (size command included)
    close: tuple[int, int]  # and of the closing one


def choose_delimiters(
    tokens: Sequence[str], alignment: Sequence[int], comps: Components, table: SpacingTable
) -> tuple[list[str], list[int]]:
    """``tokens`` (and their ``alignment``) with each measurable delimiter pair written in
    the form that fits its size and outer gaps best."""
    tokens, alignment = list(tokens), list(alignment)
    base = {k for s in slots(tokens) for k in (s.left, s.right)}
    pairs = [p for p in _pairs(tokens) if p.open[1] - 1 in base and p.close[1] - 1 in base]
    if not pairs:
        return tokens, alignment
    em = table.em(tokens, alignment, comps)
    if em <= 0:
        return tokens, alignment
    ink = Ink(comps)
    outer = {(p.open[1] - 1, p.close[1] - 1) for p in pairs}
    if not _tex_like(tokens, alignment, table, ink, em, outer):
        return tokens, alignment
    # from the last opening back: a rewrite moves only what comes after the pair's opening
    for span in sorted((p.open for p in pairs), reverse=True):
        p = next((q for q in _pairs(tokens) if q.open == span), None)
        if p is not None:
            form = _choose(tokens, alignment, comps, table, ink, em, p)
            tokens, alignment = _write(tokens, alignment, p, form)
    return tokens, alignment


def sized_residuals(
    tokens: Sequence[str],
    alignment: Sequence[int],
    comps: Components,
    em: float,
    table: SpacingTable,
) -> list[tuple[str, list[float | None]]]:
    """For training the table's ``sized`` bearings: each pair drawn larger than plain in
    ``tokens`` (the truth, TeX's spacing known) as ``"glyph@size"`` and its four gaps' excess
    over the plain glyph's natural ones (em, TeX's spaces for its form taken off)."""
    tokens, alignment = list(tokens), list(alignment)
    ink = Ink(comps)
    out = []
    for p in _pairs(tokens):
        a = alignment[p.open[1] - 1]
        plain = table.heights.get(p.glyph, 0.0)
        if not 0 <= a < len(comps) or plain <= 0:
            continue
        size = _size(float(comps.boxes[a][3] - comps.boxes[a][1]) / em, plain)
        if not size or p.form.kind == "plain":
            continue
        fit = _Fit.measure(tokens, alignment, table, ink, em, p, 0)
        spaces = [_tex_space(s) for s in _slots(tokens, p, Form(p.form.kind, size))]
        out.append((f"{p.glyph}@{size}", [fit.excess(k, spaces[k]) for k in range(4)]))
    return out


def _choose(
    tokens: list[str],
    alignment: list[int],
    comps: Components,
    table: SpacingTable,
    ink: Ink,
    em: float,
    p: _Pair,
) -> Form:
    a, b = alignment[p.open[1] - 1], alignment[p.close[1] - 1]
    n = len(comps)
    plain = table.heights.get(p.glyph, 0.0)
    if not (0 <= a < n and 0 <= b < n) or a == b or plain <= 0:
        return p.form
    heights = [float(comps.boxes[c][3] - comps.boxes[c][1]) / em for c in (a, b)]
    size = _size(heights[0], plain)
    if size is None or size != _size(heights[1], plain):
        return p.form  # the two glyphs disagree: one of them was read from something else
    if size == 0:
        candidates = [Form("plain", 0), Form("left", 0)]
    else:
        candidates = [Form("left", size), Form("lr", size), Form("ord", size)]
    read = Form("left", size) if p.form.kind == "left" else p.form
    forms = [*candidates, *([] if read in candidates else [read])]
    spaces = [
        [_tex_space(s) for s in _slots(_write(tokens, alignment, p, f)[0], p, f)] for f in forms
    ]
    fit = _Fit.measure(tokens, alignment, table, ink, em, p, size)

    def cost(i: int, others: Sequence[int]) -> float | None:
        """Form ``i``'s cost on the gaps TeX spaces differently in it and in ``others``."""
        telling = [
            k
            for k in range(4)
            if all(spaces[j][k] is not None for j in (i, *others))
            and len({spaces[j][k] for j in (i, *others)}) > 1
        ]
        return fit.cost(spaces[i], telling)

    if read not in candidates:  # the size rules the form read out: the best fitting one
        rest = range(len(candidates))
        costs = [cost(i, rest) for i in rest]
        known = [i for i in rest if costs[i] is not None]
        return candidates[min(known, key=lambda i: costs[i] or 0.0)] if known else candidates[0]
    r = forms.index(read)
    best, gain = read, 0.0
    for i, f in enumerate(forms):
        ci, cr = cost(i, [r]), cost(r, [i])
        margin = MARGIN_FROM_LEFT if read.kind == "left" and size else MARGIN
        if i != r and ci is not None and cr is not None and cr - ci > max(gain, margin):
            best, gain = f, cr - ci
    return best


# TeX's thin, medium and thick spaces in em (3, 4 and 5 mu of 18 to the em)
_MU = (0.0, 3 / 18, 4 / 18, 5 / 18)


@dataclass(frozen=True, slots=True)
class _Fit:
    """The four gaps around a pair (before and after its opening glyph, before and after its
    closing glyph; em, explicit spaces taken off) against what the pair written plain gives
    them (the table's natural gaps, plus the bearing of a larger glyph on the outer sides),
    and TeX's spaces there when plain."""

    residual: tuple[float | None, ...]
    plain: tuple[int | None, ...]

    @classmethod
    def measure(
        cls,
        tokens: list[str],
        alignment: list[int],
        table: SpacingTable,
        ink: Ink,
        em: float,
        p: _Pair,
        size: int,
    ) -> _Fit:
        form = Form("plain", 0)
        toks, align = _write(tokens, alignment, p, form)
        found = _slots(toks, p, form)
        residual: list[float | None] = []
        for s in found:
            measured = [] if s is None else table.residuals(toks, align, ink, em, [s])
            width = 0.0 if s is None else sum(SPACE_WIDTHS[toks[i]] for i in s.spaces)
            residual.append(measured[0][1] - width if measured else None)
        # a larger glyph stands further from its neighbours than the plain one (by the
        # table's learned bearings; unknown ones leave the gap unmeasured)
        if size:
            bearings = table.sized.get(f"{p.glyph}@{size}", [None] * 4)
            residual = [
                None if r is None or b is None else r - b
                for r, b in zip(residual, bearings, strict=True)
            ]
        return cls(tuple(residual), tuple(_tex_space(s) for s in found))

    def excess(self, k: int, space: int | None) -> float | None:
        """Gap ``k``'s excess (em) over what it would be with TeX's ``space`` there."""
        r, was = self.residual[k], self.plain[k]
        if r is None or was is None or space is None:
            return None
        return r - (_MU[space] - _MU[was])

    def cost(self, spaces: Sequence[int | None], telling: Sequence[int]) -> float | None:
        """How far the ``telling`` gaps are from what TeX's ``spaces`` there would give."""
        excess = [e for k in telling if (e := self.excess(k, spaces[k])) is not None]
        return sum(abs(e) for e in excess) if excess else None


def _tex_like(
    tokens: Sequence[str],
    alignment: Sequence[int],
    table: SpacingTable,
    ink: Ink,
    em: float,
    pairs: set[tuple[int, int]],
) -> bool:
    """Whether the formula is spaced as TeX spaces it (the evidence this module reads): the
    median gap between side-by-side symbols with no explicit space, leaving out those just
    outside the delimiter ``pairs`` in question (opening and closing glyph tokens), is within
    ``TEX_LIKE`` em of the table's natural gap over at least ``MIN_SLOTS`` gaps
    (matplotlib's mathtext is not, for one)."""
    openings = {o for o, _ in pairs}
    closings = {c for _, c in pairs}
    residuals = [
        abs(r)
        for s, r in table.residuals(tokens, alignment, ink, em)
        if not (s.right in openings or s.first in closings or s.left in closings or s.spaces)
    ]
    return len(residuals) >= MIN_SLOTS and float(np.median(residuals)) <= TEX_LIKE


def _size(height: float, plain: float) -> int | None:
    """The size class of a delimiter glyph ``height`` em high (``plain``: the plain glyph's
    height); None between classes."""
    for k, (_, h) in enumerate(SIZES):
        if abs(height / (h or plain) - 1.0) < SIZE_TOLERANCE:
            return k
    return None


def _slots(tokens: list[str], p: _Pair, form: Form) -> list[Slot | None]:
    """The four slots around the pair written as ``form`` in ``tokens``: before the opening
    glyph, after it, before the closing glyph and after it (None where there is none)."""
    opening, closing = form.tokens(p.glyph)
    o = p.open[0] + len(opening) - 1  # the opening glyph's token
    c = p.close[0] + len(opening) - (p.open[1] - p.open[0]) + len(closing) - 1
    found: list[Slot | None] = [None] * 4
    for s in slots(tokens):
        for k, hit in enumerate((s.right == o, s.left == o, s.right == c, s.first == c)):
            if hit:
                found[k] = s
    return found


def _tex_space(slot: Slot | None) -> int | None:
    """The space TeX puts between a slot's two atoms (0-3: none, thin, medium, thick)."""
    if slot is None:
        return None
    left, right, _ = slot.key.split(">")
    return _SPACING.get(left, {}).get(right)


_CLASSES = ("ord", "op", "bin", "rel", "open", "close", "punct", "inner")
# TeX's spacing between atoms (The TeXbook, chapter 18) outside scripts, rows the left atom
_SPACING = {
    left: dict(zip(_CLASSES, (int(v) for v in row), strict=True))
    for left, row in zip(
        _CLASSES,
        (
            "01230001",
            "11030001",
            "22002002",
            "33303003",
            "00000000",
            "01230001",
            "11111111",
            "11231011",
        ),
        strict=True,
    )
}


def _write(
    tokens: list[str], alignment: list[int], p: _Pair, form: Form
) -> tuple[list[str], list[int]]:
    """The tokens with the pair written as ``form`` (a size command takes its glyph's
    component)."""
    opening, closing = form.tokens(p.glyph)
    ao, ac = alignment[p.open[1] - 1], alignment[p.close[1] - 1]
    toks = (
        tokens[: p.open[0]]
        + opening
        + tokens[p.open[1] : p.close[0]]
        + closing
        + tokens[p.close[1] :]
    )
    align = (
        alignment[: p.open[0]]
        + [ao] * len(opening)
        + alignment[p.open[1] : p.close[0]]
        + [ac] * len(closing)
        + alignment[p.close[1] :]
    )
    return toks, align


def _pairs(tokens: Sequence[str]) -> list[_Pair]:
    """Matched delimiter pairs written alike on both sides (plain, \\left/\\right, or the
    same fixed size), with their token spans."""
    stack: list[tuple[str, Form, tuple[int, int]] | None] = []
    out = []
    for k, t in enumerate(tokens):
        if t in _PLAIN or t.startswith("\\left"):
            stack.append(_opening(tokens, k))  # None: one this module leaves alone
        elif (t in _CLOSES or t.startswith("\\right")) and stack:
            top, closed = stack.pop(), _closing(tokens, k)
            if top is not None and closed is not None and top[:2] == closed[:2]:
                out.append(_Pair(top[0], top[1], top[2], closed[2]))
    return out


def _opening(tokens: Sequence[str], k: int) -> tuple[str, Form, tuple[int, int]] | None:
    t = tokens[k]
    if t in _UNLEFT:
        return _UNLEFT[t], Form("left", 0), (k, k + 1)
    if t not in _PLAIN:
        return None
    return _sized(tokens, k, t, "l")


def _closing(tokens: Sequence[str], k: int) -> tuple[str, Form, tuple[int, int]] | None:
    t = tokens[k]
    if t in _UNRIGHT:
        return _CLOSES[_UNRIGHT[t]], Form("left", 0), (k, k + 1)
    if t not in _CLOSES:
        return None
    return _sized(tokens, k, t, "r")


def _sized(
    tokens: Sequence[str], k: int, t: str, side: str
) -> tuple[str, Form, tuple[int, int]] | None:
    """A plain delimiter ``t`` at ``k``, with the size command before it if any (None for
    one this module does not rewrite, such as ``\\bigm``)."""
    glyph = _CLOSES.get(t, t)
    size = tokens[k - 1] if k else ""
    name = size[1:] if size.startswith("\\") else ""
    if name in _SIZE_OF:
        return glyph, Form("ord", _SIZE_OF[name]), (k - 1, k + 1)
    if name[:-1] in _SIZE_OF and name[-1] == side:
        return glyph, Form("lr", _SIZE_OF[name[:-1]]), (k - 1, k + 1)
    if name[:-1] in _SIZE_OF:
        return None  # \\bigm, or a size on the wrong side
    return glyph, Form("plain", 0), (k, k + 1)


_CLOSES = {v: k for k, v in _PLAIN.items()}
