"""Math rebuilt from a born-digital PDF's own glyphs: exact symbols and boxes -> LaTeX.

A formula typeset by TeX leaves in the PDF every glyph with its font, size, baseline and
advance, and every fraction bar and radical overbar as a drawn rule. This module reads them
back into LaTeX with layout rules, the way TeX put them there:

1. each glyph becomes a symbol (:func:`scipix.pdf.mathfonts.symbol`); upright letters join
   into operator names (``\\sin``, ``\\lim``) or ``\\mathrm{...}`` words; pieces of tall
   delimiters join into one delimiter;
2. structures claim their parts, outermost first: radicals (sign + overbar: radicand below,
   index at the upper left), rules (fraction: numerator above and denominator below;
   overline), big operators and limit words with limits above and below, accents over their
   base, the negation slash over a relation;
3. what is left is read left to right on the main baseline; smaller glyphs raised or lowered
   from it are superscripts and subscripts; sized delimiters become ``\\left``/``\\right``;
   gaps wider than TeX's own spacing between the two atom classes become explicit spaces.

Anything it cannot account for (an unknown glyph, a second row as in a matrix, a rule that is
neither a fraction bar nor an overline) makes :func:`glyph_latex` return None, so the caller
falls back to the image recognizer: a wrong reading is never made up from partial evidence.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipix.pdf.layout import Glyph
from scipix.pdf.mathfonts import family, italic_correction, symbol
from scipix.pdf.mathgrid import grids
from scipix.pdf.mathlinear import join_latex, linear_latex
from scipix.pdf.mathnodes import OPERATOR_NAMES, TOP_SIZE, GlyphMathError, Node, main_base, union

log = logging.getLogger(__name__)

LIMIT_NAMES = frozenset(["det", "gcd", "inf", "lim", "liminf", "limsup", "max", "min", "Pr", "sup"])
_NO_LIMITS = frozenset({"\\int", "\\oint"})  # integrals put their limits at the side
_OPENERS = frozenset({"(", "[", "\\{", "\\langle", "\\lfloor", "\\lceil", "/"})


@dataclass(frozen=True, slots=True)
class Rule:
    """A drawn horizontal rule (points, top-left origin)."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def mid(self) -> float:
        return 0.5 * (self.top + self.bottom)


# ---------------------------------------------------------------------------------- atoms


def _atoms(glyphs: Sequence[Glyph]) -> list[Node]:
    nodes: list[Node] = []
    for g in glyphs:
        sym = symbol(g.ch, g.font)
        if sym is None:
            raise GlyphMathError(f"unknown glyph {g.ch!r} in font {g.font}")
        ex = family(g.font) == "ex"
        centred = sym.cls in ("bigop", "piece") or (ex and sym.cls in ("open", "close"))
        adv0, adv1 = (g.adv0, g.adv1) if g.adv1 > g.adv0 else (g.x0, g.x1)
        nodes.append(
            Node(
                sym.latex,
                sym.cls,
                g.x0,
                g.top,
                g.x1,
                g.bottom,
                None if centred else g.base,
                g.size,
                adv0,
                adv1,
                sized=ex and sym.cls in ("open", "close", "piece"),
                style=sym.style,
                italic=italic_correction(g.ch, g.font) * g.size,
                big=sym.big,
            )
        )
    return _join_pieces(_join_words(nodes))


def _chains(nodes: list[Node], joins: Callable[[Node, Node], bool]) -> list[list[Node]]:
    """Group ``nodes`` (in reading order) into chains: each node joins the first chain whose
    last node ``joins`` it, or starts a chain."""
    chains: list[list[Node]] = []
    for n in nodes:
        for chain in chains:
            if joins(chain[-1], n):
                chain.append(n)
                break
        else:
            chains.append([n])
    return chains


