"""Rows and columns of glyph math: matrices, arrays, ``cases`` and binomials.

Content with several rows of full-size symbols (between a pair of tall delimiters, after a
lone tall brace, or making up the whole formula) is cut into rows by baseline and into
columns by the vertical strips of white that run through every row. The environment follows
from the geometry TeX leaves: cells hugging the delimiters are a ``matrix`` family
environment (``pmatrix``, ``bmatrix``, ...), cells set ``\\arraycolsep`` inside them an
``array`` with each column's alignment; left-aligned rows spread by ``cases``'s 1.2
``\\arraystretch`` after a lone brace are ``cases``; one column of two widely spaced rows in
parentheses is ``\\binom``. Lines spread by ``\\jot`` with no delimiter are ``aligned`` (split
at the relation most lines start with) or ``gathered`` (a shared centre). Anything else
raises :class:`GlyphMathError`.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable

from scipix.pdf.mathnodes import GlyphMathError, Node, union

Parse = Callable[[list[Node]], str]

_MATRIX_ENVS = {
    ("(", ")"): "pmatrix",
    ("[", "]"): "bmatrix",
    ("\\{", "\\}"): "Bmatrix",
    ("|", "|"): "vmatrix",
    ("\\|", "\\|"): "Vmatrix",
}
_PAD_PT = 3.5  # cell ink this far inside a delimiter or more: \arraycolsep (5pt) is there
_CASES_STRETCH = 1.32  # baseline distance / size above which rows were spread (cases, \jot)


def _rows(nodes: list[Node]) -> list[list[Node]]:
    """Full-size nodes clustered by baseline, top row first; [] for fewer than two rows."""
    sized = [n for n in nodes if n.base is not None]
    if not sized:
        return []
    size = max(n.size for n in sized)
    main = sorted((n for n in sized if n.size >= size - 0.5), key=lambda n: n.base or 0.0)
    rows: list[list[Node]] = [[main[0]]]
    for n in main[1:]:
        if (n.base or 0.0) - (rows[-1][-1].base or 0.0) > 0.6 * size:
            rows.append([n])
        else:
            rows[-1].append(n)
    return rows if len(rows) > 1 else []


def _assign(nodes: list[Node], rows: list[list[Node]]) -> list[list[Node]]:
    """Every node into the row whose band holds (or is nearest to) its centre."""
    bands = [(min(n.top for n in r), max(n.bottom for n in r)) for r in rows]
    out: list[list[Node]] = [[] for _ in rows]
    for n in nodes:
        k = min(
            range(len(bands)),
            key=lambda i: max(bands[i][0] - n.cy, n.cy - bands[i][1], 0.0),
        )
        out[k].append(n)
    return out


def _columns(nodes: list[Node], gap: float) -> list[tuple[float, float]]:
    """Column spans: the x-extents of ink, merged where the white between is under ``gap``."""
    spans = sorted((n.x0, n.x1) for n in nodes)
    cols = [list(spans[0])]
    for x0, x1 in spans[1:]:
        if x0 - cols[-1][1] < gap:
            cols[-1][1] = max(cols[-1][1], x1)
        else:
            cols.append([x0, x1])
    return [(a, b) for a, b in cols]


def _alignments(cells: list[list[Node]]) -> str:
    """The alignments (of l, c, r) under which the column's cells line up: every edge whose
    spread is within 0.03pt of the best one (equal cells line up all three ways)."""
    boxes = [(min(n.x0 for n in c), max(n.x1 for n in c)) for c in cells if c]
    if len(boxes) < 2:
        return "lcr"
    spread = {
        "l": statistics.pstdev([a for a, _ in boxes]),
        "c": statistics.pstdev([(a + b) / 2 for a, b in boxes]),
        "r": statistics.pstdev([b for _, b in boxes]),
    }
    best = min(spread.values())
    return "".join(k for k, v in spread.items() if v <= best + 0.03)


def _grid(
    content: list[Node], parse: Parse
) -> tuple[list[list[str]], list[str], float, float] | None:
    """Cells (LaTeX), column alignments, row stretch and the left padding of the content, or
    None when it is a single row."""
    rows = _rows(content)
    if not rows:
        return None
    size = max(n.size for r in rows for n in r)
    members = _assign(content, rows)
    cols = _columns(content, 0.55 * size)
    cells: list[list[list[Node]]] = [
        [[n for n in row if a - 0.5 <= n.cx <= b + 0.5] for a, b in cols] for row in members
    ]
    aligns = [_alignments([row[c] for row in cells]) for c in range(len(cols))]
    stretch = _stretch(rows)
    if any(not cell for row in cells for cell in row):
        raise GlyphMathError("a grid with empty cells (or things beside it on its rows)")
    latex = [[parse(cell) for cell in row] for row in cells]
    return latex, aligns, stretch, min(n.x0 for n in content)


def _stretch(rows: list[list[Node]]) -> float:
    """The closest distance between two rows' baselines, in units of their symbol size."""
    size = max(n.size for r in rows for n in r)
    bases = [statistics.median([n.base or 0.0 for n in r]) for r in rows]
    return min(b - a for a, b in itertools.pairwise(bases)) / size


