"""TeX's spacing between math atoms, and what glyph math decides by it.

The gap between two items, measured from their advance boxes (plus italic corrections),
against the space TeX puts between their atom classes (TeXbook, chapter 18) gives explicit
spaces (``\\,``, ``\\ ``, ``\\quad``), and tells apart what the glyphs alone cannot:
``\\lim`` from ``\\mathrm{lim}``, ``\\left( \\right)`` from ``\\bigl( \\bigr)`` and plain
parentheses, and where the invisible ``\\left.`` of an evaluation bar starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from scipix.pdf.mathnodes import OPERATOR_NAMES, Item, Node

_THIN, _MED, _THICK = 3, 4, 5
_CLASSES = ("ord", "op", "bin", "rel", "open", "close", "punct", "inner")
# TeX's spacing between atom classes (TeXbook ch. 18), in mu; negative: only in display/text
_SPACING = {
    "ord": (0, _THIN, _MED, _THICK, 0, 0, 0, _THIN),
    "op": (_THIN, _THIN, 0, _THICK, 0, 0, 0, _THIN),
    "bin": (_MED, _MED, 0, 0, _MED, 0, 0, _MED),
    "rel": (_THICK, _THICK, 0, 0, _THICK, 0, 0, _THICK),
    "open": (0, 0, 0, 0, 0, 0, 0, 0),
    "close": (0, _THIN, _MED, _THICK, 0, 0, 0, _THIN),
    "punct": (_THIN, _THIN, 0, _THIN, _THIN, _THIN, _THIN, _THIN),
    "inner": (_THIN, _THIN, _MED, _THICK, _THIN, 0, _THIN, _THIN),
}
_SPACES = (
    (36.0, "\\qquad "),
    (18.0, "\\quad "),
    (5.9, "\\ "),  # an interword space of the roman font (a third of an em and a bit)
    (5.0, "\\;"),
    (4.0, "\\:"),
    (3.0, "\\,"),
)


def _cls(n: Node, side: str) -> str:
    """The atom class ``n`` shows its neighbour on ``side`` ("left": n is on the left)."""
    c = n.cls
    if n.sized and ((c == "close" and side == "left") or (c == "open" and side == "right")):
        return "inner"  # \\left ... \\right makes an inner atom
    if c in ("bigop", "op"):
        return "op"
    return c if c in _CLASSES else "ord"


def _extra(prev: Item, it: Item, size: float, script: bool) -> float:
    """How much wider (in mu) the gap between two items is than TeX's spacing between their
    atom classes."""
    assert prev.nucleus is not None and it.nucleus is not None
    left, right = _cls(prev.nucleus, "left"), _cls(it.nucleus, "right")
    if right == "bin" and left in ("bin", "op", "rel", "open", "punct"):
        right = "ord"  # a unary minus
    if left == "bin" and right in ("rel", "close", "punct"):
        left = "ord"
    expected = _SPACING[left][_CLASSES.index(right)]
    if script and not (right == "op" and left in ("ord", "op", "close", "inner")):
        expected = _THIN if (left, right) == ("op", "ord") else 0
    return (it.adv0 - prev.adv1) / size * 18.0 - expected


def space_between(prev: Item, it: Item, size: float, script: bool) -> str:
    """An explicit space when the gap exceeds what TeX puts between the two classes."""
    extra = _extra(prev, it, size, script)
    if extra < 2.0:
        return ""
    if extra > 45.0:  # \\qquad\\qquad and wider
        wide = round(extra / 36.0)
        return "\\qquad " * wide + _space_for(extra - 36.0 * wide)
    return _space_for(extra)


def _space_for(extra: float) -> str:
    if extra < 2.0:
        return ""
    return min(_SPACES, key=lambda sp: abs(sp[0] - extra))[1]


def _misfit(items: list[Item], pairs: Sequence[tuple[int, int]], size: float) -> float:
    """How badly the gaps between the given neighbours fit TeX's spacing: the distance to
    the spacing plus one mu for every explicit space it would take."""
    total = 0.0
    for a, b in pairs:
        if a >= 0 and b < len(items) and items[a].nucleus and items[b].nucleus:
            extra = _extra(items[a], items[b], size, False)
            total += abs(extra) if extra < 2.0 else 1.0 + min(abs(m - extra) for m, _ in _SPACES)
    return total


def choose_by_spacing(items: list[Item], size: float) -> None:
    """Settle what only spacing tells apart: ``\\lim`` (an operator, thin space after) from
    ``\\mathrm{lim}``, and ``\\left( ... \\right)`` (an inner atom, thin spaces outside)
    from plain parentheses."""
    for k, it in enumerate(items):
        n = it.nucleus
        if n is not None and n.cls == "op" and n.latex[1:] in OPERATOR_NAMES:
            around = [(k - 1, k), (k, k + 1)]
            as_op = _misfit(items, around, size)
            n.cls = "ord"
            if _misfit(items, around, size) + 0.5 < as_op:
                n.latex = f"\\mathrm{{{n.latex[1:]}}}"
            else:
                n.cls = "op"
    for i, k in _delimiter_pairs(items):
        opener, closer = items[i].nucleus, items[k].nucleus
        assert opener is not None and closer is not None
        if opener.sized and not (opener.big and closer.big):
            continue  # built from pieces: only \\left ... \\right makes those
        around = [(i - 1, i), (i, i + 1), (k - 1, k), (k, k + 1)]
        # (sized, opener's class, closer's class, command prefix): \\left( \\right), a plain or
        # \\bigl( \\bigr) pair (open and close atoms), or \\big( \\big) (ord atoms)
        left = (True, "open", "close", "")
        bars = opener.cls == closer.cls == "ord"  # | or \\|: plain bars are ord atoms
        plain = (False, "ord", "ord", "") if bars else (False, "open", "close", "l")
        options = [left, plain] if opener.sized else [plain, left]  # as set first
        if opener.big and _too_big_for_left(items[i + 1 : k], opener):
            options.remove(left)  # \\left would have chosen a smaller size for this content
        if opener.big:
            options.append((False, "ord", "ord", "-"))
        best, best_cost = options[0], float("inf")
        for option in options:
            opener.sized = closer.sized = option[0]
            opener.cls, closer.cls = option[1], option[2]
            cost = _misfit(items, around, size) + (0.0 if option is options[0] else 0.5)
            if cost < best_cost:
                best, best_cost = option, cost
        opener.sized = closer.sized = best[0]
        opener.cls, closer.cls = best[1], best[2]
        if not best[0] and opener.big:
            suffix = ("", "") if best[3] == "-" else ("l", "r")
            opener.command = opener.big + suffix[0]
            closer.command = (closer.big or opener.big) + suffix[1]


_DELIMITER_EMS = {"": 1.0, "big": 1.2, "Big": 1.8, "bigg": 2.4, "Bigg": 3.0}  # total heights


def _too_big_for_left(inside: list[Item], delim: Node) -> bool:
    """Whether ``delim`` is a larger size than ``\\left`` would pick for what it encloses:
    the first of the normal, big, Big, bigg and Bigg sizes that covers the content by TeX's
    rule (\\delimiterfactor 901, \\delimitershortfall 5pt)."""
    nodes = [n for it in inside for n in (it.nucleus, *it.sub, *it.sup) if n is not None]
    if not nodes:
        return False
    axis = delim.cy
    reach = max(max(axis - n.top, n.bottom - axis) for n in nodes) + 0.5  # ink to box
    need = max(2 * reach * 0.901, 2 * reach - 5.0)
    sizes = list(_DELIMITER_EMS.values())
    pick = next((k for k, em in enumerate(sizes) if em * delim.size >= need), len(sizes) - 1)
    return list(_DELIMITER_EMS).index(delim.big) > pick


def _delimiter_pairs(items: list[Item]) -> list[tuple[int, int]]:
    """Matching opening and closing delimiters (by nesting), as item indexes."""
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    for k, it in enumerate(items):
        n = it.nucleus
        if n is None:
            continue
        if n.cls == "open":
            stack.append(k)
        elif n.cls == "close" and stack:
            pairs.append((stack.pop(), k))
    # small bars, one after another: |x| + |y|
    bars = [k for k, it in enumerate(items) if _small_bar(it.nucleus)]
    pairs += list(zip(bars[::2], bars[1::2], strict=False))
    return pairs


def _small_bar(n: Node | None) -> bool:
    return n is not None and not n.sized and n.cls == "ord" and n.latex in ("|", "\\|")


def evaluation_bar(items: list[Item], size: float) -> int | None:
    """For ``\\left. f \\right|_{a}^{b}`` (a tall bar with scripts and no partner): mark the
    bar as closing and return where its invisible ``\\left.`` starts, the gap after the last
    relation that shows the space an inner atom with a null delimiter gets (else just after
    that relation)."""
    classes = [it.nucleus.cls if it.nucleus else "" for it in items]
    tall_bars = [
        k for k, it in enumerate(items) if it.nucleus and it.nucleus.sized and classes[k] == "bar"
    ]
    if len(tall_bars) % 2 == 0 or not (items[tall_bars[-1]].sub or items[tall_bars[-1]].sup):
        return None
    bar = tall_bars[-1]
    node = items[bar].nucleus
    assert node is not None
    node.cls = "close"
    rels = [k for k in range(bar) if classes[k] == "rel"]
    first = rels[-1] + 1 if rels else 0
    best, best_fit = first, 1.2
    for k in range(max(first, 1), bar):
        a, b = items[k - 1], items[k]
        if a.nucleus and b.nucleus:
            # a thin space (3mu) plus the null delimiter's \\nulldelimiterspace (1.2pt)
            fit = abs(_extra(a, b, size, False) - 3.0 - 1.2 / size * 18.0)
            if fit < best_fit:
                best, best_fit = k, fit
    return best


__all__ = ["choose_by_spacing", "evaluation_bar", "space_between"]