def _join_words(nodes: list[Node]) -> list[Node]:
    """Upright letters side by side on one baseline -> an operator name or a \\mathrm word."""
    letters = sorted((n for n in nodes if n.cls == "letter"), key=lambda n: n.adv0)
    rest = [n for n in nodes if n.cls != "letter"]

    def joins(last: Node, n: Node) -> bool:
        return (
            last.base is not None
            and n.base is not None
            and abs(last.base - n.base) < 0.05 * n.size
            and abs(last.size - n.size) < 0.3
            and -0.15 * n.size < n.adv0 - last.adv1 < 0.05 * n.size
        )

    for w in _chains(letters, joins):
        name = "".join(n.latex for n in w)
        if name in OPERATOR_NAMES:
            node = union("\\" + name, "op", w, w[0].base)
        else:
            node = union(f"\\mathrm{{{name}}}", "ord", w, w[0].base)
        rest.append(node)
    return rest


def _join_pieces(nodes: list[Node]) -> list[Node]:
    """Pieces of an extensible delimiter stacked in one column -> one sized delimiter."""
    pieces = sorted((n for n in nodes if n.cls == "piece"), key=lambda n: n.top)
    rest = [n for n in nodes if n.cls != "piece"]

    def joins(last: Node, n: Node) -> bool:
        same = last.latex == n.latex or n.latex in ("|", "\\|")
        overlap = min(last.x1, n.x1) - max(last.x0, n.x0) > -0.5
        return same and overlap and n.top - last.bottom < 0.2 * n.size

    for col in _chains(pieces, joins):
        latex = next((p.latex for p in col if p.latex not in ("|", "\\|")), col[0].latex)
        if latex == "\\sqrt":
            rest.append(union(latex, "radical", col, None))
            continue
        cls = "open" if latex in _OPENERS else "close" if latex not in ("|", "\\|") else "bar"
        node = union(latex, cls, col, None)
        node.sized = True
        rest.append(node)
    return rest


# ------------------------------------------------------------------------------ structures


def _row_extend(chosen: list[Node], pool: list[Node]) -> None:
    """Add to ``chosen`` the nodes of ``pool`` on the same line as a chosen one and touching
    it horizontally (limits wider than their operator)."""
    grown = True
    while grown:
        grown = False
        for n in list(pool):
            for c in chosen:
                gap = max(n.x0 - c.x1, c.x0 - n.x1)
                if n.base is not None and c.base is not None:
                    same_line = abs(n.base - c.base) < 0.3 * c.size
                else:
                    same_line = min(n.bottom, c.bottom) - max(n.top, c.top) > 0
                if gap < 0.5 * c.size and same_line:
                    chosen.append(n)
                    pool.remove(n)
                    grown = True
                    break


def _stack(
    x0: float,
    x1: float,
    edge: float,
    up: bool,
    pool: list[Node],
    gap: float,
    *,
    wide: bool,
    inside: bool = False,
) -> list[Node]:
    """Nodes of ``pool`` centred within [x0, x1] stacked from ``edge`` upward (or downward),
    each within ``gap`` of the stack so far; removed from the pool."""
    chosen: list[Node] = []
    frontier = edge
    cands = [n for n in pool if x0 - 0.5 <= n.cx <= x1 + 0.5]
    cands.sort(key=lambda n: -n.bottom if up else n.top)
    if inside:  # a fraction's parts are set inside its bar (advance boxes, not ink)
        cands = [n for n in cands if n.adv0 >= x0 - 0.4 and n.adv1 <= x1 + 0.4]
    for n in cands:
        dist = frontier - n.bottom if up else n.top - frontier
        if dist > gap:
            break
        if (up and n.bottom > edge + 0.5) or (not up and n.top < edge - 0.5):
            continue
        chosen.append(n)
        frontier = min(frontier, n.top) if up else max(frontier, n.bottom)
    for n in chosen:
        pool.remove(n)
    if wide:
        _row_extend(chosen, pool)
    return chosen


