"""TeX's atoms in a token sequence: which symbols stand side by side at the formula's base
level, and the atom class (ordinary, operator, binary, relation, opening, closing,
punctuation, inner) each has towards its neighbours. The spacing and delimiter modules
measure the ink gaps of these pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# explicit spaces and their widths in em (mu = 1/18 em; a control space is the text font's
# interword space: 0.326 em in cmr12)
SPACE_WIDTHS: dict[str, float] = {
    "\\,": 1 / 6,
    "\\:": 2 / 9,
    "\\;": 5 / 18,
    "\\ ": 0.326,
    "~": 0.326,
    "\\quad": 1.0,
    "\\qquad": 2.0,
    "\\!": -1 / 6,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FONTS = _words(
    r"\mathrm \mathbf \mathit \mathsf \mathtt \mathbb \mathcal \textrm \textbf \textit \textup"
    r" \boldsymbol \operatorname \text \mbox \mathfrak \emph"
)
_SWITCHES = _words(r"\cal \bf \rm \it \sf \tt \mit \sl \em")
_ACCENTS = _words(
    r"\hat \bar \tilde \vec \dot \ddot \check \breve \acute \grave \widehat \widetilde"
    r" \overline \underline"
)
SIZES = _words(
    r"\big \Big \bigg \Bigg \bigl \bigr \Bigl \Bigr \biggl \biggr \Biggl \Biggr \bigm \Bigm"
    r" \biggm"
)
# tokens that may stand between two symbols side by side besides spaces: group braces,
# font commands and switches, delimiter sizes
_PASSABLE = frozenset({"{", "}"}) | _FONTS | _SWITCHES | SIZES
_NO_INK = (
    _words(
        r"{ } ^ _ & \\ \prime \left \right \left. \right. \not \frac \sqrt \binom \over \atop \stackrel"
    )
    | _words(r"\limits \overbrace \underbrace \hspace \kern \mathop \hfill")
    | frozenset(SPACE_WIDTHS)
    | _FONTS
    | _SWITCHES
    | _ACCENTS
    | SIZES
)
# constructs that draw ink of their own (a fraction's bar, a radical, an accent)
DRAWN = _words(r"\frac \sqrt \binom") | _ACCENTS
# symbols whose glyphs lie side by side (their gap would be measured from a part)
_SPREAD = _words(r"\ldots \cdots \dots \ddots -- --- % ") | {'"'}
_OPERATOR_NAMES = _words(
    r"\sin \cos \tan \cot \sec \csc \sinh \cosh \tanh \coth \log \ln \exp \lim \max \min \sup"
    r" \inf \det \dim \ker \deg \arg \gcd \hom \Pr \lg \arcsin \arccos \arctan \liminf"
    r" \limsup \bmod"
)
_REL = _words(
    r"= < > : \le \leq \ge \geq \equiv \approx \sim \simeq \cong \ne \neq \to \rightarrow"
    r" \leftarrow \Rightarrow \Leftarrow \leftrightarrow \Leftrightarrow \longrightarrow"
    r" \longleftarrow \Longrightarrow \mapsto \in \ni \notin \subset \supset \subseteq"
    r" \supseteq \propto \ll \gg \prec \succ \perp \parallel \mid \vdash \models \doteq"
    r" \asymp \leqq \geqq \lesssim \gtrsim \preceq \succeq \gets \uparrow \downarrow"
)
_BIN = _words(
    r"+ - * \pm \mp \times \cdot \circ \otimes \oplus \wedge \vee \cap \cup \ast \star"
    r" \bullet \div \setminus \odot \ominus \sqcup \sqcap \land \lor \amalg \diamond \ltimes"
    r" \rtimes \dagger"
)
_OPEN = _words(
    r"( [ \{ \langle \lbrace \lbrack \lfloor \lceil \left( \left[ \left\{ \left< \left|"
    r" \left\|"
)
_CLOSE = _words(
    r") ] \} \rangle \rbrace \rbrack \rfloor \rceil \right) \right] \right\} \right>"
    r" \right| \right\| \right/ !"
)
_PUNCT = _words(", ;")
_BIG_OPS = _words(r"\sum \prod \coprod \bigcup \bigcap \bigoplus \bigotimes \bigvee \bigwedge")
OPS = _OPERATOR_NAMES | _BIG_OPS | _words(r"\int \oint \iint \iiint \intop")
# symbols whose own ink starts right of their box when limits or letters come first (an
# operator's limits below it, an operator name read from one of its letters)
_LIMITS = _OPERATOR_NAMES | _BIG_OPS
# atoms after which a binary operator is unary (TeX makes it an ordinary symbol)
_BEFORE_UNARY = frozenset({"rel", "open", "bin", "op", "punct", ""})
# symbols TeX may draw larger than their own height: not for the em
SIZED_BY_TEX = OPS | _OPEN | _CLOSE | _words(r"| \| / \vert \Vert \mid \backslash")
# the atom a delimiter sized with \\bigl, \\bigr, \\bigm is (\\big alone: ordinary)
_SIZED = {"l": "open", "r": "close", "m": "rel"}
# the em is estimated from symbols of one size: not delimiters or operators TeX may
# enlarge, not marks a pixel or two high
MIN_HEIGHT_EM = 0.3


def _atom(token: str) -> str:
    """TeX's atom class of a symbol (before binary operators that are unary are found)."""
    for cls, members in (
        ("rel", _REL),
        ("bin", _BIN),
        ("open", _OPEN),
        ("close", _CLOSE),
        ("punct", _PUNCT),
        ("op", OPS),
    ):
        if token in members:
            return cls
    return "ord"


