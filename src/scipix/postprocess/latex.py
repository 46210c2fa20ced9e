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
_WORD = re.compile(r"\\[a-zA-Z]+\*?$")  # a token that ends with a control word


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


def _fused(t: str, word: str) -> bool:
    """``\\left``, or ``\\left`` fused with its delimiter (``\\left(``, ``\\left\\langle``), not
    ``\\leftarrow``."""
    return t.startswith(word) and (len(t) == len(word) or not t[len(word)].isalpha())


def _opener(t: str) -> str | None:
    if t == "{":
        return "{"
    if _fused(t, "\\left"):
        return "\\left"
    if t.startswith("\\begin{"):
        return t[len("\\begin") :]
    return None


def _closer(t: str) -> str | None:
    if t == "}":
        return "{"
    if _fused(t, "\\right"):
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
                # a closer with no opener: drop it; a \\right's delimiter stays, as a plain one
                rest = t[len("\\right") :] if c == "\\left" else ""
                if rest and rest != ".":
                    out.append(rest)
                continue
            while stack[-1] != c:
                out += _close(stack.pop())
            stack.pop()
        out.append(t)
    while out and out[-1] in _DANGLING:
        out.pop()
    while stack:
        out += _close(stack.pop())
    return out


_SCRIPT_NEUTRAL = frozenset({"'", "\\limits", "\\nolimits"})


def separate_double_scripts(tokens: list[str]) -> list[str]:
    """``F^{b}_{c}^{a}`` -> ``F^{b}_{c}{}^{a}``: a second superscript (or subscript) on one
    base is a TeX error ("Double superscript"); an empty group gives it a base of its own."""
    out: list[str] = []
    # per open group: the scripts the current base has, and whether the group is an argument
    seen: list[set[str]] = [set()]
    is_arg: list[bool] = [False]
    arg_next = False  # the next token or group is a script's argument
    for t in tokens:
        if arg_next:
            arg_next = False
            if t == "{":
                seen.append(set())
                is_arg.append(True)
            out.append(t)
            continue
        if t in ("^", "_"):
            if t in seen[-1]:
                out += ["{", "}"]
                seen[-1] = set()
            seen[-1].add(t)
            arg_next = True
        elif t == "{":
            seen.append(set())
            is_arg.append(False)
        elif t == "}" and len(seen) > 1:
            seen.pop()
            if not is_arg.pop():
                seen[-1] = set()  # a group is a new base
        elif t not in _SCRIPT_NEUTRAL:
            seen[-1] = set()
        out.append(t)
    return out


_COLUMN_TYPES = frozenset("lcr")


def widen_array_columns(tokens: list[str]) -> list[str]:
    """An ``array`` whose rows have more cells than its column spec names (a TeX error:
    "Extra alignment tab") gets its spec extended by its last column type."""
    out = list(tokens)
    i = 0
    while i < len(out):
        if out[i] != "\\begin{array}" or i + 1 >= len(out) or out[i + 1] != "{":
            i += 1
            continue
        close = i + 2
        while close < len(out) and out[close] != "}":
            close += 1
        spec = out[i + 2 : close]
        columns = sum(1 for t in spec if t in _COLUMN_TYPES)
        cells, most, depth, j = 1, 1, 0, close + 1
        while j < len(out):
            t = out[j]
            if t == "{" or t.startswith("\\begin{"):
                depth += 1
            elif t == "}" or t.startswith("\\end{"):
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and t == "&":
                cells += 1
                most = max(most, cells)
            elif depth == 0 and t == "\\\\":
                cells = 1
            j += 1
        if close < len(out) and columns and most > columns:
            last = next(t for t in reversed(spec) if t in _COLUMN_TYPES)
            out[close:close] = [last] * (most - columns)
        i = close + 1
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
    """Drop braces that enclose the whole formula (``{ x + y }`` renders as ``x + y``), and a
    script with no base that is the whole formula (``^ { \\emptyset }``: an image cropped to
    its ink cannot show that it was raised)."""
    if len(tokens) >= 3 and tokens[0] in ("^", "_") and _one_group(tokens[1:]):
        tokens = tokens[1:]
    while _one_group(tokens):
        tokens = tokens[1:-1]
    return tokens


def _one_group(tokens: list[str]) -> bool:
    """The tokens are one brace group: ``{`` ... its matching ``}`` at the end."""
    if len(tokens) < 2 or tokens[0] != "{" or tokens[-1] != "}":
        return False
    depth = 0
    for t in tokens[:-1]:
        depth += (t == "{") - (t == "}")
        if depth == 0:
            return False  # the first group closes before the end
    return True


def compact_latex(tokens: list[str]) -> str:
    """Join tokens without spaces except where TeX needs one: after a control word, including
    one that ends a fused token (``\\left\\langle x``), and in a control space (a bare ``\\``
    token, as whitespace-stripped tokenisers write ``\\ ``, is joined as ``\\ ``)."""
    parts: list[str] = []
    prev = ""
    for t in tokens:
        if t == "\\":
            t = "\\ "
        if parts and _WORD.search(prev) and (t[0].isalpha() or t[0] == "*"):
            parts.append(" ")
        parts.append(t)
        prev = t
    return "".join(parts)
