"""Output formats: MathML (latex2mathml), AsciiMath and Mathpix Markdown from LaTeX."""

from __future__ import annotations

import logging

from scipix.errors import LatexError
from scipix.postprocess import tokenize_latex

log = logging.getLogger(__name__)

_ASCII_NAMES = {
    "\\alpha": "alpha",
    "\\beta": "beta",
    "\\gamma": "gamma",
    "\\Gamma": "Gamma",
    "\\delta": "delta",
    "\\Delta": "Delta",
    "\\epsilon": "epsilon",
    "\\varepsilon": "epsilon",
    "\\zeta": "zeta",
    "\\eta": "eta",
    "\\theta": "theta",
    "\\Theta": "Theta",
    "\\vartheta": "vartheta",
    "\\iota": "iota",
    "\\kappa": "kappa",
    "\\lambda": "lambda",
    "\\Lambda": "Lambda",
    "\\mu": "mu",
    "\\nu": "nu",
    "\\xi": "xi",
    "\\Xi": "Xi",
    "\\pi": "pi",
    "\\Pi": "Pi",
    "\\rho": "rho",
    "\\sigma": "sigma",
    "\\Sigma": "Sigma",
    "\\tau": "tau",
    "\\upsilon": "upsilon",
    "\\phi": "phi",
    "\\Phi": "Phi",
    "\\varphi": "varphi",
    "\\chi": "chi",
    "\\psi": "psi",
    "\\Psi": "Psi",
    "\\omega": "omega",
    "\\Omega": "Omega",
    "\\pm": "+-",
    "\\mp": "-+",
    "\\times": "xx",
    "\\div": "-:",
    "\\cdot": "*",
    "\\ast": "**",
    "\\leq": "<=",
    "\\le": "<=",
    "\\geq": ">=",
    "\\ge": ">=",
    "\\neq": "!=",
    "\\ne": "!=",
    "\\approx": "~~",
    "\\sim": "~",
    "\\simeq": "~=",
    "\\cong": "~=",
    "\\equiv": "-=",
    "\\propto": "prop",
    "\\in": "in",
    "\\notin": "!in",
    "\\subset": "sub",
    "\\supset": "sup",
    "\\subseteq": "sube",
    "\\supseteq": "supe",
    "\\cup": "uu",
    "\\cap": "nn",
    "\\emptyset": "O/",
    "\\infty": "oo",
    "\\partial": "del",
    "\\nabla": "grad",
    "\\forall": "AA",
    "\\exists": "EE",
    "\\neg": "neg",
    "\\wedge": "^^",
    "\\vee": "vv",
    "\\to": "->",
    "\\rightarrow": "->",
    "\\leftarrow": "larr",
    "\\Rightarrow": "=>",
    "\\Leftrightarrow": "<=>",
    "\\mapsto": "|->",
    "\\ldots": "...",
    "\\cdots": "cdots",
    "\\dots": "...",
    "\\vdots": "vdots",
    "\\ddots": "ddots",
    "\\int": "int",
    "\\oint": "oint",
    "\\sum": "sum",
    "\\prod": "prod",
    "\\langle": "(:",
    "\\rangle": ":)",
    "\\circ": "@",
    "\\prime": "'",
    "\\hbar": "h",
    "\\ell": "l",
    "\\{": "{",
    "\\}": "}",
    "\\|": "||",
    "\\,": " ",
    "\\;": " ",
    "\\:": " ",
    "\\!": "",
    "\\quad": " ",
    "\\qquad": " ",
    "~": " ",
    "\\lbrace": "{",
    "\\rbrace": "}",
    "\\vert": "|",
    "\\mid": "|",
    "\\lfloor": "|__",
    "\\rfloor": "__|",
    "\\lceil": "|~",
    "\\rceil": "~|",
    "\\bigcup": "uuu",
    "\\bigcap": "nnn",
}
_FUNCS = {
    "\\sin",
    "\\cos",
    "\\tan",
    "\\cot",
    "\\sec",
    "\\csc",
    "\\log",
    "\\ln",
    "\\exp",
    "\\lim",
    "\\max",
    "\\min",
    "\\det",
    "\\sinh",
    "\\cosh",
    "\\tanh",
    "\\arcsin",
    "\\arccos",
    "\\arctan",
    "\\sup",
    "\\inf",
    "\\gcd",
    "\\dim",
    "\\ker",
    "\\deg",
}
_FONT = {
    "\\mathrm",
    "\\mathbf",
    "\\mathit",
    "\\mathcal",
    "\\mathbb",
    "\\mathsf",
    "\\mathtt",
    "\\mathfrak",
    "\\boldsymbol",
    "\\bm",
    "\\text",
    "\\textrm",
    "\\textbf",
    "\\operatorname",
}
_ACCENT = {
    "\\hat": "hat",
    "\\widehat": "hat",
    "\\bar": "bar",
    "\\overline": "bar",
    "\\vec": "vec",
    "\\dot": "dot",
    "\\ddot": "ddot",
    "\\tilde": "tilde",
    "\\widetilde": "tilde",
    "\\underline": "ul",
}
_FONT_ASCII = {
    "\\mathbb": "bbb",
    "\\mathcal": "cc",
    "\\mathbf": "bb",
    "\\mathfrak": "fr",
    "\\mathsf": "sf",
    "\\mathtt": "tt",
    "\\boldsymbol": "bb",
    "\\bm": "bb",
}