def _inside(rules: list[Rule], nodes: Sequence[Node]) -> list[Rule]:
    if not nodes:
        return []
    x0 = min(n.x0 for n in nodes) - 1.5  # rules run past the ink of what they span
    x1 = max(n.x1 for n in nodes) + 1.5
    top = min(n.top for n in nodes) - 0.5
    bottom = max(n.bottom for n in nodes) + 0.5
    inner = [r for r in rules if x0 <= r.x0 and r.x1 <= x1 and top <= r.mid <= bottom]
    for r in inner:
        rules.remove(r)
    return inner


def _radicals(pool: list[Node], rules: list[Rule]) -> None:
    for rad in sorted((n for n in pool if n.cls == "radical"), key=lambda n: -n.bottom + n.top):
        if rad not in pool:
            continue
        bar = next(
            (
                r
                for r in rules
                if abs(r.x0 - rad.x1) < 0.15 * rad.size + 0.5 and abs(r.top - rad.top) < 1.0
            ),
            None,
        )
        if bar is None:
            raise GlyphMathError("a radical sign without its overbar")
        rules.remove(bar)
        pool.remove(rad)
        body = [n for n in pool if bar.x0 - 0.5 <= n.cx <= bar.x1 + 0.5 and n.top >= bar.top]
        body = [n for n in body if n.bottom <= rad.bottom + 0.5]
        for n in body:
            pool.remove(n)
        index = [
            n
            for n in pool
            if rad.x0 - 0.3 * rad.size <= n.cx <= rad.x1
            and n.bottom <= rad.top + 0.7 * (rad.bottom - rad.top)
            and n.size < rad.size
        ]
        for n in index:
            pool.remove(n)
        inner = _inside(rules, body)
        latex = "\\sqrt"
        if index:
            latex += f"[{_parse(index, _inside(rules, index), True)}]"
        latex += f"{{{_parse(body, inner)}}}"
        everything = [rad, *body, *index]
        base = main_base(body) if body else None
        adv0 = min([rad.adv0, *(n.adv0 - 5.0 * rad.size / 18.0 for n in index)])
        node = union(latex, "ord", everything, base, x1=bar.x1, advance=(adv0, bar.x1))
        node.size = rad.size if not body else max(n.size for n in body)
        node.top = min(node.top, bar.top)
        pool.append(node)


def _fractions(pool: list[Node], rules: list[Rule]) -> None:
    while rules:
        bar = max(rules, key=lambda r: r.width)
        rules.remove(bar)
        ref = statistics.median([n.size for n in pool]) if pool else 10.0
        num = _stack(bar.x0, bar.x1, bar.top, True, pool, 0.9 * ref, wide=False, inside=True)
        den = _stack(bar.x0, bar.x1, bar.bottom, False, pool, 0.9 * ref, wide=False, inside=True)
        if not num and not den:
            raise GlyphMathError("a rule with nothing above or below it")
        num_rules = _inside(rules, num)
        den_rules = _inside(rules, den)
        fake = Node("", "ord", bar.x0, bar.top, bar.x1, bar.bottom, None, ref, bar.x0, bar.x1)
        if num and den:
            latex = f"\\frac{{{_parse(num, num_rules)}}}{{{_parse(den, den_rules)}}}"
            size = max(n.size for n in [*num, *den])
            # LaTeX's \\frac wraps the fraction in braces: an ord atom, not TeX's inner
            node = union(latex, "ord", [*num, *den, fake], bar.mid + 0.25 * size)
            node.size = size
            node.num_shift = bar.mid - (main_base(num) or bar.mid)
            node.adv0, node.adv1 = bar.x0 - 1.2, bar.x1 + 1.2  # \nulldelimiterspace
        elif den:
            if bar.width < 0.9 * (max(n.x1 for n in den) - min(n.x0 for n in den)):
                raise GlyphMathError("a rule over only part of what lies below it")
            latex = f"\\overline{{{_parse(den, den_rules)}}}"
            node = union(latex, "ord", [*den, fake], main_base(den))
            node.size = max(n.size for n in den)
        else:
            latex = f"\\underline{{{_parse(num, num_rules)}}}"
            node = union(latex, "ord", [*num, fake], main_base(num))
            node.size = max(n.size for n in num)
        pool.append(node)


