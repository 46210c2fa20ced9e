"""Tokenise, repair, validate and compact LaTeX math.

Tokenisation follows im2markup: control words (``\\alpha``), control symbols (``\\{``),
environment names glued to ``\\begin``/``\\end`` (``\\begin{array}``), and single characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\\(?:begin|end)\s*\{[a-zA-Z*]+\}"  # environments
    r"|\\[a-zA-Z]+\*?"  # control words
    r"|\\."  # control symbols
    r"|[^\s]"  # any other single character
)
_WORD = re.compile(r"\\[a-zA-Z]+\*?$")


def tokenize_latex(latex: str) -> list[str]:
    """Split LaTeX into im2markup-style tokens."""
    out = []
    for m in _TOKEN.finditer(latex):
        t = m.group(0)
        if t.startswith(("\\begin", "\\end")):
            t = re.sub(r"\s+", "", t)
        out.append(t)
    return out


@dataclass(frozen=True, slots=True)
class LatexCheck:
    """Structural validity of a token sequence."""

    ok: bool
    problems: tuple[str, ...] = ()


def _opener(t: str) -> str | None:
    if t == "{":
        return "{"
    if t == "\\left":
        return "\\left"
    if t.startswith("\\begin{"):
        return t[len("\\begin") :]
    return None


def _closer(t: str) -> str | None:
    if t == "}":
        return "{"
    if t == "\\right":
        return "\\left"
    if t.startswith("\\end{"):
        return t[len("\\end") :]
    return None


def _close(item: str) -> list[str]:
    if item == "{":
        return ["}"]
    if item == "\\left":
        return ["\\right", "."]
    return ["\\end" + item]


_DANGLING = {"^", "_", "\\frac", "\\sqrt", "\\left", "\\right"}


def check_latex(tokens: list[str]) -> LatexCheck:
    """Braces, \\left/\\right and \\begin/\\end properly nested; nothing dangling."""
    problems: list[str] = []
    stack: list[str] = []
    for i, t in enumerate(tokens):
        if (o := _opener(t)) is not None:
            stack.append(o)
        elif (c := _closer(t)) is not None:
            if not stack or stack[-1] != c:
                problems.append(f"{t} at token {i} does not close the innermost group")
            else:
                stack.pop()
    problems += [f"unclosed {s}" for s in stack]
    if tokens and tokens[-1] in _DANGLING:
        problems.append(f"dangling {tokens[-1]} at the end")
    return LatexCheck(not problems, tuple(problems))


def repair_latex(tokens: list[str]) -> list[str]:
    """Make the nesting valid with few edits: close what is left open, drop stray closers."""
    out: list[str] = []
    stack: list[str] = []
    for t in tokens:
        if (o := _opener(t)) is not None:
            stack.append(o)
        elif (c := _closer(t)) is not None:
            if c not in stack:
                continue  # a closer with no opener: drop it (a \\right's delimiter stays)
            while stack[-1] != c:
                out += _close(stack.pop())
            stack.pop()
        out.append(t)
    while out and out[-1] in _DANGLING:
        out.pop()
    while stack:
        out += _close(stack.pop())
    return out


FUNCTION_NAMES = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "arcsin",
        "arccos",
        "arctan",
        "log",
        "ln",
        "lg",
        "exp",
        "lim",
        "liminf",
        "limsup",
        "max",
        "min",
        "sup",
        "inf",
        "det",
        "dim",
        "ker",
        "deg",
        "gcd",
        "arg",
        "hom",
        "Pr",
    ]
)


def normalize_functions(tokens: list[str]) -> list[str]:
    """``\\mathrm { s i n }`` -> ``\\sin`` for the operator names TeX knows."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "\\mathrm" and i + 1 < len(tokens) and tokens[i + 1] == "{":
            j = i + 2
            while j < len(tokens) and len(tokens[j]) == 1 and tokens[j].isalpha():
                j += 1
            name = "".join(tokens[i + 2 : j])
            if j < len(tokens) and tokens[j] == "}" and name in FUNCTION_NAMES:
                out.append("\\" + name)
                i = j + 1
                continue
        out.append(tokens[i])
        i += 1
    return out


def strip_outer_braces(tokens: list[str]) -> list[str]:
    """Drop braces that enclose the whole formula (``{ x + y }`` renders as ``x + y``)."""
    while len(tokens) >= 2 and tokens[0] == "{" and tokens[-1] == "}":
        depth = 0
        for i, t in enumerate(tokens):
            depth += (t == "{") - (t == "}")
            if depth == 0 and i < len(tokens) - 1:
                return tokens  # the first group closes before the end
        tokens = tokens[1:-1]
    return tokens


def compact_latex(tokens: list[str]) -> str:
    """Join tokens without spaces except where TeX needs one (after a control word)."""
    parts: list[str] = []
    prev = ""
    for t in tokens:
        if parts and _WORD.match(prev) and (t[0].isalpha() or t[0] == "*"):
            parts.append(" ")
        parts.append(t)
        prev = t
    return "".join(parts)
