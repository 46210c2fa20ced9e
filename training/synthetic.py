"""Random textbook-style formulas for training, written in im2markup tokens.

The arXiv pool teaches the model what papers write, and papers rarely nest the constructs a
textbook drills: a radical with an index appears in 0.05% of the pool's formulas, a radical
inside a radical in 0.006%, a fraction in a numerator in 0.1%, ``\\overbrace`` in 0.02%,
``\\div`` in 8 formulas of 194,266. This grammar draws expressions whose terms nest fractions,
radicals (with and without an index), scripts on scripts, delimiters sized with
``\\left``/``\\right``, big operators with limits, accents, braces over and under, binomials,
negated relations, and whole-formula environments (cases, matrices, arrays, aligned lines),
from a small alphabet of letters, digits, Greek letters and styled letters. Deterministic for
a given ``random.Random``; only tokens of the model's vocabulary are produced.

    from synthetic import formulas
    formulas(1000, seed=5)
"""

from __future__ import annotations

import random

LATIN = list("abcdefghijklmnopqrstuvwxyz") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
COMMON = list("abcnxyztkmijfgpqrsuvABCFMNPRSTXY")
GREEK = [
    r"\alpha",
    r"\beta",
    r"\gamma",
    r"\delta",
    r"\epsilon",
    r"\varepsilon",
    r"\zeta",
    r"\eta",
    r"\theta",
    r"\vartheta",
    r"\iota",
    r"\kappa",
    r"\lambda",
    r"\mu",
    r"\nu",
    r"\xi",
    r"\pi",
    r"\varpi",
    r"\rho",
    r"\varrho",
    r"\sigma",
    r"\varsigma",
    r"\tau",
    r"\upsilon",
    r"\phi",
    r"\varphi",
    r"\chi",
    r"\psi",
    r"\omega",
    r"\Gamma",
    r"\Delta",
    r"\Theta",
    r"\Lambda",
    r"\Xi",
    r"\Pi",
    r"\Sigma",
    r"\Upsilon",
    r"\Phi",
    r"\Psi",
    r"\Omega",
]
SPECIAL = [
    r"\infty",
    r"\partial",
    r"\nabla",
    r"\hbar",
    r"\ell",
    r"\aleph",
    r"\emptyset",
    r"\wp",
    r"\Re",
    r"\Im",
]
STYLES = {
    r"\mathbb": list("RNZQCPEF"),
    r"\mathcal": list("ABCDFGHLMNOPST"),
    r"\mathfrak": list("gAhsuSpq"),
    r"\mathbf": list("xyuvFABn"),
    r"\mathrm": list("deiTA"),
}
ACCENTS = [r"\hat", r"\bar", r"\vec", r"\tilde", r"\dot", r"\ddot", r"\check", r"\breve"]
BINARY = ["+", "-", "+", "-", r"\cdot", r"\times", r"\pm", r"\mp", r"\div", "/", r"\circ"]
RELATIONS = [
    "=",
    "=",
    "=",
    "<",
    ">",
    *[
        r"\leq",
        r"\geq",
        r"\neq",
        r"\approx",
        r"\equiv",
        r"\sim",
        r"\simeq",
        r"\cong",
        r"\propto",
        r"\to",
        r"\mapsto",
        r"\Rightarrow",
    ],
    *[
        r"\Leftrightarrow",
        r"\in",
        r"\notin",
        r"\subset",
        r"\subseteq",
        r"\ll",
        r"\gg",
        r"\perp",
        r"\mid",
        r"\parallel",
    ],
]
NEGATED = [r"\equiv", r"\in", r"\subset", r"=", r"\sim", r"\mid"]
FUNCTIONS = [
    r"\sin",
    r"\cos",
    r"\tan",
    r"\log",
    r"\ln",
    r"\exp",
    r"\sinh",
    r"\cosh",
    r"\arctan",
    r"\arcsin",
    r"\det",
    r"\dim",
    r"\ker",
    r"\deg",
]
LIMITS = [r"\lim", r"\max", r"\min", r"\sup", r"\inf", r"\limsup", r"\liminf"]
BIG_OPS = [
    r"\sum",
    r"\prod",
    r"\int",
    r"\oint",
    r"\iint",
    r"\iiint",
    r"\bigcup",
    r"\bigcap",
    r"\bigoplus",
    r"\coprod",
]
DELIMS = [
    (r"\left(", r"\right)"),
    (r"\left[", r"\right]"),
    (r"\left\{", r"\right\}"),
    (r"\left|", r"\right|"),
    (r"\left\|", r"\right\|"),
    (r"\left\langle", r"\right\rangle"),
    (r"\left\lfloor", r"\right\rfloor"),
    (r"\left\lceil", r"\right\rceil"),
]
WORDS = ["i f", "f o r", "o t h e r w i s e", "a d j", "d i v", "r a n k", "t r", "s g n"]