def _braces(pool: list[Node], rules: list[Rule]) -> None:
    """Horizontal braces (four tips joined by rules) with what they span and their label:
    the side holding full-size symbols is the content, the other side the label."""
    while tips := sorted((n for n in pool if n.cls == "bracetip"), key=lambda n: n.x0):
        row = [n for n in tips if n.top < tips[0].bottom and tips[0].top < n.bottom]
        for n in row:
            pool.remove(n)
        x0, x1 = min(n.x0 for n in row), max(n.x1 for n in row)
        top, bottom = min(n.top for n in row), max(n.bottom for n in row)
        for r in [r for r in rules if top - 1.0 <= r.mid <= bottom + 1.0 and x0 - 0.5 <= r.x0]:
            if r.x1 <= x1 + 0.5:
                rules.remove(r)
        size = max((n.size for n in pool), default=row[0].size)
        above = [n for n in pool if x0 <= n.cx <= x1 and n.bottom <= top + 0.5]
        below = [n for n in pool if x0 <= n.cx <= x1 and n.top >= bottom - 0.5]
        over = max((n.size for n in below), default=0.0) >= max(
            (n.size for n in above), default=0.0
        )
        edge = bottom if over else top
        content = _stack(x0, x1, edge, not over, pool, 0.9 * size, wide=False)
        label = _stack(x0, x1, top if over else bottom, over, pool, 0.6 * size, wide=True)
        if not content:
            raise GlyphMathError("a brace over nothing")
        latex = (
            f"\\{'over' if over else 'under'}brace{{{_parse(content, _inside(rules, content))}}}"
        )
        if label:
            latex += f"{'^' if over else '_'}{{{_parse(label, [], True)}}}"
        node = union(latex, "op", [*row, *content, *label], main_base(content))
        node.size = max(n.size for n in content)
        pool.append(node)


def _limits(pool: list[Node]) -> None:
    ops = [
        n
        for n in pool
        if (n.cls == "bigop" and n.latex not in _NO_LIMITS)
        or (n.cls == "op" and n.latex[1:] in LIMIT_NAMES)
    ]
    for op in sorted(ops, key=lambda n: -(n.bottom - n.top)):
        if op not in pool:
            continue
        pool.remove(op)
        small = [n for n in pool if n.size < op.size - 0.5 or n.cls == "op"]
        others = [n for n in pool if n not in small]
        gap = 0.45 * op.size
        above = _stack(op.x0, op.x1, op.top, True, small, gap, wide=True)
        below = _stack(op.x0, op.x1, op.bottom, False, small, gap, wide=True)
        pool[:] = small + others
        if not above and not below:
            pool.append(op)
            continue
        latex = op.latex
        if below:
            latex += f"_{{{_parse(below, [], True)}}}"
        if above:
            latex += f"^{{{_parse(above, [], True)}}}"
        node = union(latex, "op", [op, *above, *below], op.base)
        node.size = op.size
        pool.append(node)


def _accents(pool: list[Node]) -> None:
    for acc in sorted((n for n in pool if n.cls == "accent"), key=lambda n: n.top):
        if acc not in pool:
            continue
        under = [
            n
            for n in pool
            if n is not acc
            and n.top >= acc.cy - 0.5
            and acc.x0 - 0.35 * acc.size <= n.cx <= acc.x1 + 0.35 * acc.size
        ]
        if not under:
            raise GlyphMathError(f"an accent {acc.latex} over nothing")
        first = min(under, key=lambda n: abs(n.cx - acc.cx) + 0.2 * abs(n.top - acc.bottom))
        base = [first]
        if acc.latex.startswith("\\wide"):
            base += [
                n
                for n in under
                if n is not first
                and n.base is not None
                and first.base is not None
                and abs(n.base - first.base) < 0.1 * n.size
                and acc.x0 - 0.5 <= n.cx <= acc.x1 + 0.5
            ]
        pool.remove(acc)
        for n in base:
            pool.remove(n)
        latex = f"{acc.latex}{{{_parse(base, [])}}}"
        node = union(latex, "ord", [acc, *base], main_base(base))
        node.size = max(n.size for n in base)
        node.adv0 = min(n.adv0 for n in base)
        node.adv1 = max(n.adv1 for n in base)
        pool.append(node)


