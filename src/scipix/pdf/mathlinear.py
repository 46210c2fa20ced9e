"""The linear read of glyph math: symbols on a baseline, their scripts, TeX's spacing.

Shared by :mod:`scipix.pdf.glyphmath`: the :class:`Node` every glyph and structure becomes,
and :func:`linear_latex`, which reads nodes left to right on the main baseline (smaller
symbols raised or lowered from it are superscripts and subscripts), joins two-glyph symbols
(``\\mapsto``, long arrows, ``\\cdots``), turns extension-font delimiters into
``\\left``/``\\right`` and writes an explicit space where a gap exceeds what TeX puts between
the two atom classes.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

OPERATOR_NAMES = frozenset(
    [
        "arccos",
        "arcsin",
        "arctan",
        "arg",
        "cos",
        "cosh",
        "cot",
        "coth",
        "csc",
        "deg",
        "det",
        "dim",
        "exp",
        "gcd",
        "hom",
        "inf",
        "ker",
        "lg",
        "lim",
        "liminf",
        "limsup",
        "ln",
        "log",
        "max",
        "min",
        "Pr",
        "sec",
        "sin",
        "sinh",
        "sup",
        "tan",
        "tanh",
    ]
)
TOP_SIZE: ContextVar[float] = ContextVar("TOP_SIZE", default=10.0)  # the formula's text size


class GlyphMathError(Exception):
    """The glyphs could not be accounted for; the reason says which."""


@dataclass(slots=True)
class Node:
    """A symbol or a built structure, with its ink box and advance box."""

    latex: str
    cls: str
    x0: float
    top: float
    x1: float
    bottom: float
    base: float | None  # baseline; None for things centred on the math axis
    size: float
    adv0: float
    adv1: float
    sized: bool = False  # a delimiter from the extension font (needs \left / \right)
    italic: float = 0.0  # the italic correction TeX adds after a math italic letter (pt)
    big: str = ""  # a fixed-size delimiter's size: big, Big, bigg, Bigg ("" for extensible)
    command: str = ""  # how a delimiter is written when not \left/\right: bigl, Bigr, big
    style: str = ""
    num_shift: float = 0.0  # a fraction's numerator baseline above its bar (pt)

    @property
    def cx(self) -> float:
        return 0.5 * (self.x0 + self.x1)

    @property
    def cy(self) -> float:
        return 0.5 * (self.top + self.bottom)

    def text(self) -> str:
        return f"\\{self.style}{{{self.latex}}}" if self.style else self.latex


def union(
    latex: str,
    cls: str,
    nodes: Sequence[Node],
    base: float | None,
    *,
    x1: float | None = None,
    advance: tuple[float, float] | None = None,
) -> Node:
    """A node covering ``nodes``; ``x1`` and ``advance`` override the extents they give."""
    adv0, adv1 = advance or (min(n.adv0 for n in nodes), max(n.adv1 for n in nodes))
    return Node(
        latex,
        cls,
        min(n.x0 for n in nodes),
        min(n.top for n in nodes),
        max(n.x1 for n in nodes) if x1 is None else x1,
        max(n.bottom for n in nodes),
        base,
        max(n.size for n in nodes),
        adv0,
        adv1,
    )


# ------------------------------------------------------------------------------ linear read

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


def main_base(nodes: Sequence[Node]) -> float | None:
    with_base = [n for n in nodes if n.base is not None]
    if not with_base:
        return None
    top = max(n.size for n in with_base)
    return statistics.median(
        [n.base for n in with_base if n.base is not None and n.size >= top - 0.5]
    )


@dataclass(slots=True)
class _Item:
    nucleus: Node | None
    sub: list[Node] = field(default_factory=list)
    sup: list[Node] = field(default_factory=list)

    @property
    def adv0(self) -> float:
        nodes = [n for n in (self.nucleus, *self.sub, *self.sup) if n is not None]
        return min(n.adv0 for n in nodes)

    @property
    def adv1(self) -> float:
        scripts = [n.adv1 + 0.5 for n in (*self.sub, *self.sup)]  # + \scriptspace
        n = self.nucleus
        return max([*scripts, n.adv1 + n.italic] if n is not None else scripts)


def linear_latex(nodes: list[Node], script: bool = False, display: bool = False) -> str:
    """Read ``nodes`` left to right (``script``: they are a sub- or superscript; ``display``:
    the outermost level of a display formula, where a text-style fraction is ``\\tfrac``)."""
    if not nodes:
        return ""
    sized = [n for n in nodes if n.base is not None]
    main_size = max((n.size for n in sized), default=max(n.size for n in nodes))
    baseline = main_base(nodes)
    items: list[_Item] = []
    for n in sorted(nodes, key=lambda n: (n.adv0, n.top)):
        offset = abs(n.base - baseline) if baseline is not None and n.base is not None else 0
        small = n.size < main_size - 0.5 and n.base is not None
        level = small and offset <= 0.1 * main_size
        group = _touching_group(items[-1], n, main_size) if items and level else None
        if group is not None:  # e.g. the primes of a subscript, level with the main baseline
            group.append(n)
            continue
        is_script = (small and offset > 0.1 * main_size) or (
            # scripts of scriptscript symbols keep their size (TeX's smallest)
            main_size <= 0.6 * TOP_SIZE.get() and 0.15 * main_size < offset and bool(items)
        )
        axis = baseline - 0.25 * main_size if baseline is not None else None
        if (
            n.base is None
            and axis is not None
            and items
            and n.size < main_size - 0.5
            and abs(n.cy - axis) > 0.3 * main_size
        ):  # a big operator or delimiter set in a script: centred far off the axis
            (items[-1].sup if n.cy < axis else items[-1].sub).append(n)
            continue
        if not is_script:
            if (
                baseline is not None
                and n.base is not None
                and n.cls not in ("inner",)
                and abs(n.base - baseline) > 0.5 * main_size
            ):
                raise GlyphMathError("a second row of symbols (an array or aligned lines)")
            items.append(_Item(n))
            continue
        if not items:
            items.append(_Item(None))
        assert baseline is not None and n.base is not None
        (items[-1].sup if n.base < baseline else items[-1].sub).append(n)
    return _emit(_ligatures(items, main_size), main_size, script, display)


def _touching_group(item: _Item, n: Node, size: float) -> list[Node] | None:
    """The script group of ``item`` that small node ``n`` continues: the one ending just left
    of it and nearest it vertically."""
    groups = [g for g in (item.sub, item.sup) if g]
    groups = [g for g in groups if -0.1 * size <= n.x0 - max(m.x1 for m in g) <= 0.3 * size]
    if not groups:
        return None
    return min(groups, key=lambda g: min(abs(m.cy - n.cy) for m in g))


def _ligatures(items: list[_Item], size: float) -> list[_Item]:
    """Symbols TeX builds from two glyphs (\\mapsto, long arrows, \\cdots, \\ldots) and
    ``\\colon`` (a colon set tight against what precedes it, unlike the relation ``:``)."""
    mu = size / 18.0
    for before, after in itertools.pairwise(items):
        n = after.nucleus
        tight = after.adv0 - before.adv1 < 3.5 * mu  # 2mu before \\colon, 5mu before ":"
        if n is not None and n.latex == ":" and n.cls == "rel" and tight:
            n.latex, n.cls = "\\colon", "punct"
            n.adv0 -= 2.0 * mu
            n.adv1 += 3.0 * mu  # \\colon's 6mu after it, less the 3mu TeX puts after punct
    pairs = {
        ("\\mapstochar", "\\rightarrow"): "\\mapsto",
        ("-", "\\rightarrow"): "\\longrightarrow",
        ("\\leftarrow", "-"): "\\longleftarrow",
        ("=", "\\Rightarrow"): "\\Longrightarrow",
        ("\\Leftarrow", "="): "\\Longleftarrow",
        ("\\leftarrow", "\\rightarrow"): "\\longleftrightarrow",
        ("\\Leftarrow", "\\Rightarrow"): "\\Longleftrightarrow",
    }
    out: list[_Item] = []
    for it in items:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.nucleus is not None
            and it.nucleus is not None
            and not prev.sub
            and not prev.sup
            and it.nucleus.adv0 < prev.nucleus.adv1 - 0.5
        ):
            a, b = prev.nucleus, it.nucleus
            name = pairs.get((a.latex, b.latex)) or pairs.get((b.latex, a.latex))
            if a.latex == b.latex == "\\int":
                name, a.latex = "\\iint", "\\iint"
            elif a.latex == "\\iint" and b.latex == "\\int":
                name = "\\iiint"
            if name is not None:
                cls = "op" if name.endswith("int") else "rel"
                joined = union(name, cls, [a, b], b.base)
                out[-1] = _Item(joined, it.sub, it.sup)
                continue
        out.append(it)
    for dot, name in (("\\cdot", "\\cdots"), (".", "\\ldots")):
        merged: list[_Item] = []
        for it in out:
            run = merged[-2:]
            if (
                len(run) == 2
                and all(r.nucleus is not None and r.nucleus.latex == dot for r in run)
                and it.nucleus is not None
                and it.nucleus.latex == dot
                and not any(r.sub or r.sup for r in run)
            ):
                first = run[0].nucleus
                assert first is not None
                span = it.nucleus.x1 - first.x0
                pitch = (it.nucleus.x0 - first.x0) / 2  # \\ldots: a dot and a thin space
                if span < 1.3 * it.nucleus.size and pitch > 0.36 * it.nucleus.size:
                    cls = "inner"
                    node = union(name, cls, [first, it.nucleus], it.nucleus.base)
                    node.base = None if name == "\\cdots" else node.base
                    del merged[-2:]
                    merged.append(_Item(node, it.sub, it.sup))
                    continue
            merged.append(it)
        out = merged
    return out


def _emit(items: list[_Item], size: float, script: bool, display: bool) -> str:
    for a, b in itertools.pairwise(items):
        if a.nucleus is not None and b.nucleus is not None:
            narrow = min(a.nucleus.x1 - a.nucleus.x0, b.nucleus.x1 - b.nucleus.x0)
            if b.nucleus.x0 < a.nucleus.x1 - 0.6 * narrow:
                raise GlyphMathError(f"{a.nucleus.latex} and {b.nucleus.latex} overlap")
    left_dot = _evaluation_bar(items, size)
    bar_open = False
    for it in items:  # tall bars alternate: \left| ... \right|
        n = it.nucleus
        if n is not None and n.sized and n.cls == "bar":
            n.cls, bar_open = ("close", False) if bar_open else ("open", True)
    if not script:  # in scripts TeX puts no spaces around inner atoms to tell by
        _choose_by_spacing(items, size)
    parts: list[str] = []
    opened = 0
    prev: _Item | None = None
    for k, it in enumerate(items):
        n = it.nucleus
        if k == left_dot:  # the invisible start of \left. ... \right|_{a}
            parts.append("\\left.")
            opened += 1
        elif prev is not None and n is not None and prev.nucleus is not None:
            parts.append(_space(prev, it, size, script))
        if n is None:
            text = "{}"
        elif n.sized and n.cls == "open":
            text, opened = f"\\left{n.latex}", opened + 1
        elif n.sized and n.cls == "close":
            text = f"\\right{n.latex}"
            if opened:
                opened -= 1
            elif n.latex == ")":  # its "(" has font code 0, which PDFium's text drops
                raise GlyphMathError("a tall ')' whose '(' is missing from the text layer")
            else:
                parts.insert(0, "\\left.")
        elif (
            display
            and n.latex.startswith("\\frac")
            and n.size < size - 0.5
            and n.num_shift < 0.5 * size
        ):
            text = "\\t" + n.latex[1:]  # small parts, text-style shifts: \\tfrac in a display
        elif n.command:
            text = f"\\{n.command}{n.latex}"
        else:
            text = n.text()
        text += _scripts(it)
        parts.append(text)
        prev = it
    parts += ["\\right."] * opened
    return join_latex(parts)


def _evaluation_bar(items: list[_Item], size: float) -> int | None:
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


def _scripts(it: _Item) -> str:
    """An item's subscript and superscript; set one after the other (tensor indices such as
    ``J^{i}{}_{k}``) when one starts where the other ends instead of above it."""
    sub = f"_{{{linear_latex(it.sub, True)}}}" if it.sub else ""
    if it.sup and all(s.cls == "prime" for s in it.sup):
        sup = "'" * len(it.sup)
    else:
        sup = f"^{{{linear_latex(it.sup, True)}}}" if it.sup else ""
    nucleus = it.nucleus
    if it.sub and it.sup and sup[0] == "^" and (nucleus is None or nucleus.cls != "bigop"):
        # past the other group's advance and \\scriptspace (an integral's subscript is only
        # pulled left by its italic correction)
        if min(n.adv0 for n in it.sub) >= max(n.adv1 for n in it.sup) + 0.4:
            return sup + "{}" + sub
        if min(n.adv0 for n in it.sup) >= max(n.adv1 for n in it.sub) + 0.4:
            return sub + "{}" + sup
    return sub + sup


def join_latex(parts: Sequence[str]) -> str:
    """Concatenate LaTeX pieces, with a space where a control word meets a letter."""
    out = ""
    for p in parts:
        if p and out and p[0].isalpha() and re.search(r"\\[A-Za-z]+$", out):
            out += " "
        out += p
    return out


def _cls(n: Node, side: str) -> str:
    """The atom class ``n`` shows its neighbour on ``side`` ("left": n is on the left)."""
    c = n.cls
    if n.sized and ((c == "close" and side == "left") or (c == "open" and side == "right")):
        return "inner"  # \\left ... \\right makes an inner atom
    if c in ("bigop", "op"):
        return "op"
    return c if c in _CLASSES else "ord"


def _extra(prev: _Item, it: _Item, size: float, script: bool) -> float:
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


def _space(prev: _Item, it: _Item, size: float, script: bool) -> str:
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


def _misfit(items: list[_Item], pairs: Sequence[tuple[int, int]], size: float) -> float:
    """How badly the gaps between the given neighbours fit TeX's spacing: the distance to
    the spacing plus one mu for every explicit space it would take."""
    total = 0.0
    for a, b in pairs:
        if a >= 0 and b < len(items) and items[a].nucleus and items[b].nucleus:
            extra = _extra(items[a], items[b], size, False)
            total += abs(extra) if extra < 2.0 else 1.0 + min(abs(m - extra) for m, _ in _SPACES)
    return total


def _choose_by_spacing(items: list[_Item], size: float) -> None:
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


def _too_big_for_left(inside: list[_Item], delim: Node) -> bool:
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


def _delimiter_pairs(items: list[_Item]) -> list[tuple[int, int]]:
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


__all__ = [
    "OPERATOR_NAMES",
    "TOP_SIZE",
    "GlyphMathError",
    "Node",
    "join_latex",
    "linear_latex",
    "main_base",
    "union",
]