class Grammar:
    """One random formula per call; ``depth`` bounds how deep constructs nest."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def pick(self, items: list[str]) -> str:
        return self.r.choice(items)

    def number(self) -> list[str]:
        k = self.r.choices([1, 2, 3], [6, 3, 1])[0]
        digits = [str(self.r.randint(1, 9))] + [str(self.r.randint(0, 9)) for _ in range(k - 1)]
        if self.r.random() < 0.08:
            digits += [".", str(self.r.randint(0, 9))]
        return digits

    def atom(self) -> list[str]:
        x = self.r.random()
        if x < 0.42:
            return [self.pick(COMMON if self.r.random() < 0.7 else LATIN)]
        if x < 0.64:
            return self.number()
        if x < 0.80:
            return [self.pick(GREEK)]
        if x < 0.84:
            return [self.pick(SPECIAL)]
        if x < 0.93:
            style = self.pick(list(STYLES))
            return [style, "{", self.pick(STYLES[style]), "}"]
        return [self.pick(ACCENTS), "{", self.pick(COMMON), "}"]

    def group(self, depth: int, terms: int | None = None) -> list[str]:
        return ["{", *self.expr(depth, terms), "}"]

    def scripted(self, depth: int) -> list[str]:
        base = self.atom() if depth < 1 or self.r.random() < 0.85 else self.paren(depth)
        x = self.r.random()
        small = depth - 1
        if x < 0.4:
            return [*base, "^", *self.group(small, self.r.choice([1, 1, 2]))]
        if x < 0.7:
            return [*base, "_", *self.group(small, 1)]
        return [*base, "_", *self.group(small, 1), "^", *self.group(small, 1)]

    def paren(self, depth: int) -> list[str]:
        inner = self.expr(max(depth - 1, 0))
        if self.r.random() < 0.5:
            return ["(", *inner, ")"]
        left, right = self.r.choice(DELIMS)
        return [left, *inner, right]

    def term(self, depth: int) -> list[str]:
        if depth < 0:
            return self.atom()
        if depth == 0:
            return self.atom() if self.r.random() < 0.75 else self.scripted(0)
        d = depth - 1
        kinds = [
            "atom",
            "script",
            "frac",
            "sqrt",
            "root",
            "paren",
            "func",
            "bigop",
            "limit",
            "line",
            "brace",
            "binom",
            "exp",
        ]
        weights = [22, 18, 13, 7, 2.5, 9, 5, 6, 2, 3, 1, 1.5, 3]
        kind = self.r.choices(kinds, weights)[0]
        if kind == "atom":
            return self.atom()
        if kind == "script":
            return self.scripted(depth)
        if kind == "frac":
            return [r"\frac", *self.group(d), *self.group(d)]
        if kind == "sqrt":
            return [r"\sqrt", *self.group(d)]
        if kind == "root":
            index = self.number()[:1] if self.r.random() < 0.6 else [self.pick(list("nmk"))]
            return [r"\sqrt", "[", *index, "]", *self.group(d)]
        if kind == "paren":
            return self.paren(depth)
        if kind == "func":
            f = self.pick(FUNCTIONS)
            arg = self.paren(d) if self.r.random() < 0.4 else self.atom()
            if self.r.random() < 0.15:
                return [f, "^", "{", "2", "}", *arg]
            return [f, *arg]
        if kind == "bigop":
            op = self.pick(BIG_OPS)
            i = self.pick(list("iknj"))
            lower = self.r.choice(
                [[i, "=", *self.number()[:1]], [self.pick(list("CDSVX"))], [*self.atom()]]
            )
            out = [op, "_", "{", *lower, "}"]
            if self.r.random() < 0.6:
                out += ["^", "{", *self.r.choice([[self.pick(list("nNm"))], [r"\infty"]]), "}"]
            return [*out, *self.expr(d, self.r.choice([1, 1, 2]))]
        if kind == "limit":
            v = self.pick(list("xnth"))
            to = self.r.choice([["0"], [r"\infty"], [self.pick(list("ac"))]])
            return [self.pick(LIMITS), "_", "{", v, r"\to", *to, "}", *self.term(d)]
        if kind == "line":
            op = self.pick([r"\overline", r"\underline", r"\widehat", r"\widetilde"])
            return [op, *self.group(d, self.r.choice([1, 2]))]
        if kind == "brace":
            if self.r.random() < 0.5:
                return [r"\underbrace", *self.group(d, 2), "_", *self.group(0, 1)]
            return [r"\overbrace", *self.group(d, 2), "^", *self.group(0, 1)]
        if kind == "binom":
            return [r"\binom", *self.group(0, 1), *self.group(0, 1)]
        base = self.r.choice([["e"], ["2"], [self.pick(COMMON)]])
        return [*base, "^", *self.group(d, self.r.choice([1, 2]))]

    def expr(self, depth: int, terms: int | None = None) -> list[str]:
        n = terms if terms is not None else self.r.choices([1, 2, 3], [5, 4, 1])[0]
        out = self.term(depth)
        for _ in range(n - 1):
            if self.r.random() < 0.65:
                out.append(self.pick(BINARY))
            out += self.term(depth)
        return out

    def relation(self) -> list[str]:
        if self.r.random() < 0.06:
            return [r"\not", self.pick(NEGATED)]
        return [self.pick(RELATIONS)]

    def equation(self, depth: int) -> list[str]:
        out = self.expr(depth)
        for _ in range(self.r.choices([0, 1, 2], [2, 6, 1])[0]):
            out += [*self.relation(), *self.expr(depth)]
        return out

    def cell(self) -> list[str]:
        return self.expr(self.r.choice([0, 0, 1]), self.r.choice([1, 1, 2]))

    def environment(self) -> list[str]:
        kind = self.r.choice(["cases", "matrix", "array", "aligned"])
        rows = self.r.choice([2, 2, 3])
        if kind == "cases":
            body: list[str] = []
            for k in range(rows):
                body += self.expr(1, self.r.choice([1, 2]))
                if self.r.random() < 0.7:
                    cond = [*self.atom(), *self.relation(), *self.atom()]
                    word = self.pick(WORDS).split() if self.r.random() < 0.4 else []
                    body += ["&", *([r"\mathrm", "{", *word, "}"] if word else []), *cond]
                if k < rows - 1:
                    body.append(r"\\")
            head = [*self.expr(1, 1), "="] if self.r.random() < 0.7 else []
            return [*head, r"\begin{cases}", *body, r"\end{cases}"]
        if kind == "aligned":
            body = []
            for k in range(rows):
                left = self.expr(1, self.r.choice([1, 2])) if k == 0 else []
                body += [*left, "&", *self.relation(), *self.expr(1, self.r.choice([1, 2]))]
                if k < rows - 1:
                    body.append(r"\\")
            return [r"\begin{aligned}", *body, r"\end{aligned}"]
        cols = self.r.choice([2, 2, 3])
        body = []
        for k in range(rows):
            for c in range(cols):
                body += self.cell()
                if c < cols - 1:
                    body.append("&")
            if k < rows - 1:
                body.append(r"\\")
        if kind == "matrix":
            inner = [r"\begin{matrix}", *body, r"\end{matrix}"]
        else:
            align = [self.pick(list("clr")) for _ in range(cols)]
            inner = [r"\begin{array}", "{", *align, "}", *body, r"\end{array}"]
        left, right = self.r.choice([DELIMS[0], DELIMS[1], DELIMS[3], DELIMS[4], ("", "")])
        wrapped = [left, *inner, right] if left else inner
        if self.r.random() < 0.4:
            return [self.pick(list("AMPX")), "=", *wrapped]
        return wrapped

    def formula(self) -> list[str]:
        if self.r.random() < 0.15:
            return self.environment()
        return self.equation(self.r.choices([1, 2, 3], [3, 4, 2])[0])


def formulas(n: int, seed: int, vocab: set[str] | None = None, max_tokens: int = 150) -> list[str]:
    """``n`` distinct formulas (space-separated tokens) of at most ``max_tokens`` tokens."""
    g = Grammar(random.Random(seed))
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        toks = [t for t in g.formula() if t]
        if not 2 <= len(toks) <= max_tokens:
            continue
        if vocab is not None and any(t not in vocab for t in toks):
            raise ValueError(f"token outside the vocabulary in {' '.join(toks)}")
        f = " ".join(toks)
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


if __name__ == "__main__":
    for f in formulas(25, seed=5):
        print(f)