def _aligned(nodes: list[Node], rows: list[list[Node]], parse: Parse) -> str:
    """Lines spread by \\jot: ``aligned`` at the x where a relation starts on most lines (each
    line split there), else ``gathered`` when the lines share their centre."""
    members = _assign(nodes, rows)
    starts = [round(n.adv0, 1) for row in members for n in row if n.cls == "rel"]
    votes = {x: sum(1 for y in starts if abs(x - y) <= 0.6) for x in starts}
    at = max(votes, key=lambda x: votes[x], default=None)
    if at is not None and votes[at] >= 2:
        lines = []
        for row in members:
            left = [n for n in row if n.adv0 < at - 0.6]
            right = [n for n in row if n.adv0 >= at - 0.6]
            lines.append(f"{parse(left)}&{parse(right)}")
        body = "\\\\".join(lines)
        return f"\\begin{{aligned}}{body}\\end{{aligned}}"
    centres = [0.5 * (min(n.x0 for n in r) + max(n.x1 for n in r)) for r in members]
    if max(centres) - min(centres) < 1.0:
        body = "\\\\".join(parse(r) for r in members)
        return f"\\begin{{gathered}}{body}\\end{{gathered}}"
    raise GlyphMathError("lines spread by \\jot with no common relation or centre")


def _body(cells: list[list[str]]) -> str:
    return "\\\\".join("&".join(row) for row in cells)


def grids(pool: list[Node], parse: Parse) -> None:
    """Replace delimited or whole-formula multi-row content in ``pool`` by one node each."""
    for opener in sorted((n for n in pool if n.sized and n.cls in ("open", "bar")), key=_x0):
        if opener not in pool:
            continue
        closer = next(
            (
                n
                for n in sorted(pool, key=_x0)
                if n.sized
                and n.cls in ("close", "bar")
                and n is not opener
                and n.x0 > opener.x1
                and abs(n.top - opener.top) < 2.0
                and abs(n.bottom - opener.bottom) < 2.0
            ),
            None,
        )
        right = closer.x0 if closer is not None else float("inf")
        content = [
            n
            for n in pool
            if n is not opener
            and n is not closer
            and opener.x1 - 0.5 <= n.x0
            and n.x1 <= right + 0.5
            and opener.top - 0.5 <= n.cy <= opener.bottom + 0.5
        ]
        grid = _grid(content, parse) if content else None
        if grid is None:
            continue
        cells, aligns, stretch, left = grid
        latex = _environment(opener, closer, cells, aligns, stretch, left - opener.x1)
        parts = [opener, *content] + ([closer] if closer is not None else [])
        node = union(latex, "inner", parts, opener.cy + 0.25 * max(n.size for n in content))
        for n in parts:
            pool.remove(n)
        pool.append(node)
    rows = _rows(pool) if pool else []
    if rows and _stretch(rows) >= _CASES_STRETCH:  # \jot between the rows: aligned, gathered
        pool[:] = [union(_aligned(pool, rows, parse), "ord", pool, None)]
        return
    grid = _grid(pool, parse) if pool else None
    if grid is not None:  # rows with no delimiters around them: the whole formula is a grid
        cells, aligns, _, _ = grid
        if all("c" in a for a in aligns):
            latex = f"\\begin{{matrix}}{_body(cells)}\\end{{matrix}}"
        else:
            latex = f"\\begin{{array}}{{{_spec(aligns)}}}{_body(cells)}\\end{{array}}"
        pool[:] = [union(latex, "ord", pool, None)]


def _spec(aligns: list[str]) -> str:
    """An array's column spec: c where a column allows it, else its one alignment."""
    return "".join("c" if "c" in a else a[0] for a in aligns)


def _environment(
    opener: Node,
    closer: Node | None,
    cells: list[list[str]],
    aligns: list[str],
    stretch: float,
    pad: float,
) -> str:
    left = opener.latex
    right = closer.latex if closer is not None else "."
    body = _body(cells)
    cases = closer is None and left == "\\{" and all("l" in a for a in aligns)
    if cases and stretch >= _CASES_STRETCH and pad < _PAD_PT:
        return f"\\begin{{cases}}{body}\\end{{cases}}"
    binom = (left, right) == ("(", ")") and len(aligns) == len(cells) - 1 == 1
    if binom and stretch >= _CASES_STRETCH:  # rows as far apart as a fraction's parts
        return f"\\binom{{{cells[0][0]}}}{{{cells[1][0]}}}"
    if stretch >= _CASES_STRETCH:
        raise GlyphMathError("rows spread wider than a matrix or array sets them")
    env = _MATRIX_ENVS.get((left, right))
    if env is not None and pad < _PAD_PT and all("c" in a for a in aligns):
        return f"\\begin{{{env}}}{body}\\end{{{env}}}"
    if pad < _PAD_PT:
        raise GlyphMathError("a grid set tight against its delimiters but not centred")
    return f"\\left{left}\\begin{{array}}{{{_spec(aligns)}}}{body}\\end{{array}}\\right{right}"


def _x0(n: Node) -> float:
    return n.x0


__all__ = ["grids"]