def to_mathml(latex: str) -> str:
    """MathML for a LaTeX formula (latex2mathml); raises LatexError if it cannot parse."""
    from latex2mathml.converter import convert

    try:
        return str(convert(latex))
    except Exception as exc:  # latex2mathml raises many exception types
        raise LatexError(f"cannot convert to MathML: {exc}") from None


class _AsciiWriter:
    def __init__(self, tokens: list[str]) -> None:
        self.t = tokens
        self.i = 0

    def group(self) -> str:
        """One argument: a braced group or a single token."""
        if self.i >= len(self.t):
            return ""
        if self.t[self.i] == "{":
            self.i += 1
            body = self.seq(stop="}")
            self.i += 1
            return body
        return self.atom()

    def seq(self, stop: str = "") -> str:
        out: list[str] = []
        while self.i < len(self.t) and self.t[self.i] != stop:
            out.append(self.atom())
        return " ".join(s for s in out if s)

    def _paren(self, s: str) -> str:
        return s if len(s) == 1 or s.isalnum() else f"({s})"

    def atom(self) -> str:
        tok = self.t[self.i]
        self.i += 1
        if tok == "{":
            body = self.seq(stop="}")
            self.i += 1
            return body
        if tok in ("^", "_"):
            return tok + self._paren(self.group())
        if tok in ("\\frac", "\\dfrac", "\\tfrac"):
            a, b = self.group(), self.group()
            return f"({a})/({b})"
        if tok == "\\binom":
            a, b = self.group(), self.group()
            return f"(({a}),({b}))"
        if tok == "\\sqrt":
            if self.i < len(self.t) and self.t[self.i] == "[":
                self.i += 1
                idx = self.seq(stop="]")
                self.i += 1
                return f"root({idx})({self.group()})"
            return f"sqrt({self.group()})"
        if tok in _ACCENT:
            return f"{_ACCENT[tok]}({self.group()})"
        if tok in _FONT:
            body = self.group()
            if tok in _FONT_ASCII:
                return f"{_FONT_ASCII[tok]}({body})"
            return (
                f'"{body.replace(" ", "")}"'
                if tok.startswith(("\\text", "\\mathrm", "\\operatorname"))
                else body
            )
        if tok in ("\\left", "\\right"):
            d = self.t[self.i] if self.i < len(self.t) else "."
            self.i += 1
            return "" if d == "." else _ASCII_NAMES.get(d, d)
        if tok.startswith("\\begin{"):
            if self.i < len(self.t) and self.t[self.i] == "{":  # column spec
                self.group()
            rows: list[list[str]] = []
            row: list[str] = []
            cell: list[str] = []
            end = "\\end" + tok[len("\\begin") :]
            while self.i < len(self.t) and self.t[self.i] != end:
                if self.t[self.i] == "&":
                    row.append(" ".join(cell))
                    cell = []
                    self.i += 1
                elif self.t[self.i] == "\\\\":
                    row.append(" ".join(cell))
                    rows.append(row)
                    row, cell = [], []
                    self.i += 1
                else:
                    cell.append(self.atom())
            self.i += 1
            if cell or row:
                row.append(" ".join(cell))
                rows.append(row)
            return "[" + ",".join("[" + ",".join(r) + "]" for r in rows) + "]"
        if tok in _FUNCS:
            return tok[1:]
        if tok in _ASCII_NAMES:
            return _ASCII_NAMES[tok]
        if tok.startswith("\\"):
            return tok[1:]
        return tok


def to_asciimath(latex: str) -> str:
    """AsciiMath for a LaTeX formula (best effort over the common constructs)."""
    return _AsciiWriter(tokenize_latex(latex)).seq().strip()


def to_markdown(latex: str, delimiters: tuple[str, str] = ("\\(", "\\)")) -> str:
    """Mathpix Markdown for one formula: the LaTeX between math delimiters."""
    if not latex:
        return ""
    return f"{delimiters[0]} {latex} {delimiters[1]}"


__all__ = ["to_asciimath", "to_markdown", "to_mathml"]
