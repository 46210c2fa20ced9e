"""Explicit math spaces (``\\,`` ``\\;`` ``\\ `` ``\\quad`` ...) chosen from the measured gaps.

The model writes spaces from habit (papers use ``\\,`` before a final full stop, ``\\ `` or
``~`` around words) where the image may show none, or another width. Between two symbols
that sit side by side the ink gap is TeX's own spacing for the pair (a relation gets a thick
space on either side, a letter next to a letter none, plus the glyphs' side bearings) plus
the explicit spaces; in units of the formula's em both are learned from TeX renders of
training formulas (``training/spacing.py``): the em from the heights of the symbols read,
the natural gap for each pair of TeX atom classes. The explicit space is what is left.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scipix.errors import ModelError
from scipix.recognizer.atoms import (
    DRAWN,
    MIN_HEIGHT_EM,
    SIZED_BY_TEX,
    SPACE_WIDTHS,
    Slot,
    inked,
    slots,
)
from scipix.recognizer.model import sha256_file
from scipix.recognizer.segment import Components


@dataclass(frozen=True, slots=True)
class SpacingTable:
    """Learned from TeX renders (``training/spacing.py``), in em: each symbol's ink height,
    each pair class's natural ink gap, each symbol's side bearings (how much wider the
    gap after / before it is than its class's) and, for delimiters TeX draws larger
    (``"(@2"``: a parenthesis of the third size, ``\\Big``), how much wider than the plain
    glyph's the gaps before and after its opening glyph and before and after its closing
    glyph are (None: too few seen)."""

    heights: dict[str, float]
    natural: dict[str, float]
    after: dict[str, float] = field(default_factory=dict)
    before: dict[str, float] = field(default_factory=dict)
    sized: dict[str, list[float | None]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, sha256: str) -> SpacingTable:
        if not path.is_file():
            raise ModelError(f"spacing table not found: {path}")
        if sha256_file(path) != sha256:
            raise ModelError(f"{path.name} fails its SHA-256 check (corrupt or replaced)")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            data["heights"], data["natural"], data["after"], data["before"], data.get("sized", {})
        )

    def em(
        self,
        tokens: Sequence[str],
        alignment: Sequence[int],
        comps: Components,
        pairs: Sequence[Slot] | None = None,
    ) -> float:
        """The formula's em in pixels from the heights of its base-level symbols (those of
        ``pairs``, its :func:`slots` when not given; 0 when too few are known)."""
        estimates = []
        for s in slots(tokens) if pairs is None else pairs:
            for k in s.base_sized:
                h = self.heights.get(tokens[k], 0.0)
                a = alignment[k]
                if h >= MIN_HEIGHT_EM and tokens[k] not in SIZED_BY_TEX and 0 <= a < len(comps):
                    box = comps.boxes[a]
                    estimates.append(float(box[3] - box[1]) / h)
        return float(np.median(estimates)) if len(estimates) >= 2 else 0.0

    def misfit(
        self,
        tokens: Sequence[str],
        alignment: Sequence[int],
        comps: Components,
        scale: float = 1.0,
    ) -> float:
        """The share of the measurable gaps between side-by-side symbols with no explicit
        space between that are more than ``MISFIT`` em (and ``MISFIT_PIXELS`` pixels of the
        image before it was resized by ``scale``) off the pair's natural gap: a symbol read
        in the wrong place, or as the wrong atom, leaves gaps unlike TeX's. Counted with
        ``MISFIT_PRIOR`` gaps that fit, so that a short formula's one odd gap weighs less
        (0 when none can be measured)."""
        em = self.em(tokens, alignment, comps)
        limit = max(MISFIT, MISFIT_PIXELS * scale / em) if em > 0 else 0.0
        off = [
            abs(r) > limit
            for s, r in self.residuals(tokens, alignment, Ink(comps), em)
            if not s.spaces
        ]
        return sum(off) / (len(off) + MISFIT_PRIOR) if off else 0.0

    def residuals(
        self,
        tokens: Sequence[str],
        alignment: Sequence[int],
        ink: Ink,
        em: float,
        pairs: Sequence[Slot] | None = None,
    ) -> list[tuple[Slot, float]]:
        """Each measurable slot (of ``pairs``, the tokens' :func:`slots` when not given) and
        how much wider than its natural gap its ink gap is, in em (explicit spaces between
        included); none when the em is unknown."""
        out = []
        for s in (slots(tokens) if pairs is None else pairs) if em > 0 else ():
            natural = self.natural_gap(*pair(tokens, s))
            gap = None if natural is None else ink.slot_gap(tokens, alignment, s)
            if natural is not None and gap is not None:
                out.append((s, gap / em - natural))
        return out

    def natural_gap(self, key: str, after: str, before: str) -> float | None:
        """The ink gap (em) a pair (:func:`pair`) has without explicit spaces; None: its
        class is unknown."""
        gap = self.natural.get(key)
        if gap is None:
            return None
        return gap + self.after.get(after, 0.0) + self.before.get(before, 0.0)


def pair(tokens: Sequence[str], slot: Slot) -> tuple[str, str, str]:
    """What the natural gap of a slot depends on: its class, the symbol whose right bearing
    counts ("" when the left atom is more than its symbol: a script, a fraction) and the
    symbol whose left bearing counts."""
    after = tokens[slot.left] if slot.key.endswith(">glyph") else ""
    return slot.key, after, tokens[slot.right]


# a gap this far (em) from its pair's natural one does not fit TeX's spacing (the 2nd and
# 98th percentiles of the gaps of the table's TeX renders: -0.08 and 0.14 em), nor one
# this many pixels off, at the image's own resolution (both its edges may be a pixel off)
MISFIT = 0.1
MISFIT_PIXELS = 2.0
MISFIT_PRIOR = 2

# the spaces written for a gap, and the widths they stand for (em)
_STANDARD: tuple[tuple[float, tuple[str, ...]], ...] = (
    (1 / 6, ("\\,",)),
    (5 / 18, ("\\;",)),
    (0.326, ("\\ ",)),
    (0.652, ("\\ ", "\\ ")),
    (1.0, ("\\quad",)),
    (2.0, ("\\qquad",)),
)
# how far (em) what is left of a gap after its natural part may be from the model's spaces
# before they are changed: natural gaps spread by about 0.1 em (95% of pairs without
# spaces within 0.11 em of their prediction, at 100-150 dpi), wide ones by more
TOLERANCE, WIDE_TOLERANCE = 0.12, 0.2
DROP_BELOW = 0.05  # the model's spaces are dropped when less than this is left
# a gap this much narrower than the pair's natural one is not trusted (2% of pairs come
# below -0.10 em; the rest are symbols aligned to the wrong component)
MIN_RESIDUAL = -0.15
WIDE = 0.6  # a space is written where none was read only when this much is left (two
# control spaces, a quad, a qquad)
SWAP_MARGIN = 0.05  # a small space is replaced by one that fits by this much better
# in an image whose em is at least this many pixels (about 12 pt at 300 dpi), the 0.05 em
# between \; and a control space is 2 pixels or more: a \; read where the gap is nearer a
# control space becomes one (the other way round the model's \  is mostly right)
FINE_EM = 40.0


def choose(width: float, residual: float, fine: bool = False) -> tuple[str, ...] | None:
    """The explicit spaces for a gap whose part beyond the natural one is ``residual`` em,
    where the model read spaces of ``width`` em; None keeps the model's. A wide space is
    written only where it fits the gap (a gap that fits none is more likely a symbol read
    from the wrong component than a space). ``fine``: the image is sharp enough to tell
    ``\\;`` from ``\\ `` (``FINE_EM``)."""
    thick, control = SPACE_WIDTHS["\\;"], SPACE_WIDTHS["\\ "]
    if fine and width == thick and residual > (thick + control) / 2 and residual < WIDE:
        return ("\\ ",)
    tolerance = WIDE_TOLERANCE if max(width, residual) >= WIDE else TOLERANCE
    if abs(residual - width) <= tolerance:
        return None
    if width > 0 and residual < DROP_BELOW:
        return ()
    if residual >= WIDE:
        nearest, spaces = min(_STANDARD, key=lambda c: abs(c[0] - residual))
        fits = nearest >= WIDE and abs(nearest - residual) <= WIDE_TOLERANCE
        return spaces if fits else None
    if 0 < width < WIDE:
        nearest, spaces = min(_STANDARD[:3], key=lambda c: abs(c[0] - residual))
        if abs(nearest - residual) + SWAP_MARGIN < abs(width - residual):
            return spaces
    return None


def respace(
    tokens: Sequence[str],
    alignment: Sequence[int],
    comps: Components,
    table: SpacingTable,
    scale: float = 1.0,
) -> list[str]:
    """``tokens`` with the explicit spaces between side-by-side symbols set from the measured
    gaps (:func:`choose`). Spaces where the gap, the pair's natural gap or the em (fewer than
    two symbols of known height side by side) is unknown are dropped only when the ink shows
    none (:func:`unsupported_spaces`). ``alignment`` gives each token's component; ``scale``:
    the image was resized by it before (enlarging adds no detail)."""
    drop = unsupported_spaces(tokens, alignment, comps)
    pairs = slots(tokens)
    em = table.em(tokens, alignment, comps, pairs)
    ink = Ink(comps)
    insert: dict[int, tuple[str, ...]] = {}
    for s, residual in table.residuals(tokens, alignment, ink, em, pairs):
        if residual < MIN_RESIDUAL:
            continue  # narrower than TeX ever sets the pair: a symbol read from a wrong part
        drop.difference_update(s.spaces)  # measured: the gap decides
        width = sum(SPACE_WIDTHS[tokens[i]] for i in s.spaces)
        spaces = choose(width, residual, fine=em / scale >= FINE_EM)
        if spaces is None:
            continue
        drop.update(s.spaces)
        if spaces:
            insert[s.after] = spaces
    out: list[str] = []
    for k, t in enumerate(tokens):
        if k not in drop:
            out.append(t)
        out.extend(insert.get(k, ()))
    return out


# where the gap cannot be measured in em: a gap (in symbol heights, the segmenter's
# reference scale) between the ink on either side of a thin, medium or thick space below
# which it is dropped; measured at 150 dpi on 1,000 im2latex formulas and 1,000 held-out
# arXiv formulas (+1.3 and +0.6 points image match)
MIN_SPACE_GAP = 0.45
_SMALL_SPACES = frozenset({"\\,", "\\:", "\\;"})
# tokens that leave no ink of their own between two symbols
BLANK = frozenset({"{", "}", "^", "_", *SPACE_WIDTHS})


def unsupported_spaces(
    tokens: Sequence[str], alignment: Sequence[int], comps: Components
) -> set[int]:
    """The explicit math spaces (``\\,`` ``\\:`` ``\\;``) where the ink on either side is closer
    than ``MIN_SPACE_GAP`` symbol heights: the model writes them from habit (papers use
    ``\\,`` often) where the image shows none."""
    return {
        i
        for i, t in enumerate(tokens)
        if t in _SMALL_SPACES
        and (gap := _gap_around(tokens, alignment, comps, i)) is not None
        and gap < MIN_SPACE_GAP
    }


def drop_unsupported_spaces(
    tokens: Sequence[str], alignment: Sequence[int], comps: Components
) -> list[str]:
    """``tokens`` without their :func:`unsupported_spaces`."""
    drop = unsupported_spaces(tokens, alignment, comps)
    return [t for k, t in enumerate(tokens) if k not in drop]


def _gap_around(
    tokens: Sequence[str], alignment: Sequence[int], comps: Components, i: int
) -> float | None:
    """The horizontal gap, in symbol heights, between the components of the inked tokens
    before and after token ``i``; None when they are unknown or the same component."""
    j = i - 1
    while j >= 0 and tokens[j] in BLANK:
        j -= 1
    k = i + 1
    while k < len(tokens) and tokens[k] in BLANK:
        k += 1
    if j < 0 or k >= len(tokens):
        return None
    a, b = alignment[j], alignment[k]
    if a == b or not (0 <= a < len(comps) and 0 <= b < len(comps)):
        return None
    return float(comps.boxes[b][0] - comps.boxes[a][2]) / max(comps.scale, 1.0)


def atom_components(
    tokens: Sequence[str], alignment: Sequence[int], slot: Slot, n: int
) -> list[int]:
    """The components of the atom that ends in the slot's left symbol (that symbol's last):
    those its symbols, fraction bars, radicals and accents were read from."""
    out = [
        alignment[i]
        for i in range(slot.first, slot.left)
        if (inked(tokens[i]) or tokens[i] in DRAWN) and 0 <= alignment[i] < n
    ]
    return [*out, alignment[slot.left]]


class Ink:
    """The components' boxes (x0, y0, x1, y1), ordered by their left edges, to measure gaps."""

    def __init__(self, comps: Components) -> None:
        self.boxes: list[list[int]] = comps.boxes.tolist()
        self.order = sorted(range(len(self.boxes)), key=lambda c: self.boxes[c][0])
        self.lefts = [self.boxes[c][0] for c in self.order]

    def slot_gap(self, tokens: Sequence[str], alignment: Sequence[int], slot: Slot) -> float | None:
        """The ink gap in pixels between a slot's two symbols (:meth:`gap`); None when either
        was read from no component, both from the same one, or the gap is unmeasurable."""
        n = len(self.boxes)
        a, b = alignment[slot.left], alignment[slot.right]
        if a == b or not (0 <= a < n and 0 <= b < n):
            return None
        return self.gap(atom_components(tokens, alignment, slot, n), b)

    def gap(self, atom: Sequence[int], b: int) -> float | None:
        """The ink gap in pixels before component ``b`` (the right symbol): from the nearest
        ink left of it among the left atom's components (``atom``: its symbol last) and those
        that share the line (overlapping the left symbol's and ``b``'s height: scripts, not
        other rows). Pieces of a broken glyph that reach into ``b`` count as ``b``. None when
        the left symbol reaches into the right one, or ink spans over it."""
        boxes = self.boxes
        a = atom[-1]
        top = min(boxes[a][1], boxes[b][1])
        bottom = max(boxes[a][3], boxes[b][3])
        members = set(atom)
        start, end = boxes[b][0], boxes[b][2]
        line = [
            (boxes[c][0], boxes[c][2], c)
            for c in self.order[: bisect_left(self.lefts, start)]
            if c != b and (c in members or (boxes[c][1] < bottom and boxes[c][3] > top))
        ]
        while True:  # the right symbol starts where the pieces reaching into it start
            reaching = [(x0, x1, c) for x0, x1, c in line if x0 < start <= x1]
            if not reaching:
                break
            if any(c == a or x1 > end for _, x1, c in reaching):
                return None  # the left symbol, or ink over the right one (a radical, a bar)
            start = min(x0 for x0, _, _ in reaching)
        ink_end = max((x1 for x0, x1, _ in line if x0 < start), default=None)
        return None if ink_end is None else float(start - ink_end)
