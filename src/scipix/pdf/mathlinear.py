"""The linear read of glyph math: symbols on a baseline and their scripts.

:func:`linear_latex` reads nodes left to right on the main baseline (smaller symbols raised
or lowered from it are superscripts and subscripts), joins two-glyph symbols (``\\mapsto``,
long arrows, ``\\cdots``), turns extension-font delimiters into ``\\left``/``\\right`` (or
``\\bigl``/``\\bigr``) and puts in the explicit spaces :mod:`scipix.pdf.mathspacing` finds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from scipix.pdf.mathnodes import TOP_SIZE, GlyphMathError, Item, Node, main_base, union
from scipix.pdf.mathspacing import choose_by_spacing, evaluation_bar, space_between


def linear_latex(nodes: list[Node], script: bool = False, display: bool = False) -> str:
    """Read ``nodes`` left to right (``script``: they are a sub- or superscript; ``display``:
    the outermost level of a display formula, where a text-style fraction is ``\\tfrac``)."""
    if not nodes:
        return ""
    sized = [n for n in nodes if n.base is not None]
    main_size = max((n.size for n in sized), default=max(n.size for n in nodes))
    baseline = main_base(nodes)
    items: list[Item] = []
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
            items.append(Item(n))
            continue
        if not items:
            items.append(Item(None))
        assert baseline is not None and n.base is not None
        (items[-1].sup if n.base < baseline else items[-1].sub).append(n)
    return _emit(_ligatures(items, main_size), main_size, script, display)


def _touching_group(item: Item, n: Node, size: float) -> list[Node] | None:
    """The script group of ``item`` that small node ``n`` continues: the one ending just left
    of it and nearest it vertically."""
    groups = [g for g in (item.sub, item.sup) if g]
    groups = [g for g in groups if -0.1 * size <= n.x0 - max(m.x1 for m in g) <= 0.3 * size]
    if not groups:
        return None
    return min(groups, key=lambda g: min(abs(m.cy - n.cy) for m in g))


def _ligatures(items: list[Item], size: float) -> list[Item]:
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
    out: list[Item] = []
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
                out[-1] = Item(joined, it.sub, it.sup)
                continue
        out.append(it)
    for dot, name in (("\\cdot", "\\cdots"), (".", "\\ldots")):
        merged: list[Item] = []
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
                    merged.append(Item(node, it.sub, it.sup))
                    continue
            merged.append(it)
        out = merged
    return out


def _emit(items: list[Item], size: float, script: bool, display: bool) -> str:
    for a, b in itertools.pairwise(items):
        if a.nucleus is not None and b.nucleus is not None:
            narrow = min(a.nucleus.x1 - a.nucleus.x0, b.nucleus.x1 - b.nucleus.x0)
            if b.nucleus.x0 < a.nucleus.x1 - 0.6 * narrow:
                raise GlyphMathError(f"{a.nucleus.latex} and {b.nucleus.latex} overlap")
    left_dot = evaluation_bar(items, size)
    bar_open = False
    for it in items:  # tall bars alternate: \left| ... \right|
        n = it.nucleus
        if n is not None and n.sized and n.cls == "bar":
            n.cls, bar_open = ("close", False) if bar_open else ("open", True)
    if not script:  # in scripts TeX puts no spaces around inner atoms to tell by
        choose_by_spacing(items, size)
    parts: list[str] = []
    opened = 0
    prev: Item | None = None
    for k, it in enumerate(items):
        n = it.nucleus
        if k == left_dot:  # the invisible start of \left. ... \right|_{a}
            parts.append("\\left.")
            opened += 1
        elif prev is not None and n is not None and prev.nucleus is not None:
            parts.append(space_between(prev, it, size, script))
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


def _scripts(it: Item) -> str:
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


__all__ = ["join_latex", "linear_latex"]
