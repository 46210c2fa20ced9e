"""The pieces glyph math is built from: a :class:`Node` for every glyph or structure, the
:class:`Item` a node becomes on a line with its scripts, and what every stage shares."""

from __future__ import annotations

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


def main_base(nodes: Sequence[Node]) -> float | None:
    """The median baseline of the largest symbols (None when none has a baseline)."""
    with_base = [n for n in nodes if n.base is not None]
    if not with_base:
        return None
    top = max(n.size for n in with_base)
    return statistics.median(
        [n.base for n in with_base if n.base is not None and n.size >= top - 0.5]
    )


@dataclass(slots=True)
class Item:
    """A nucleus on the line with its subscripts and superscripts."""

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


__all__ = [
    "OPERATOR_NAMES",
    "TOP_SIZE",
    "GlyphMathError",
    "Item",
    "Node",
    "main_base",
    "union",
]