def _negations(pool: list[Node]) -> None:
    for neg in [n for n in pool if n.cls == "not"]:
        rels = [
            n
            for n in pool
            if n.cls == "rel"
            and n.x0 - 1.0 <= neg.cx <= n.x1 + 1.0
            and n.top < neg.bottom
            and neg.top < n.bottom
        ]
        if not rels:
            raise GlyphMathError("a negation slash over nothing")
        rel = min(rels, key=lambda n: abs(n.cx - neg.cx))
        pool.remove(neg)
        pool.remove(rel)
        latex = "\\neq" if rel.latex == "=" else f"\\not{rel.latex}"
        node = union(latex, "rel", [neg, rel], rel.base, advance=(rel.adv0, rel.adv1))
        pool.append(node)
    stacked = {("\\sim", "="): "\\cong", (".", "="): "\\doteq"}
    for rel in [n for n in pool if n.latex == "="]:
        over = [
            n
            for n in pool
            if n is not rel and n.bottom <= rel.top + 0.5 and rel.x0 - 0.5 <= n.cx <= rel.x1 + 0.5
        ]
        over = [n for n in over if rel.top - n.bottom < 0.25 * rel.size]
        if len(over) == 1 and (over[0].latex, "=") in stacked:
            pool.remove(rel)
            pool.remove(over[0])
            latex = stacked[(over[0].latex, "=")]
            pool.append(union(latex, "rel", [over[0], rel], rel.base, advance=(rel.adv0, rel.adv1)))
    for slash in [n for n in pool if n.latex == "/"]:
        ins = [n for n in pool if n.latex == "\\in" and n.x0 - 0.5 <= slash.cx <= n.x1 + 0.5]
        if ins:
            pool.remove(slash)
            pool.remove(ins[0])
            node = union("\\notin", "rel", [slash, ins[0]], ins[0].base)
            pool.append(node)


def _parse(
    nodes: list[Node], rules: list[Rule], script: bool = False, display: bool = False
) -> str:
    pool = list(nodes)
    rules = list(rules)
    _radicals(pool, rules)
    _braces(pool, rules)
    _fractions(pool, rules)
    _limits(pool)
    _accents(pool)
    _negations(pool)
    grids(pool, lambda cell: _parse(cell, []))
    return linear_latex(pool, script, display)


def glyph_latex(glyphs: Sequence[Glyph], rules: Sequence[Rule], display: bool = True) -> str:
    """LaTeX for a formula's glyphs and rules; raises GlyphMathError when they cannot all be
    accounted for."""
    if not glyphs:
        raise GlyphMathError("no glyphs")
    nodes = _atoms(glyphs)
    token = TOP_SIZE.set(max(g.size for g in glyphs))
    try:
        return _parse(nodes, list(rules), display=display)
    finally:
        TOP_SIZE.reset(token)


def try_glyph_latex(
    glyphs: Sequence[Glyph], rules: Sequence[Rule], display: bool = True
) -> str | None:
    """:func:`glyph_latex`, or None (the caller then recognises the region's pixels). Any
    other failure on geometry the rules did not foresee is logged and treated the same way:
    it costs the glyph reading, never the page."""
    try:
        return glyph_latex(glyphs, rules, display)
    except GlyphMathError:
        return None
    except Exception:  # a heuristic with a fallback: no odd PDF may fail the page here
        log.warning(
            "glyph math failed on %d glyphs; using the recognizer", len(glyphs), exc_info=True
        )
        return None


__all__ = ["GlyphMathError", "Rule", "glyph_latex", "join_latex", "try_glyph_latex"]