def inked(token: str) -> bool:
    return (
        token not in _NO_INK and not token.startswith("\\begin") and not token.startswith("\\end")
    )


@dataclass(frozen=True, slots=True)
class Slot:
    """Two symbols side by side at the formula's base level, and what stands between them."""

    first: int  # token index where the atom ending in the left symbol starts (a fraction's
    # \\frac, a script's base): its components are the atom's ink
    left: int  # token index of the symbol before
    right: int  # token index of the symbol after
    spaces: tuple[int, ...]  # token indices of the explicit spaces between them
    key: str  # "left atom>right atom>what closes between" (script, frac, sqrt, accent, glyph)
    after: int  # where a space goes: after the groups that close behind the left symbol

    @property
    def base_sized(self) -> tuple[int, ...]:
        """Its symbols set at the formula's base size: not the left one when it ends a script
        or a fraction (a fraction's parts are smaller outside display style)."""
        return (self.right,) if self.key.endswith((">script", ">frac")) else (self.left, self.right)


# groups whose symbols are not at base level (or not symbols: an array's column letters)
_NOT_BASE = frozenset({"script", "index", "columns"})


def _group(
    tokens: Sequence[str], k: int, closed: list[tuple[str, int]], last: int
) -> tuple[str, int]:
    """The kind of group the brace at ``k`` opens and the token where its construct starts."""
    p = tokens[k - 1] if k else ""
    if p.startswith("\\begin"):
        return "columns", k  # an array's column letters
    if p in ("^", "_"):
        if k >= 2 and tokens[k - 2] == "}" and closed and closed[-1][0] == "script":
            return "script", closed[-1][1]  # the second script of the same base
        return "script", max(last, 0)
    if p in ("\\frac", "\\binom"):
        return "numerator", k - 1
    if p == "}" and closed and closed[-1][0] == "numerator":
        return "frac", closed[-1][1]
    if p in ("\\sqrt", "]"):
        return "sqrt", k - 1
    if p in _ACCENTS:
        return "accent", k - 1
    return "group", k


def _atoms(tokens: Sequence[str], k: int) -> tuple[str, str]:
    """The atom class symbol ``k`` has towards the symbol before it and towards the one
    after: ``\\left(`` opens an inner atom (inner, then open inside it), ``\\right)`` closes
    one (close, then inner); ``\\big(`` is an ordinary symbol, ``\\bigm|`` a relation."""
    t = tokens[k]
    if t.startswith("\\left"):
        return "inner", "open"
    if t.startswith("\\right"):
        return "close", "inner"
    size = tokens[k - 1] if k else ""
    atom = _atom(t)
    if size in SIZES and atom in ("open", "close", "ord"):
        atom = _SIZED.get(size[-1], "ord")
    return atom, atom


def slots(tokens: Sequence[str]) -> list[Slot]:
    """The pairs of consecutive symbols at base level (not in a script) that only spaces,
    group braces, font commands or delimiter sizes separate (not a numerator's last symbol
    and its denominator's first)."""
    stack: list[tuple[str, int]] = []
    out: list[Slot] = []
    last, last_atom = -1, ""
    atoms: dict[int, str] = {}  # each symbol's atom class
    closed: list[tuple[str, int]] = []  # groups closed since the last symbol
    opened: list[str] = []  # and opened
    between: list[int] = []
    after = -1
    for k, t in enumerate(tokens):
        if t == "{":
            group = _group(tokens, k, closed, last)
            stack.append(group)
            opened.append(group[0])
            between.append(k)
            continue
        if t == "}" or (t == "]" and stack[-1:] and stack[-1][0] == "index"):
            closed.append(stack.pop() if stack else ("group", k))
            between.append(k)
            if after == k - 1 and t == "}":
                after = k
            continue
        if t == "[" and k and tokens[k - 1] == "\\sqrt":
            stack.append(("index", k - 1))  # a radical's index: small, raised
            between.append(k)
            continue
        if not inked(t):
            between.append(k)
            continue
        kinds = {g for g, _ in closed}
        ctx = next((c for c in ("script", "frac", "sqrt", "accent") if c in kinds), "glyph")
        first = min([last, *(start for _, start in closed)])
        # a symbol with scripts spaces as its base does (an operator's limits: op)
        left_atom = atoms.get(first, last_atom) if ctx == "script" else last_atom
        atom, then = _atoms(tokens, k)
        # a binary operator first in a group, or after what it cannot follow, is unary
        if atom == "bin" and ("" if opened else left_atom) in _BEFORE_UNARY:
            atom = then = "ord"
        if (
            last >= 0
            and not any(g in _NOT_BASE for g, _ in stack)
            and not any(g == "columns" for g, _ in closed)
            and "frac" not in opened
            and all(tokens[b] in _PASSABLE or tokens[b] in SPACE_WIDTHS for b in between)
            and tokens[last] not in _SPREAD
            and t not in _SPREAD
            and t not in _LIMITS
        ):
            spaces = tuple(b for b in between if tokens[b] in SPACE_WIDTHS)
            out.append(Slot(first, last, k, spaces, f"{left_atom}>{atom}>{ctx}", after))
        atoms[k] = then
        last, last_atom, after = k, then, k
        closed, opened, between = [], [], []
    return out
